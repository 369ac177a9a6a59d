import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { cacheReadPrefetch } from '../../middleware/request-cache.ts';
import type { RoutePrefetch } from '../../middleware/route-prefetch.ts';
import { moduleRoutes } from '../../module-routes.ts';
import {
  adminGetUserHandler,
  adminUpdateUserHandler,
  changeRoleHandler,
  countUsersHandler,
  deleteUserHandler,
  listUsersHandler,
  restoreUserHandler,
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
import { exportUsersHandler } from './admin-users-export.handlers.ts';
import { exportUsersRoute } from './admin-users-export.routes.ts';
import {
  getMeHandler,
  searchUsersHandler,
  updateMeHandler,
  updateUserHandler,
} from './self.handlers.ts';
import { getMeRoute, searchUsersRoute, updateMeRoute, updateUserRoute } from './self.routes.ts';
import { getUserHandler } from './users.handlers.ts';
import { getUserRoute } from './users.routes.ts';
import { userIdParamsSchema } from './users.schemas.ts';
import { usersCacheGroup } from './users.service.ts';
import { weeklyDigestJob } from './weekly-digest.job.ts';

/**
 * /v1/users/*, /v1/me and /v1/admin/users/*. Fixed paths come before their `{id}` siblings: the
 * first route that matches answers, and "search", "counts" or "export" is no UUID.
 */
export const usersRoutes = moduleRoutes()
  .openapi(searchUsersRoute, searchUsersHandler)
  .openapi(getUserRoute, getUserHandler)
  .openapi(updateUserRoute, updateUserHandler)
  .openapi(getMeRoute, getMeHandler)
  .openapi(updateMeRoute, updateMeHandler)
  .openapi(listUsersRoute, listUsersHandler)
  .openapi(countUsersRoute, countUsersHandler)
  .openapi(exportUsersRoute, exportUsersHandler)
  .openapi(adminGetUserRoute, adminGetUserHandler)
  .openapi(adminUpdateUserRoute, adminUpdateUserHandler)
  .openapi(deleteUserRoute, deleteUserHandler)
  .openapi(restoreUserRoute, restoreUserHandler)
  .openapi(changeRoleRoute, changeRoleHandler);

/** The public profile's cache read, begun with the rate limit; an id that is no UUID starts nothing. */
export const usersPrefetches: RoutePrefetch[] = [
  cacheReadPrefetch(
    getUserRoute,
    usersCacheGroup,
    (c) => userIdParamsSchema.safeParse(c.req.param()).data?.id,
  ),
];

/** The module's jobs: the weekly digest's fan-out. */
export const usersJobs = (deps: Deps) =>
  ({ 'digest.weekly': weeklyDigestJob(deps) }) satisfies JobHandlers;
