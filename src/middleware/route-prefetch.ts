// Redis reads a route needs, begun before the general rate limit so that they leave in its round
// trip: a cached route's read (request-cache.ts), a route policy's count (rate-limit.ts). A module
// declares them beside the routes it mounts, from the route definitions themselves, so a path or
// method cannot drift; the app mounts every module's prefetches right before rateLimit('general').
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';

export interface RoutePrefetch {
  /** In Hono's syntax (`/v1/users/:id`). */
  path: string;
  handler: MiddlewareHandler<AppEnv>;
}

/** The route a prefetch is for, as createRoute defines it. */
export interface PrefetchedRoute {
  method: string;
  getRoutingPath(): string;
}
