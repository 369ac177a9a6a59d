// The inbound endpoint partners deliver signed events to. It takes no session: the signature is
// the authentication, checked over the raw body before the body is read as JSON, which is why the
// body is described here but validated by the service.
import { createRoute } from '@hono/zod-openapi';
import { partnerSignature } from '../../lib/openapi-security.ts';
import { failure, invalid, success } from '../../lib/route-responses.ts';
import { byClientIp, rateLimit } from '../../middleware/rate-limit.ts';
import { prefetchCacheRead } from '../../middleware/request-cache.ts';
import { partnersCacheGroup } from '../partners/partners.service.ts';
import {
  isPartnerId,
  partnerWebhookParamsSchema,
  receivedEventSchema,
} from './webhooks.schemas.ts';

/** Which headers carry the signature depends on the partner's scheme, so none is required. */
const signatureHeader = (name: string, description: string) => ({
  name,
  in: 'header' as const,
  required: false,
  description,
  schema: { type: 'string' as const },
});

export const partnerWebhookRoute = createRoute({
  method: 'post',
  path: '/webhooks/partners/{partnerId}',
  operationId: 'deliverPartnerEvent',
  tags: ['Partner webhooks'],
  summary: 'Deliver a partner event',
  description:
    'Signed with the partner’s scheme: `hmac-sha256` (X-Timestamp, X-Signature: hex HMAC-SHA-256 ' +
    'of `<timestamp>.<raw body>`) or `standard-webhooks` (webhook-id, webhook-timestamp, ' +
    'webhook-signature). Timestamps within 5 minutes; each signature is accepted once. The event ' +
    'is stored once per id and processed in the background. Metered per partner and sending ' +
    'address (RATE_LIMIT_WEBHOOK).',
  security: partnerSignature,
  // Described, not validated: the service reads them with the raw body, once it knows the scheme.
  parameters: [
    signatureHeader('X-Timestamp', 'hmac-sha256: the Unix seconds of signing.'),
    signatureHeader(
      'X-Signature',
      'hmac-sha256: lowercase hex HMAC-SHA-256 of `<X-Timestamp>.<raw body>`.',
    ),
    signatureHeader(
      'webhook-id',
      'standard-webhooks: the message id; the event id when the body has none.',
    ),
    signatureHeader('webhook-timestamp', 'standard-webhooks: the Unix seconds of signing.'),
    signatureHeader(
      'webhook-signature',
      'standard-webhooks: `v1,<base64 HMAC-SHA-256>` of `<webhook-id>.<webhook-timestamp>.<raw ' +
        'body>`; several space-separated entries during a rotation.',
    ),
  ],
  // The partner's cached record is read in the rate limit's Redis round trip.
  middleware: [
    prefetchCacheRead(
      partnersCacheGroup,
      (c) => {
        const partnerId = c.req.param('partnerId');
        return partnerId !== undefined && isPartnerId(partnerId) ? partnerId : undefined;
      },
      'POST',
    ),
    // Per partner and sending address: the count comes before the signature check, so anyone
    // who knows a partner's id could otherwise spend that partner's allowance.
    rateLimit('webhook', {
      key: (c) => `partner:${c.req.param('partnerId') ?? ''}:${byClientIp(c)}`,
    }),
  ] as const,
  request: {
    params: partnerWebhookParamsSchema,
    body: {
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/PartnerEvent' } } },
    },
  },
  responses: {
    202: success('The event is stored (or was before: `duplicate: true`).', receivedEventSchema),
    401: failure(
      'Refused signature, nothing stored: SIGNATURE_MISSING, SIGNATURE_MALFORMED, ' +
        'SIGNATURE_INVALID (also for an unknown or revoked partner), SIGNATURE_EXPIRED, ' +
        'SIGNATURE_REPLAYED.',
    ),
    422: invalid('A correctly signed body that is not JSON or not an event'),
    429: failure(
      'Over RATE_LIMIT_WEBHOOK for this partner and address (code RATE_LIMITED, with ' +
        'Retry-After); nothing stored.',
    ),
  },
});
