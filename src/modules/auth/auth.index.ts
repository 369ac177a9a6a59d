import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { startRateLimit } from '../../middleware/rate-limit.ts';
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
 * cost one Redis round trip; register before rateLimit('general'). The routes' own rateLimit
 * middleware awaits them.
 */
export function startAuthRateLimits(app: OpenAPIHono<AppEnv>): void {
  app.use(registerRoute.path, startRateLimit('signup', registerRoute.method));
  app.use(forgotPasswordRoute.path, startRateLimit('passwordReset', forgotPasswordRoute.method));
}

/** /v1/auth/*: accounts, sign-in, sessions, email verification and passwords. */
export function registerAuth(app: OpenAPIHono<AppEnv>): void {
  app.openapi(registerRoute, registerHandler);
  app.openapi(loginRoute, loginHandler);
  app.openapi(refreshRoute, refreshHandler);
  app.openapi(logoutRoute, logoutHandler);
  app.openapi(requestVerificationRoute, requestVerificationHandler);
  app.openapi(confirmVerificationRoute, confirmVerificationHandler);
  app.openapi(forgotPasswordRoute, forgotPasswordHandler);
  app.openapi(resetPasswordRoute, resetPasswordHandler);
  app.openapi(changePasswordRoute, changePasswordHandler);
  app.openapi(deleteAccountRoute, deleteAccountHandler);
}

/** The module's jobs: audit rows of domain events, and the clean-up of spent tokens. */
export const authJobs = (deps: Deps) =>
  ({
    'audit.record': auditRecordJob(deps),
    'maintenance.token-cleanup': tokenCleanupJob(deps),
  }) satisfies JobHandlers;
