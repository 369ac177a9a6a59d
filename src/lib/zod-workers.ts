// What `zod` resolves to in the Worker bundle (wrangler.toml [alias]; Node, Deno and the tests
// import the real package). @hono/zod-openapi imports zod's whole `z` namespace and hands it to
// extendZodWithOpenApi, so a bundler must keep every member of it: 40-odd locales, JSON Schema
// import and export, the schema compiler and `z.core`. That is about 55 KiB of the gzipped Worker
// for nothing a route uses. This module is zod with those members replaced, so the namespace
// @hono/zod-openapi captures is the slim one; English messages stay configured as in zod itself.
import en from 'zod/v4/locales/en.js';
import * as slim from './zod-workers.ts';

export * from 'zod/v4';
export const z: Record<string, unknown> = slim;
export default z;

export const locales = { en };

function leftOut(name: string): never {
  throw new Error(
    `${name} is left out of the Worker bundle to keep it small (src/lib/zod-workers.ts)`,
  );
}

export const compile = (): never => leftOut('z.compile');
export const withParser = (): never => leftOut('z.withParser');
export const toJSONSchema = (): never => leftOut('z.toJSONSchema');
export const fromJSONSchema = (): never => leftOut('z.fromJSONSchema');

/** Types from `z.core` still work everywhere; reading a runtime value from it fails clearly. */
export const core: Record<string, unknown> = new Proxy(
  {},
  {
    get: (_target, key) =>
      typeof key === 'string' && key !== 'then' ? leftOut(`z.core.${key}`) : undefined,
  },
);
