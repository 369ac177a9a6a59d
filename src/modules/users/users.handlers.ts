import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { createUsersRepository, type UsersRepository } from './users.repository.ts';
import type { getUserRoute } from './users.routes.ts';
import { getPublicProfile, type UsersServiceDeps } from './users.service.ts';

export function usersServiceDeps(c: Context<AppEnv>): UsersServiceDeps {
  const deps = c.get('deps');
  let users: UsersRepository | undefined;
  return {
    // On first use: a profile served from the cache needs no database client.
    get users() {
      users ??= createUsersRepository(deps.db);
      return users;
    },
    cache: requestCache(c),
    clock: deps.clock,
  };
}

export const getUserHandler: RouteHandler<typeof getUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await getPublicProfile(usersServiceDeps(c), id), 200);
};
