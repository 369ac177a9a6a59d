import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { publishStaged } from '../../jobs/outbox.ts';
import { ok } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { countRequest } from '../../middleware/rate-limit.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { createPartnersRepository } from '../partners/partners.repository.ts';
import type { partnerWebhookRoute } from './webhooks.routes.ts';
import { receivePartnerEvent, type WebhooksServiceDeps } from './webhooks.service.ts';

function webhooksServiceDeps(c: Context<AppEnv>): WebhooksServiceDeps {
  const { db, redis, clock, trace, config } = c.get('deps');
  return {
    db,
    redis,
    clock,
    trace,
    config,
    partners: createPartnersRepository(db),
    cache: requestCache(c),
    meterLookup: () => countRequest(c, 'general'),
  };
}

export const partnerWebhookHandler: RouteHandler<typeof partnerWebhookRoute, AppEnv> = async (
  c,
) => {
  const { partnerId } = c.req.valid('param');
  const body = new Uint8Array(await c.req.arrayBuffer());
  try {
    const { received, job } = await receivePartnerEvent(webhooksServiceDeps(c), {
      partnerId,
      headers: c.req.raw.headers,
      body,
    });
    if (job !== undefined) waitUntil(c, 'partner-event', publishStaged(c.get('deps'), [job]));
    return ok(c, received, 202);
  } catch (error) {
    // The partner sees the code; the operator sees which partner, never the signature or secret.
    if (error instanceof AppError && error.status === 401) {
      c.get('deps').logger.warn('partner webhook refused', {
        requestId: c.get('requestId'),
        partnerId,
        code: error.code,
      });
    }
    throw error;
  }
};
