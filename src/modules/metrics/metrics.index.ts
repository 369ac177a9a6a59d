import { moduleRoutes } from '../../module-routes.ts';
import { getMetricsHandler } from './metrics.handlers.ts';
import { getMetricsRoute } from './metrics.routes.ts';

export { countRequests } from './api-metrics.ts';

/** GET /metrics. */
export const metricsRoutes = moduleRoutes().openapi(getMetricsRoute, getMetricsHandler);
