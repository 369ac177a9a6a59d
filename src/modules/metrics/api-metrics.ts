// The edge API's series: counted by every request while METRICS_ENABLED, under METRICS_PREFIX on
// the request's own Redis client.
import type { AppEnv } from '../../app-env.ts';
import type { Deps } from '../../deps.ts';
import { requestMetrics } from '../../middleware/metrics.ts';
import { createMetricsStore, type MetricsStore } from '../../platform/metrics.ts';

export const apiMetricsStore = (deps: Deps): MetricsStore =>
  createMetricsStore(deps.redis, deps.config.METRICS_PREFIX);

/** Counts each request; the app registers it right inside the log line's middleware. */
export const countRequests = () => requestMetrics<AppEnv>((c) => apiMetricsStore(c.get('deps')));
