// The administrators' partners API. Every route needs the partners:manage permission (admins have
// it; an admin's API key needs it among its scopes). A secret's plaintext is in the create and
// rotate responses only; lists show its last four characters. A revoked partner is gone for every
// change but its revocation: changing its secrets or its subscription answers 404, as for an
// unknown id.
import { createRoute } from '@hono/zod-openapi';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import {
  failure,
  forbidden,
  invalid,
  jsonBody,
  notFound,
  success,
  unauthorized,
} from '../../lib/route-responses.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import {
  createdPartnerSchema,
  createPartnerBodySchema,
  partnerIdParamsSchema,
  partnerSchema,
  partnerSecretParamsSchema,
  partnerSecretSchema,
  revealedSecretSchema,
  rotateSecretBodySchema,
  subscriptionBodySchema,
} from './partners.schemas.ts';

const adminOnly = [requireAuth(), requirePermission('partners:manage')];
const adminOnlySecurity = sessionOrApiKey('partners:manage');
const tags = ['Partners'];
const notAdmin = forbidden('The caller lacks partners:manage');
export const createPartnerRoute = createRoute({
  method: 'post',
  path: '/v1/admin/partners',
  operationId: 'createPartner',
  tags,
  summary: 'Register a partner',
  description:
    'Creates the partner with its first signing secret, shown in this response only: hand it to ' +
    'the partner now. Audited.',
  security: adminOnlySecurity,
  middleware: [...adminOnly, idempotency()],
  request: { headers: idempotencyKeyHeaders, body: jsonBody(createPartnerBodySchema) },
  responses: withIdempotencyRefusals({
    201: success('The partner and its secret.', createdPartnerSchema),
    401: unauthorized,
    403: notAdmin,
    409: failure('Another partner has this name (code CONFLICT).'),
    422: invalid('A missing or invalid name or scheme, or an unknown field'),
  }),
});

export const listPartnersRoute = createRoute({
  method: 'get',
  path: '/v1/admin/partners',
  operationId: 'listPartners',
  tags,
  summary: 'List partners',
  description:
    'Every partner, revoked ones included, with its secrets (hint, expiry, revocation, whether ' +
    'it verifies now); never a secret itself.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  responses: {
    200: success('The partners.', partnerSchema.array()),
    401: unauthorized,
    403: notAdmin,
  },
});

export const rotateSecretRoute = createRoute({
  method: 'post',
  path: '/v1/admin/partners/{id}/secrets',
  operationId: 'rotatePartnerSecret',
  tags,
  summary: 'Rotate a partner’s secret',
  description:
    'Adds a secret, shown in this response only. The secrets active until now keep verifying ' +
    'for `graceHours` (default 24), so deliveries signed with either are accepted meanwhile. ' +
    'Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: partnerIdParamsSchema, body: jsonBody(rotateSecretBodySchema) },
  responses: {
    201: success('The new secret.', revealedSecretSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active partner has this id'),
    422: invalid('graceHours out of 0..168, or an unknown field'),
  },
});

export const revokeSecretRoute = createRoute({
  method: 'delete',
  path: '/v1/admin/partners/{id}/secrets/{secretId}',
  operationId: 'revokePartnerSecret',
  tags,
  summary: 'Revoke a partner’s secret',
  description:
    'The secret stops verifying at once. Revoking a revoked secret changes nothing and answers ' +
    'the same. Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: partnerSecretParamsSchema },
  responses: {
    200: success('The revoked secret.', partnerSecretSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('The partner has no secret with this id'),
    422: invalid('An id is not a UUID'),
  },
});

export const revokePartnerRoute = createRoute({
  method: 'delete',
  path: '/v1/admin/partners/{id}',
  operationId: 'revokePartner',
  tags,
  summary: 'Revoke a partner',
  description:
    'Its webhooks are refused from now on, with 401 SIGNATURE_INVALID like an unknown partner’s. ' +
    'Revoking a revoked partner changes nothing and answers the same. Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: partnerIdParamsSchema },
  responses: {
    200: success('The revoked partner.', partnerSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No partner has this id'),
    422: invalid('The id is not a UUID'),
  },
});

export const updateSubscriptionRoute = createRoute({
  method: 'put',
  path: '/v1/admin/partners/{id}/subscription',
  operationId: 'updatePartnerSubscription',
  tags,
  summary: 'Subscribe a partner to our events',
  description:
    'Sets where our events go and which ones, replacing the subscription before. Each event is ' +
    'POSTed to `webhookUrl`, signed with the partner’s secrets in its scheme (see the partner ' +
    'webhooks guide). The URL must be https and must not point inside our network (loopback, ' +
    'private, link-local, metadata and other internal addresses): such a URL is refused with 422 ' +
    'naming `webhookUrl`, and checked again before every delivery. Audited when it changes ' +
    'anything.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: partnerIdParamsSchema, body: jsonBody(subscriptionBodySchema) },
  responses: {
    200: success('The partner, with its subscription.', partnerSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active partner has this id (a revoked partner cannot subscribe)'),
    422: invalid(
      'A webhookUrl that is no https URL or points inside our network, no events, an unknown ' +
        'or repeated event, or an unknown field',
    ),
  },
});

export const deleteSubscriptionRoute = createRoute({
  method: 'delete',
  path: '/v1/admin/partners/{id}/subscription',
  operationId: 'deletePartnerSubscription',
  tags,
  summary: 'Unsubscribe a partner from our events',
  description:
    'The partner receives no more events: `webhookUrl` becomes null and `subscribedEvents` ' +
    'empty, and deliveries already queued for it are dropped unsent. Unsubscribing a partner ' +
    'without a subscription changes nothing and answers the same. Audited when it changes ' +
    'anything.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: partnerIdParamsSchema },
  responses: {
    200: success('The partner, without a subscription.', partnerSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active partner has this id'),
    422: invalid('The id is not a UUID'),
  },
});
