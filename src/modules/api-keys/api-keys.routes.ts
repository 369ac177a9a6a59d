// The API-keys routes' OpenAPI definitions: the same schemas validate requests. Every route needs a
// session (never a key), a verified email and the apikeys:manage permission.
import { createRoute } from '@hono/zod-openapi';
import {
  errorEnvelopeSchema,
  paginatedEnvelopeSchema,
  successEnvelopeSchema,
} from '../../lib/envelope.ts';
import { sessionOnly } from '../../lib/openapi-security.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import {
  requireAuth,
  requirePermission,
  requireSession,
  requireVerifiedEmail,
} from '../auth/auth.middleware.ts';
import { usersServiceDeps } from '../users/users.handlers.ts';
import { isEmailVerified } from '../users/users.service.ts';
import {
  apiKeyIdParamsSchema,
  apiKeySchema,
  createApiKeyBodySchema,
  createdApiKeySchema,
  keyManagementPermission,
  listApiKeysQuerySchema,
} from './api-keys.schemas.ts';

const errorContent = { 'application/json': { schema: errorEnvelopeSchema } };

const keyManagement = [
  requireAuth(),
  requireSession(),
  requireVerifiedEmail((c, userId) => isEmailVerified(usersServiceDeps(c), userId)),
  requirePermission(keyManagementPermission),
] as const;

const refusals = {
  401: {
    description: 'No valid session (UNAUTHORIZED), or an invalid X-API-Key (API_KEY_INVALID).',
    content: errorContent,
  },
  403: {
    description:
      'The email is not verified (EMAIL_NOT_VERIFIED), the request came with an API key, or ' +
      'the role lacks apikeys:manage (FORBIDDEN).',
    content: errorContent,
  },
} as const;

export const createApiKeyRoute = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  operationId: 'createApiKey',
  tags: ['API keys'],
  summary: 'Create an API key',
  description:
    'Creates a key for the signed-in user with the given scopes and optional expiry. The key is ' +
    'in this response only; the server keeps its SHA-256. Send it as `X-API-Key`.',
  security: sessionOnly,
  middleware: [...keyManagement, idempotency()],
  request: {
    headers: idempotencyKeyHeaders,
    body: { required: true, content: { 'application/json': { schema: createApiKeyBodySchema } } },
  },
  responses: withIdempotencyRefusals({
    201: {
      description: 'The new key, with the key itself.',
      content: { 'application/json': { schema: successEnvelopeSchema(createdApiKeySchema) } },
    },
    ...refusals,
    403: {
      description: `${refusals[403].description} Also: a scope the owner's role does not hold (FORBIDDEN, details.scopes).`,
      content: errorContent,
    },
    422: {
      description: 'An unknown scope, a past or too distant expiry (VALIDATION_FAILED).',
      content: errorContent,
    },
  }),
});

export const listApiKeysRoute = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  operationId: 'listApiKeys',
  tags: ['API keys'],
  summary: 'List your API keys',
  description:
    "The signed-in user's keys, revoked and expired ones included; never the key or its hash.",
  security: sessionOnly,
  middleware: [...keyManagement],
  request: { query: listApiKeysQuerySchema },
  responses: {
    200: {
      description: 'One page of keys.',
      content: { 'application/json': { schema: paginatedEnvelopeSchema(apiKeySchema) } },
    },
    ...refusals,
  },
});

export const revokeApiKeyRoute = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  operationId: 'revokeApiKey',
  tags: ['API keys'],
  summary: 'Revoke one of your API keys',
  description:
    'The key stops working at once. Revoking a revoked key changes nothing and answers the same.',
  security: sessionOnly,
  middleware: [...keyManagement],
  request: { params: apiKeyIdParamsSchema },
  responses: {
    200: {
      description: 'The revoked key.',
      content: { 'application/json': { schema: successEnvelopeSchema(apiKeySchema) } },
    },
    ...refusals,
    404: {
      description: "You have no key with this id; another user's key answers the same (NOT_FOUND).",
      content: errorContent,
    },
  },
});
