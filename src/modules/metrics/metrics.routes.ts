// GET /metrics: the Prometheus scrape, for administrators and the API keys they give
// `metrics:read` (a scraper's credential, good for nothing else).
import { createRoute, z } from '@hono/zod-openapi';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { forbidden, unauthorized } from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import type { Permission } from '../auth/permissions.ts';

export const metricsPermission: Permission = 'metrics:read';

const exampleScrape = [
  '# HELP http_requests_total Requests answered, by route pattern (`unmatched` for none), method and status.',
  '# TYPE http_requests_total counter',
  'http_requests_total{route="/v1/users/:id",method="GET",status="200"} 1027',
  '# HELP outbox_backlog Jobs staged in the outbox and not yet handed to QStash, counted at scrape time.',
  '# TYPE outbox_backlog gauge',
  'outbox_backlog 0',
  '',
].join('\n');

export const getMetricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  tags: ['Admin'],
  summary: 'Scrape the metrics',
  description:
    'Prometheus text format 0.0.4: requests by route pattern, method and status, their ' +
    'durations (a histogram), rate-limit refusals, cache outcomes, job deliveries, retries and ' +
    'dead letters, counted across every isolate; and the outbox backlog, counted now. A scrape ' +
    'is counted too, as the next scrape shows.',
  security: sessionOrApiKey(metricsPermission),
  middleware: [requireAuth(), requirePermission(metricsPermission)],
  responses: {
    200: {
      description: 'Every series, one sample a line.',
      content: {
        'text/plain; version=0.0.4': { schema: z.string().openapi({ example: exampleScrape }) },
      },
    },
    401: unauthorized,
    403: forbidden('The caller lacks the metrics:read permission'),
  },
});
