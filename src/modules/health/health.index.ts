import { moduleRoutes } from '../../module-routes.ts';
import { livenessHandler, readinessHandler } from './health.handlers.ts';
import { livenessRoute, readinessRoute } from './health.routes.ts';

/** GET (and so HEAD) /health and /health/ready. */
export const healthRoutes = moduleRoutes()
  .openapi(livenessRoute, livenessHandler)
  .openapi(readinessRoute, readinessHandler);
