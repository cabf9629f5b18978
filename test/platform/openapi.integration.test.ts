// The served API description: every operation says what it does, so /api/docs reads as a manual.
import { expect, it } from 'vitest';
import { describeEngines } from '../helpers/engines.js';
import { useTestApp } from '../helpers/app.js';

describeEngines('OpenAPI document', (engine) => {
  const ctx = useTestApp(engine);

  it('gives every operation a summary and a tag', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => ({ label: `${m.toUpperCase()} ${path}`, op })),
    );
    expect(ops.length).toBeGreaterThan(80);
    expect(ops.filter((o) => !o.op.summary?.trim()).map((o) => o.label)).toEqual([]);
    expect(ops.filter((o) => !o.op.tags?.length).map((o) => o.label)).toEqual([]);
  });
});
