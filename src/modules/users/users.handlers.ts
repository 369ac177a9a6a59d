import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { requestCache } from '../../lib/request-cache.ts';
import { createUsersRepository } from './users.repository.ts';
import type { getUserRoute } from './users.routes.ts';
import { getPublicProfile } from './users.service.ts';

export const getUser: RouteHandler<typeof getUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const profile = await getPublicProfile(
    { users: createUsersRepository(c.var.deps.db), cache: requestCache(c) },
    id,
  );
  return ok(c, profile, 200);
};
