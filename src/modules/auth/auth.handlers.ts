import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { clientIp } from '../../lib/client-ip.ts';
import { ok } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { serializeUser } from '../users/user-serializer.ts';
import { principalOf } from './auth.middleware.ts';
import { createAuthRepository } from './auth.repository.ts';
import type {
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
import {
  type AuthServiceDeps,
  authenticate,
  changePassword,
  confirmEmail,
  deleteAccount,
  register,
  requestEmailVerification,
  requestPasswordReset,
  resetPassword,
} from './auth.service.ts';
import { verifyCsrf } from './csrf.ts';
import { failedAttempts } from './failed-attempts.ts';
import {
  clearSessionCookies,
  issueSession,
  refreshCookieOf,
  revokeSession,
  rotateRefreshToken,
  type Session,
  type SessionMeta,
  type SessionUser,
  sessionCookieOf,
  setSessionCookies,
} from './sessions.ts';

type SessionMode = 'bearer' | 'cookie';

function authServiceDeps(c: Context<AppEnv>): AuthServiceDeps {
  return {
    deps: c.get('deps'),
    accounts: createAuthRepository(c.get('deps').db),
    // Only deleting an account touches the cache: built when it does.
    get cache() {
      return requestCache(c);
    },
    defer: (task, work) => waitUntil(c, task, work),
  };
}

function sessionMeta(c: Context<AppEnv>): SessionMeta {
  const userAgent = c.req.header('user-agent');
  return {
    ip: clientIp(c, c.get('deps').config.CLIENT_IP_HEADER),
    ...(userAgent !== undefined && { userAgent }),
  };
}

async function startSession(c: Context<AppEnv>, user: SessionUser, mode: SessionMode) {
  return sessionBody(c, await issueSession(c.get('deps'), user, sessionMeta(c)), mode);
}

/** Bearer mode: the tokens in the body. Cookie mode: the tokens in cookies, only the CSRF token here. */
function sessionBody(c: Context<AppEnv>, session: Session, mode: SessionMode) {
  const expiries = {
    accessTokenExpiresAt: session.accessTokenExpiresAt.toISOString(),
    refreshTokenExpiresAt: session.refreshTokenExpiresAt.toISOString(),
  };
  if (mode === 'cookie') return { ...expiries, ...setSessionCookies(c, session) };
  return { accessToken: session.accessToken, refreshToken: session.refreshToken, ...expiries };
}

const accepted = (message: string) => ({ message });

export const registerHandler: RouteHandler<typeof registerRoute, AppEnv> = async (c) => {
  const { mode } = c.req.valid('query');
  const { user, session } = await register(authServiceDeps(c), c.req.valid('json'), sessionMeta(c));
  c.get('event').userId = user.id;
  return ok(c, { user: serializeUser(user, 'self'), session: sessionBody(c, session, mode) }, 201);
};

export const loginHandler: RouteHandler<typeof loginRoute, AppEnv> = async (c) => {
  const { mode } = c.req.valid('query');
  const { email, password } = c.req.valid('json');
  const attempts = await failedAttempts(c);
  const user = await authenticate(authServiceDeps(c), attempts, email, password);
  c.get('event').userId = user.id;
  const [session] = await Promise.all([startSession(c, user, mode), attempts.refund()]);
  return ok(c, { user: serializeUser(user, 'self'), session }, 200);
};

export const refreshHandler: RouteHandler<typeof refreshRoute, AppEnv> = async (c) => {
  const fromBody = c.req.valid('json')?.refreshToken;
  const fromCookie = fromBody === undefined ? refreshCookieOf(c) : undefined;
  // The cookie comes with any request the browser sends, other sites' included.
  if (fromCookie !== undefined) verifyCsrf(c);
  const refreshToken = fromBody ?? fromCookie;
  if (refreshToken === undefined) {
    throw new AppError('UNAUTHORIZED', 'No refresh token: send it in the body or the cookie');
  }
  const session = await rotateRefreshToken(c.get('deps'), refreshToken);
  const mode = fromCookie === undefined ? 'bearer' : 'cookie';
  return ok(c, { session: sessionBody(c, session, mode) }, 200);
};

export const logoutHandler: RouteHandler<typeof logoutRoute, AppEnv> = async (c) => {
  const principal = principalOf(c);
  const refreshToken = c.req.valid('json')?.refreshToken ?? refreshCookieOf(c);
  await revokeSession(c.get('deps'), principal, refreshToken);
  if (sessionCookieOf(c) !== undefined || refreshCookieOf(c) !== undefined) {
    clearSessionCookies(c);
  }
  return c.body(null, 204);
};

export const requestVerificationHandler: RouteHandler<
  typeof requestVerificationRoute,
  AppEnv
> = async (c) => {
  await requestEmailVerification(authServiceDeps(c), principalOf(c).userId);
  return ok(c, accepted('A verification email is on its way'), 202);
};

export const confirmVerificationHandler: RouteHandler<
  typeof confirmVerificationRoute,
  AppEnv
> = async (c) => {
  const user = await confirmEmail(authServiceDeps(c), c.req.valid('json').token);
  return ok(c, serializeUser(user, 'self'), 200);
};

export const forgotPasswordHandler: RouteHandler<typeof forgotPasswordRoute, AppEnv> = async (
  c,
) => {
  requestPasswordReset(authServiceDeps(c), c.req.valid('json').email);
  return ok(c, accepted('If this email has an account, a reset link is on its way'), 202);
};

export const resetPasswordHandler: RouteHandler<typeof resetPasswordRoute, AppEnv> = async (c) => {
  const { token, password } = c.req.valid('json');
  await resetPassword(authServiceDeps(c), token, password);
  return c.body(null, 204);
};

export const changePasswordHandler: RouteHandler<typeof changePasswordRoute, AppEnv> = async (
  c,
) => {
  const { userId } = principalOf(c);
  const { currentPassword, newPassword } = c.req.valid('json');
  const attempts = await failedAttempts(c, `user:${userId}`);
  const user = await changePassword(
    authServiceDeps(c),
    attempts,
    userId,
    currentPassword,
    newPassword,
  );
  const mode = sessionCookieOf(c) === undefined ? 'bearer' : 'cookie';
  const session = await startSession(c, user, mode);
  return ok(c, { user: serializeUser(user, 'self'), session }, 200);
};

export const deleteAccountHandler: RouteHandler<typeof deleteAccountRoute, AppEnv> = async (c) => {
  const { userId } = principalOf(c);
  const attempts = await failedAttempts(c, `user:${userId}`);
  await deleteAccount(authServiceDeps(c), attempts, userId, c.req.valid('json').password);
  if (sessionCookieOf(c) !== undefined) clearSessionCookies(c);
  return c.body(null, 204);
};
