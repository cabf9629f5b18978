// The baseline: a bare Fastify route with nothing of ours behind it, on any free port.
import Fastify from 'fastify';
import { reportListening } from './server-process.js';

const app = Fastify({ logger: false });
app.get('/bare', () => ({ ok: true }));
reportListening(await app.listen({ host: '127.0.0.1', port: 0 }));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
