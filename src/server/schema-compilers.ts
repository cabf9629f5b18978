// Route schemas compiled once per process. Fastify builds a new ajv validator and a new
// fast-json-stringify serializer for every route of every app instance it creates; with 250 routes
// that is most of what building the app costs. One process runs one app in production, but the
// CLI, the tests and the benchmarks build many. The compilers here are Fastify's own (resolved
// through Fastify, so the version is the one it would use), and a compiled function is reused for
// a schema of the same JSON, the same part of the request (or the same response status) and the
// same compiler options — it is a pure function of those.
import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<Compilers['buildValidator']>;
type SerializerFactory = NonNullable<Compilers['buildSerializer']>;

type Route = { schema: unknown; httpPart?: string; httpStatus?: string; contentType?: string };
type Factory = (externalSchemas: any, options: any) => (route: any) => unknown;

const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const ajvFactory = (fromFastify('@fastify/ajv-compiler') as () => ValidatorFactory)();
const serializerFactory = (fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerFactory)();

/** Memoise what `compile` returns, by the route part and the schema's JSON. */
function memoised<F extends Factory>(factory: F): F {
  // The factories pool one compiler per set of external schemas and options, so the compile
  // function they hand out stands for those; keep one memo per compile function.
  const memos = new WeakMap<object, Map<string, unknown>>();
  return ((externalSchemas: unknown, options: unknown) => {
    const compile = factory(externalSchemas, options);
    let memo = memos.get(compile);
    if (!memo) memos.set(compile, (memo = new Map()));
    const cache = memo;
    return (route: Route) => {
      const key = `${route.httpPart ?? ''}|${route.httpStatus ?? ''}|${route.contentType ?? ''}|${JSON.stringify(route.schema)}`;
      let fn = cache.get(key);
      if (fn === undefined) cache.set(key, (fn = compile(route)));
      return fn;
    };
  }) as F;
}

/**
 * Fastify's `schemaController.compilersFactory`. Fastify lower-cases the keys of a `headers` schema
 * only for its default compiler, so buildApp refuses a route with one.
 */
export const sharedCompilers = {
  buildValidator: memoised(ajvFactory),
  buildSerializer: memoised(serializerFactory),
};
