// One structured line per request, written when the response leaves: the request's wide event
// (whatever handlers added to c.get('event')) plus its ids, method, route, path, status and
// duration. The route is the pattern that answered (`/v1/products/:id`), to group requests by; the
// path is the one asked for, to find one.
import { createMiddleware } from 'hono/factory';
import type { RequestEnv } from '../lib/request-env.ts';
import { routePattern } from '../lib/route-pattern.ts';

export const requestLog = () =>
  createMiddleware<RequestEnv>(async (c, next) => {
    const started = performance.now();
    c.set('event', {});
    await next();
    const status = c.res.status;
    c.get('deps').logger.log(status >= 500 ? 'error' : 'info', 'request', {
      requestId: c.get('requestId'),
      traceId: c.get('trace').traceId,
      method: c.req.method,
      route: routePattern(c),
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...c.get('event'),
    });
  });
