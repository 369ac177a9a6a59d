// The cache as a request sees it: each read's outcome lands on the request's log line
// (`cache: "hit"`, or a list when a request reads more than once), and the fill after a miss runs
// after the response where the runtime allows (waitUntil).
//
// A cached route's read can leave with the rate-limit check, in one Redis round trip: its module
// declares `cacheReadPrefetch(route, group, keyOf)` beside the route, and the app mounts it before
// the general rate limit (a route with its own policy starts it in its route middleware). Nothing
// is answered from it early: the route's own getOrSet of that group and key awaits the read, once
// authentication and the rate limit have passed; a refused request drops it.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { waitUntil } from '../lib/wait-until.ts';
import { type Cache, createCache } from '../platform/cache.ts';
import type { PrefetchedRoute, RoutePrefetch } from './route-prefetch.ts';

export function requestCache(c: Context<AppEnv>): Cache {
  const event = c.get('event');
  return createCache(c.get('deps'), {
    observe: ({ outcome }) => {
      event.cache = event.cache === undefined ? outcome : [event.cache, outcome].flat();
    },
    defer: (work) => waitUntil(c, 'cache fill', work),
    prefetched: c.get('cachePrefetch'),
  });
}

/** A cache group's name, fixed or made from the entry's key (a group per item). */
type GroupOf = string | ((key: string) => string);

/**
 * Starts the cache read of a request with this method (GET unless told), keyed by keyOf
 * (undefined: no read), in the rate limit's tick.
 */
export const prefetchCacheRead = (
  group: GroupOf,
  keyOf: (c: Context<AppEnv>) => string | undefined,
  method = 'GET',
) =>
  createMiddleware<AppEnv>((c, next) => {
    const key = c.req.method === method ? keyOf(c) : undefined;
    if (key !== undefined) {
      const name = typeof group === 'string' ? group : group(key);
      c.set('cachePrefetch', requestCache(c).group(name).prefetch(key));
    }
    return next();
  });

/** A cached route's read, begun with the general rate limit. */
export function cacheReadPrefetch(
  route: PrefetchedRoute,
  group: GroupOf,
  keyOf: (c: Context<AppEnv>) => string | undefined,
): RoutePrefetch {
  return {
    path: route.getRoutingPath(),
    handler: prefetchCacheRead(group, keyOf, route.method.toUpperCase()),
  };
}
