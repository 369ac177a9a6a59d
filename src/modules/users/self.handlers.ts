import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import type {
  getMeRoute,
  searchUsersRoute,
  updateMeRoute,
  updateUserRoute,
} from './self.routes.ts';
import { usersServiceDeps } from './users.handlers.ts';
import { getOwnProfile, searchUsers, updateProfile } from './users.service.ts';

export const getMeHandler: RouteHandler<typeof getMeRoute, AppEnv> = async (c) =>
  ok(c, await getOwnProfile(usersServiceDeps(c), principalOf(c).userId), 200);

export const updateMeHandler: RouteHandler<typeof updateMeRoute, AppEnv> = async (c) =>
  ok(c, await updateProfile(usersServiceDeps(c), principalOf(c).userId, c.req.valid('json')), 200);

/** Reached only by the user themselves or an administrator (the route's ownership check). */
export const updateUserHandler: RouteHandler<typeof updateUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const changes = c.req.valid('json');
  return ok(c, await updateProfile(usersServiceDeps(c), id, changes, principalOf(c).userId), 200);
};

export const searchUsersHandler: RouteHandler<typeof searchUsersRoute, AppEnv> = async (c) => {
  const { q } = c.req.valid('query');
  return ok(c, await searchUsers(usersServiceDeps(c), principalOf(c), q), 200);
};
