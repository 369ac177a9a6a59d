import { moduleRoutes } from '../../module-routes.ts';
import {
  createApiKeyHandler,
  listApiKeysHandler,
  revokeApiKeyHandler,
} from './api-keys.handlers.ts';
import { createApiKeyRoute, listApiKeysRoute, revokeApiKeyRoute } from './api-keys.routes.ts';

/**
 * POST and GET /v1/api-keys, DELETE /v1/api-keys/{id}. Keys authenticate through requireAuth
 * (authenticateApiKey in api-key-auth.ts); their usage is written by recordApiKeyUsage, which the
 * app registers ahead of every route.
 */
export const apiKeysRoutes = moduleRoutes()
  .openapi(createApiKeyRoute, createApiKeyHandler)
  .openapi(listApiKeysRoute, listApiKeysHandler)
  .openapi(revokeApiKeyRoute, revokeApiKeyHandler);
