import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { prometheusContentType } from '../../platform/metrics.ts';
import { apiMetricsStore } from './api-metrics.ts';
import { countOutboxBacklog } from './metrics.repository.ts';
import type { getMetricsRoute } from './metrics.routes.ts';
import { type MetricsServiceDeps, scrapeMetrics } from './metrics.service.ts';

function metricsServiceDeps(c: Context<AppEnv>): MetricsServiceDeps {
  const deps = c.get('deps');
  return { metrics: apiMetricsStore(deps), outboxBacklog: () => countOutboxBacklog(deps.db) };
}

export const getMetricsHandler: RouteHandler<typeof getMetricsRoute, AppEnv> = async (c) =>
  c.text(await scrapeMetrics(metricsServiceDeps(c)), 200, {
    'Content-Type': prometheusContentType,
  });
