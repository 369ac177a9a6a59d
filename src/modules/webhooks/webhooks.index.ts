import { moduleRoutes } from '../../module-routes.ts';
import { partnerWebhookHandler } from './webhooks.handlers.ts';
import { partnerWebhookRoute } from './webhooks.routes.ts';
import { partnerEventBodySchema } from './webhooks.schemas.ts';

const routes = moduleRoutes();
routes.openAPIRegistry.register('PartnerEvent', partnerEventBodySchema);

/**
 * POST /webhooks/partners/{partnerId}. Exempt from the general rate limit, which counts per
 * address: a partner delivers from many addresses and in bursts, so its own policy counts per
 * partner instead.
 */
export const webhooksRoutes = routes.openapi(partnerWebhookRoute, partnerWebhookHandler);
