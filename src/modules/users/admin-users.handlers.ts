import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { ok, okPage } from '../../lib/envelope.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { revokeAllSessions } from '../auth/sessions.ts';
import type {
  adminGetUserRoute,
  adminUpdateUserRoute,
  changeRoleRoute,
  countUsersRoute,
  deleteUserRoute,
  listUsersRoute,
  restoreUserRoute,
} from './admin-users.routes.ts';
import {
  type AdminUsersServiceDeps,
  changeRole,
  countUsers,
  deleteUser,
  getUser,
  listUsers,
  restoreUser,
  updateUser,
} from './admin-users.service.ts';
import { usersServiceDeps } from './users.handlers.ts';

function adminUsersServiceDeps(c: Context<AppEnv>): AdminUsersServiceDeps {
  return {
    ...usersServiceDeps(c),
    revokeSessions: (userId) => revokeAllSessions(c.get('deps'), userId),
  };
}

export const listUsersHandler: RouteHandler<typeof listUsersRoute, AppEnv> = async (c) => {
  const { page, limit, sortBy, sortOrder, ...filter } = c.req.valid('query');
  const result = await listUsers(adminUsersServiceDeps(c), filter, {
    page,
    limit,
    sortBy,
    sortOrder,
  });
  return okPage(c, result.users, result.pagination);
};

export const countUsersHandler: RouteHandler<typeof countUsersRoute, AppEnv> = async (c) =>
  ok(c, await countUsers(adminUsersServiceDeps(c)), 200);

export const adminGetUserHandler: RouteHandler<typeof adminGetUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const { includeDeleted } = c.req.valid('query');
  return ok(c, await getUser(adminUsersServiceDeps(c), id, includeDeleted), 200);
};

export const adminUpdateUserHandler: RouteHandler<typeof adminUpdateUserRoute, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  return ok(
    c,
    await updateUser(adminUsersServiceDeps(c), principalOf(c).userId, id, c.req.valid('json')),
    200,
  );
};

export const deleteUserHandler: RouteHandler<typeof deleteUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await deleteUser(adminUsersServiceDeps(c), principalOf(c).userId, id), 200);
};

export const restoreUserHandler: RouteHandler<typeof restoreUserRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await restoreUser(adminUsersServiceDeps(c), principalOf(c).userId, id), 200);
};

export const changeRoleHandler: RouteHandler<typeof changeRoleRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const { role } = c.req.valid('json');
  return ok(c, await changeRole(adminUsersServiceDeps(c), principalOf(c).userId, id, role), 200);
};
