import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { prefetchCacheRead } from '../../middleware/request-cache.ts';
import {
  changeRoleHandler,
  countUsersHandler,
  deleteUserHandler,
  getUserHandler,
  listUsersHandler,
  restoreUserHandler,
  updateUserHandler,
} from './admin-users.handlers.ts';
import {
  adminGetUserRoute,
  adminUpdateUserRoute,
  changeRoleRoute,
  countUsersRoute,
  deleteUserRoute,
  listUsersRoute,
  restoreUserRoute,
} from './admin-users.routes.ts';
import { getMe, searchUsersHandler, updateMe, updateUser } from './self.handlers.ts';
import { getMeRoute, searchUsersRoute, updateMeRoute, updateUserRoute } from './self.routes.ts';
import { getUser } from './users.handlers.ts';
import { getUserRoute } from './users.routes.ts';
import { userIdParamsSchema } from './users.schemas.ts';
import { usersCacheGroup } from './users.service.ts';
import { weeklyDigestJob } from './weekly-digest.job.ts';

/**
 * /v1/users/*, /v1/me and /v1/admin/users/*. Fixed paths come before their `{id}` siblings: the
 * first route that matches answers, and "search" or "counts" is no UUID.
 */
export function registerUsers(app: OpenAPIHono<AppEnv>): void {
  app.openapi(searchUsersRoute, searchUsersHandler);
  app.openapi(getUserRoute, getUser);
  app.openapi(updateUserRoute, updateUser);
  app.openapi(getMeRoute, getMe);
  app.openapi(updateMeRoute, updateMe);

  app.openapi(listUsersRoute, listUsersHandler);
  app.openapi(countUsersRoute, countUsersHandler);
  app.openapi(adminGetUserRoute, getUserHandler);
  app.openapi(adminUpdateUserRoute, updateUserHandler);
  app.openapi(deleteUserRoute, deleteUserHandler);
  app.openapi(restoreUserRoute, restoreUserHandler);
  app.openapi(changeRoleRoute, changeRoleHandler);
}

/** getUser's cache read, started with the rate limit; an id that is no UUID starts nothing. */
export const prefetchPublicProfile = prefetchCacheRead(
  usersCacheGroup,
  (c) => userIdParamsSchema.safeParse(c.req.param()).data?.id,
);

/** The module's jobs: the weekly digest's fan-out. */
export const usersJobs = (deps: Deps) =>
  ({ 'digest.weekly': weeklyDigestJob(deps) }) satisfies JobHandlers;
