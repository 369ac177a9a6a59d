import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { rateLimitPrefetch } from '../../middleware/rate-limit.ts';
import type { RoutePrefetch } from '../../middleware/route-prefetch.ts';
import { moduleRoutes } from '../../module-routes.ts';
import { auditRecordJob } from './audit-record.job.ts';
import {
  changePasswordHandler,
  confirmVerificationHandler,
  deleteAccountHandler,
  forgotPasswordHandler,
  loginHandler,
  logoutHandler,
  refreshHandler,
  registerHandler,
  requestVerificationHandler,
  resetPasswordHandler,
} from './auth.handlers.ts';
import {
  changePasswordRoute,
  confirmVerificationRoute,
  deleteAccountRoute,
  forgotPasswordRoute,
  loginRoute,
  logoutRoute,
  refreshRoute,
  registerRoute,
  requestVerificationRoute,
  resetPasswordRoute,
} from './auth.routes.ts';
import { tokenCleanupJob } from './token-cleanup.job.ts';

/**
 * The sign-up and reset-email throttles, begun with the general rate limit so that all of them
 * cost one Redis round trip; the routes' own rateLimit middleware awaits them.
 */
export const authPrefetches: RoutePrefetch[] = [
  rateLimitPrefetch(registerRoute, 'signup'),
  rateLimitPrefetch(forgotPasswordRoute, 'passwordReset'),
];

/** /v1/auth/*: accounts, sign-in, sessions, email verification and passwords. */
export const authRoutes = moduleRoutes()
  .openapi(registerRoute, registerHandler)
  .openapi(loginRoute, loginHandler)
  .openapi(refreshRoute, refreshHandler)
  .openapi(logoutRoute, logoutHandler)
  .openapi(requestVerificationRoute, requestVerificationHandler)
  .openapi(confirmVerificationRoute, confirmVerificationHandler)
  .openapi(forgotPasswordRoute, forgotPasswordHandler)
  .openapi(resetPasswordRoute, resetPasswordHandler)
  .openapi(changePasswordRoute, changePasswordHandler)
  .openapi(deleteAccountRoute, deleteAccountHandler);

/** The module's jobs: audit rows of domain events, and the clean-up of spent tokens. */
export const authJobs = (deps: Deps) =>
  ({
    'audit.record': auditRecordJob(deps),
    'maintenance.token-cleanup': tokenCleanupJob(deps),
  }) satisfies JobHandlers;
