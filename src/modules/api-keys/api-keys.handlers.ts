import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { ok, okPage } from '../../lib/envelope.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { createApiKeysRepository } from './api-keys.repository.ts';
import type { createApiKeyRoute, listApiKeysRoute, revokeApiKeyRoute } from './api-keys.routes.ts';
import {
  type ApiKeysServiceDeps,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from './api-keys.service.ts';

function apiKeysServiceDeps(c: Context<AppEnv>): ApiKeysServiceDeps {
  const { db, clock } = c.get('deps');
  return { apiKeys: createApiKeysRepository(db), clock, cache: requestCache(c) };
}

export const createApiKeyHandler: RouteHandler<typeof createApiKeyRoute, AppEnv> = async (c) => {
  const created = await createApiKey(apiKeysServiceDeps(c), principalOf(c), c.req.valid('json'));
  return ok(c, created, 201);
};

export const listApiKeysHandler: RouteHandler<typeof listApiKeysRoute, AppEnv> = async (c) => {
  const { items, pagination } = await listApiKeys(
    apiKeysServiceDeps(c),
    principalOf(c).userId,
    c.req.valid('query'),
  );
  return okPage(c, items, pagination);
};

export const revokeApiKeyHandler: RouteHandler<typeof revokeApiKeyRoute, AppEnv> = async (c) => {
  const revoked = await revokeApiKey(
    apiKeysServiceDeps(c),
    principalOf(c).userId,
    c.req.valid('param').id,
  );
  return ok(c, revoked, 200);
};
