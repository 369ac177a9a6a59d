// One structured line per request, written when the response leaves: the request's wide event
// (whatever handlers added to c.get('event')) plus method, path, status and duration.
import { createMiddleware } from 'hono/factory';
import type { RequestEnv } from '../lib/request-env.ts';

export const requestLog = () =>
  createMiddleware<RequestEnv>(async (c, next) => {
    const started = performance.now();
    c.set('event', {});
    await next();
    const status = c.res.status;
    c.get('deps').logger.log(status >= 500 ? 'error' : 'info', 'request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...c.get('event'),
    });
  });
