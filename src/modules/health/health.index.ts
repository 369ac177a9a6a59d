import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { liveness, readiness } from './health.handlers.ts';
import { livenessRoute, readinessRoute } from './health.routes.ts';

/** GET (and so HEAD) /health and /health/ready. */
export function registerHealth(app: OpenAPIHono<AppEnv>): void {
  app.openapi(livenessRoute, liveness);
  app.openapi(readinessRoute, readiness);
}
