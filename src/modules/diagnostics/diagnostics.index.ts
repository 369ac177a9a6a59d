import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Config } from '../../config.ts';
import { echo, uncaughtError } from './diagnostics.handlers.ts';
import { echoRoute, uncaughtErrorRoute } from './diagnostics.routes.ts';

/** GET /diagnostics/error and POST /diagnostics/echo, in the test environment only. */
export function registerDiagnostics(app: OpenAPIHono<AppEnv>, config: Config): void {
  if (config.APP_ENV !== 'test') return;
  app.openapi(uncaughtErrorRoute, uncaughtError);
  app.openapi(echoRoute, echo);
}
