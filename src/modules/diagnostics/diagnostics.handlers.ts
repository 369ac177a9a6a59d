import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import type { echoRoute, uncaughtErrorRoute } from './diagnostics.routes.ts';

/**
 * The kind of text a real fault carries (SQL, a secret) and a client must never see: the e2e
 * suite looks for it in the log line and for its absence in the response.
 */
export const internalFaultText = 'diagnostics fault: SELECT secret FROM credentials';

export const uncaughtErrorHandler: RouteHandler<typeof uncaughtErrorRoute, AppEnv> = () => {
  throw new Error(internalFaultText);
};

export const echoHandler: RouteHandler<typeof echoRoute, AppEnv> = (c) =>
  ok(c, c.req.valid('json'), 200);
