// The cache as a request sees it: each read's outcome lands on the request's log line
// (`cache: "hit"`, or a list when a request reads more than once), and the fill after a miss runs
// after the response where the runtime allows (waitUntil).
import type { Context } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { type Cache, createCache } from './cache.ts';
import { waitUntil } from './wait-until.ts';

export function requestCache(c: Context<AppEnv>): Cache {
  const { event } = c.var;
  return createCache(c.var.deps, {
    observe: ({ outcome }) => {
      event.cache = event.cache === undefined ? outcome : [event.cache, outcome].flat();
    },
    defer: (work) => waitUntil(c, 'cache fill', work),
  });
}
