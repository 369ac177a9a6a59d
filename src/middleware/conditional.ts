// Runs a middleware only for the requests a predicate picks (the seed's conditionalMiddleware),
// e.g. rate limiting everything but the health probes.
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';

export function when(
  predicate: (c: Context<AppEnv>) => boolean,
  middleware: MiddlewareHandler<AppEnv>,
): MiddlewareHandler<AppEnv> {
  return (c, next) => (predicate(c) ? middleware(c, next) : next());
}

export function pathStartsWith(...prefixes: string[]): (c: Context<AppEnv>) => boolean {
  return (c) =>
    prefixes.some((prefix) => c.req.path === prefix || c.req.path.startsWith(`${prefix}/`));
}
