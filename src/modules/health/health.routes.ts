// The health routes: liveness for the platform's restarts, readiness for its load balancing.
// Neither is rate limited (probes come often, from few addresses) nor authenticated.
import { createRoute, z } from '@hono/zod-openapi';
import { errorEnvelopeSchema, successEnvelopeSchema } from '../../lib/envelope.ts';
import { anyone } from '../../lib/openapi-security.ts';

const checkSchema = z
  .object({
    status: z.enum(['ok', 'fail']),
    latencyMs: z.int().min(0).openapi({ description: 'Time the probe took, in milliseconds.' }),
    reason: z
      .enum(['timeout', 'unreachable', 'unexpected reply'])
      .optional()
      .openapi({ description: 'Why the probe failed; present only when it did.' }),
  })
  .openapi('HealthCheck');

const checksSchema = z.object({ db: checkSchema, redis: checkSchema, queue: checkSchema });

export const livenessRoute = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'checkLiveness',
  tags: ['Health'],
  summary: 'Liveness',
  description:
    'Answers as long as the process serves requests; touches no backend. Also answers HEAD. ' +
    'Not rate limited.',
  security: anyone,
  responses: {
    200: {
      description: 'The process is alive.',
      content: {
        'application/json': {
          schema: successEnvelopeSchema(z.object({ status: z.literal('ok') })),
        },
      },
    },
  },
});

export const readinessRoute = createRoute({
  method: 'get',
  path: '/health/ready',
  operationId: 'checkReadiness',
  tags: ['Health'],
  summary: 'Readiness',
  description:
    'Checks the database (`select 1`), Redis (PING) and the queue (an authenticated QStash ' +
    'call) concurrently, each cut off after HEALTH_TIMEOUT_MS. Also answers HEAD. ' +
    'Not rate limited.',
  security: anyone,
  responses: {
    200: {
      description: 'Every backend answered.',
      content: {
        'application/json': {
          schema: successEnvelopeSchema(
            z.object({ status: z.literal('ok'), checks: checksSchema }),
          ),
        },
      },
    },
    503: {
      description:
        'At least one backend failed: `error.details.failing` names each one and ' +
        '`error.details.checks` holds every probe as in the 200 answer.',
      content: { 'application/json': { schema: errorEnvelopeSchema } },
    },
  },
});
