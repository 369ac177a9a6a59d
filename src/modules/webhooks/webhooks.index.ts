import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { partnerWebhookHandler } from './webhooks.handlers.ts';
import { partnerWebhookRoute } from './webhooks.routes.ts';
import { partnerEventBodySchema } from './webhooks.schemas.ts';

/**
 * POST /webhooks/partners/{partnerId}. Registered ahead of the general rate limit, which counts
 * per address: a partner delivers from many addresses and in bursts, so its own policy counts per
 * partner instead.
 */
export function registerWebhooks(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.register('PartnerEvent', partnerEventBodySchema);
  app.openapi(partnerWebhookRoute, partnerWebhookHandler);
}
