// Authentication and authorization middleware. A request proves who it is with a session access
// token (an `Authorization: Bearer` header, or the `__Host-session` cookie in cookie mode) or an
// `X-API-Key`; routes then ask for roles, permissions, a verified email or ownership.
//
// Round trips: an authenticated request must cost one trip to Redis, so the access token's
// deny-list read is started by prefetchTokenRevocation(), registered just before the general rate
// limit, in the same tick as the limiter's script (src/modules/auth/token-deny-list.ts says how
// they end up in one HTTP request). requireAuth verifies the signature first (CPU only), then
// awaits it.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.ts';
import type { UserRole } from '../../db/schema.ts';
import { AppError } from '../../lib/errors.ts';
import { authenticateApiKey } from '../api-keys/api-key-auth.ts';
import { AccessTokenError, type AccessTokenRefusal } from './access-tokens.ts';
import { isUnsafeMethod, verifyCsrf } from './csrf.ts';
import { checkPermission, type Permission } from './permissions.ts';
import type { Principal } from './principal.ts';
import { sessionCookieOf, sessionPrincipal } from './sessions.ts';
import { startRevocationCheck } from './token-deny-list.ts';

const realm = 'nexus-edge';

type Refusal = 'missing' | AccessTokenRefusal | 'revoked';

const refusalMessages: Record<Refusal, string> = {
  missing: 'Authentication required',
  expired: 'The access token has expired; refresh the session',
  invalid: 'The access token is not valid',
  revoked: 'The access token has been revoked',
};

/** 401 with the RFC 6750 challenge; `reason` lets a client tell "refresh" from "sign in again". */
function unauthorized(reason: Refusal): AppError {
  const challenge =
    reason === 'missing'
      ? `Bearer realm="${realm}"`
      : `Bearer realm="${realm}", error="invalid_token", error_description="${refusalMessages[reason]}"`;
  return new AppError('UNAUTHORIZED', refusalMessages[reason], {
    details: { reason },
    headers: { 'WWW-Authenticate': challenge },
  });
}

type Credentials =
  | { kind: 'api-key'; key: string }
  | { kind: 'bearer' | 'cookie'; token: string }
  | { kind: 'malformed' };

function credentialsOf(c: Context<AppEnv>): Credentials | undefined {
  const apiKey = c.req.header('X-API-Key');
  if (apiKey !== undefined) return { kind: 'api-key', key: apiKey };
  const authorization = c.req.header('Authorization');
  if (authorization !== undefined) {
    const token = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim())?.[1];
    return token === undefined ? { kind: 'malformed' } : { kind: 'bearer', token };
  }
  const cookie = sessionCookieOf(c);
  return cookie === undefined ? undefined : { kind: 'cookie', token: cookie };
}

/**
 * Starts the deny-list read of the presented access token without awaiting it. Register it right
 * before the general rate limit: both then leave in the same tick.
 */
export const prefetchTokenRevocation = () =>
  createMiddleware<AppEnv>((c, next) => {
    const credentials = credentialsOf(c);
    if (credentials?.kind === 'bearer' || credentials?.kind === 'cookie') {
      const deps = c.get('deps');
      const peek = deps.tokens.peek(credentials.token);
      if (peek !== undefined) {
        c.set(
          'tokenRevocation',
          startRevocationCheck(deps.redis, peek, deps.config.RATE_LIMIT_TIMEOUT_MS),
        );
      }
    }
    return next();
  });

async function authenticateSession(
  c: Context<AppEnv>,
  token: string,
  viaCookie: boolean,
): Promise<Principal> {
  const deps = c.get('deps');
  let verified: Awaited<ReturnType<typeof deps.tokens.verify>>;
  try {
    verified = await deps.tokens.verify(token);
  } catch (error) {
    if (error instanceof AccessTokenError) throw unauthorized(error.reason);
    throw error;
  }
  const prefetched = c.get('tokenRevocation');
  const pending =
    prefetched?.tokenId === verified.tokenId && prefetched.sessionId === verified.sessionId
      ? prefetched
      : startRevocationCheck(
          deps.redis,
          { tokenId: verified.tokenId, sessionId: verified.sessionId, userId: verified.userId },
          deps.config.RATE_LIMIT_TIMEOUT_MS,
        );
  const status = await pending.status;
  // Without the deny-list a revoked token cannot be told from a good one: refuse, as the auth
  // rate-limit policy does, rather than let a signed-out token back in.
  if (status.state === 'unavailable') {
    c.get('event').denyList = 'unavailable';
    throw new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to authenticate the request', {
      details: { backend: 'redis' },
      cause: `token deny-list unavailable: ${status.reason}`,
    });
  }
  if (status.revoked) throw unauthorized('revoked');
  if (viaCookie && isUnsafeMethod(c.req.method)) verifyCsrf(c);
  return sessionPrincipal(verified);
}

/** The principal of the request's credentials; undefined when it presents none. */
async function authenticate(c: Context<AppEnv>): Promise<Principal | undefined> {
  const credentials = credentialsOf(c);
  if (credentials === undefined) return undefined;
  let principal: Principal;
  switch (credentials.kind) {
    case 'api-key':
      principal = await authenticateApiKey(c, credentials.key);
      break;
    case 'malformed':
      throw unauthorized('invalid');
    default:
      principal = await authenticateSession(c, credentials.token, credentials.kind === 'cookie');
  }
  c.set('principal', principal);
  c.get('event').userId = principal.userId;
  c.get('event').auth = principal.via;
  return principal;
}

/** 401 UNAUTHORIZED unless the request carries valid credentials. */
export const requireAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if ((await authenticate(c)) === undefined) throw unauthorized('missing');
    await next();
  });

/** Anonymous requests pass; credentials that are presented must be valid (else 401). */
export const optionalAuth = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await authenticate(c);
    await next();
  });

/** The authenticated principal, for handlers behind requireAuth. */
export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get('principal');
  if (principal === undefined) throw unauthorized('missing');
  return principal;
}

/** 403 FORBIDDEN unless the principal has one of the roles. */
export const requireRole = (...roles: UserRole[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!roles.includes(principalOf(c).role)) {
      throw new AppError('FORBIDDEN', 'Your role does not allow this');
    }
    await next();
  });

function assertPermission(principal: Principal, permission: Permission): void {
  const check = checkPermission(principal, permission);
  if (check === 'role-lacks') {
    throw new AppError('FORBIDDEN', 'You do not have permission to do this', {
      details: { permission },
    });
  }
  if (check === 'scope-lacks') {
    throw new AppError('SCOPE_MISSING', `The API key lacks the scope ${permission}`, {
      details: { permission },
    });
  }
}

/** 403 FORBIDDEN unless the role grants it; 403 SCOPE_MISSING when an API key's scopes lack it. */
export const requirePermission = (permission: Permission) =>
  createMiddleware<AppEnv>(async (c, next) => {
    assertPermission(principalOf(c), permission);
    await next();
  });

/**
 * 403 EMAIL_NOT_VERIFIED for a principal whose email address is not verified yet. An access token
 * tells what was true when it was issued, so when it says "not verified", `verifiedNow` asks the
 * source of truth: a user who has just followed the link needs no refresh. Verified tokens, the
 * common case, cost nothing more.
 */
export const requireVerifiedEmail = (
  verifiedNow: (c: Context<AppEnv>, userId: string) => Promise<boolean>,
) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = principalOf(c);
    if (!principal.emailVerified && !(await verifiedNow(c, principal.userId))) {
      throw new AppError('EMAIL_NOT_VERIFIED', 'Verify your email address first', {
        details: { verifyWith: 'POST /v1/auth/verify-email/request' },
      });
    }
    await next();
  });

/**
 * Ownership: passes when the path parameter is the principal's own user id, or the principal
 * holds `permission` (e.g. an admin's users:read); else 403 FORBIDDEN. Not 404: user ids are
 * public (profiles are readable by id), so the answer reveals nothing.
 *
 * `selfPermission` is what acting on oneself takes (e.g. profile:write), checked like
 * requirePermission: without it an API key would reach, through its owner's id, what its scopes
 * refuse on /v1/me.
 */
export const requireSelfOrPermission = (
  paramName: string,
  permission: Permission,
  selfPermission?: Permission,
) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const principal = principalOf(c);
    if (c.req.param(paramName) !== principal.userId) assertPermission(principal, permission);
    else if (selfPermission !== undefined) assertPermission(principal, selfPermission);
    await next();
  });

/**
 * 403 FORBIDDEN for a request authenticated by an API key: account and key management take a
 * signed-in session. A key that could create keys would let whoever holds a leaked key mint fresh
 * ones that outlive its revocation.
 */
export const requireSession = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (principalOf(c).via === 'api-key') {
      throw new AppError('FORBIDDEN', 'This action needs a signed-in session, not an API key');
    }
    await next();
  });
