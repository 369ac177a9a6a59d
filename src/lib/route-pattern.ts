// The route that answered a request, as it was registered (`/v1/products/:id`): what logs and
// metrics label a request with, so a label does not grow with every id a client sends.
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/** A request no route answered (404, 405): one label for all of them. */
export const unmatchedRoute = 'unmatched';

/**
 * The pattern of the handler that answered. Middleware is registered for every method (`ALL`),
 * handlers for their own; of the handlers whose pattern matches (`/v1/users/search` and
 * `/v1/users/:id`), the first registered answers, and the others never run.
 */
export function routePattern(c: Context): string {
  return matchedRoutes(c).find((route) => route.method !== 'ALL')?.path ?? unmatchedRoute;
}
