// Sessions: a short-lived access JWT plus an opaque refresh token that is rotated on every use.
// One sign-in starts a refresh-token family; presenting a token that was already exchanged means a
// copy leaked, and the whole family is revoked. Logout refuses the access token at once (deny-list
// in Redis) and revokes its family.
//
// Cookie mode keeps both tokens out of the page's reach: `__Host-session` (the access token) and
// `__Host-refresh` (the refresh token) are httpOnly and Secure; `__Host-csrf` is the readable
// double-submit token (src/modules/auth/csrf.ts). Browsers accept Secure cookies over plain http
// only from localhost: develop against http://localhost:8787.
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../../app-env.ts';
import type { UserRow } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import { AppError } from '../../lib/errors.ts';
import { randomToken, sha256Hex } from '../../lib/opaque-tokens.ts';
import type { VerifiedAccessToken } from './access-tokens.ts';
import { csrfCookie, newCsrfToken } from './csrf.ts';
import type { Principal } from './principal.ts';
import {
  createRefreshTokenRepository,
  type NewRefreshToken,
  type TokenOwner,
} from './refresh-tokens.ts';
import { denyAccessToken, denySessions } from './token-deny-list.ts';

export type SessionDeps = Pick<Deps, 'config' | 'db' | 'redis' | 'clock' | 'logger' | 'tokens'>;

export type SessionUser = Pick<UserRow, 'id' | 'role' | 'emailVerifiedAt'>;

/** Where the session was started from, for the security log. */
export interface SessionMeta {
  ip?: string;
  userAgent?: string;
}

export interface Session {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

const sessionCookie = 'session';
const refreshCookie = 'refresh';

async function tokensFor(
  deps: SessionDeps,
  user: SessionUser,
  familyId: string,
): Promise<{ session: Session; refreshTokenHash: string }> {
  const refreshToken = randomToken();
  const refreshTokenExpiresAt = new Date(
    deps.clock.now().getTime() + deps.config.REFRESH_TOKEN_TTL * 1000,
  );
  const [access, refreshTokenHash] = await Promise.all([
    deps.tokens.sign({
      userId: user.id,
      role: user.role,
      emailVerified: user.emailVerifiedAt !== null,
      sessionId: familyId,
    }),
    sha256Hex(refreshToken),
  ]);
  return {
    session: {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt,
    },
    refreshTokenHash,
  };
}

/** Who a verified access token speaks for. */
export function sessionPrincipal(token: VerifiedAccessToken): Principal {
  return {
    userId: token.userId,
    role: token.role,
    emailVerified: token.emailVerified,
    via: 'session',
    tokenId: token.tokenId,
    tokenExpiresAt: token.expiresAt,
    sessionId: token.sessionId,
  };
}

/**
 * A new session's tokens and the refresh-token row that makes it live, not yet stored: for a write
 * that stores the row in its own batch (registration). Log it with logSessionIssued once stored.
 */
export async function prepareSession(
  deps: SessionDeps,
  user: SessionUser,
): Promise<{ session: Session; row: NewRefreshToken }> {
  const familyId = crypto.randomUUID();
  const { session, refreshTokenHash } = await tokensFor(deps, user, familyId);
  return {
    session,
    row: {
      userId: user.id,
      familyId,
      tokenHash: refreshTokenHash,
      expiresAt: session.refreshTokenExpiresAt,
    },
  };
}

export function logSessionIssued(deps: SessionDeps, row: NewRefreshToken, meta: SessionMeta): void {
  deps.logger.info('session issued', { userId: row.userId, sessionId: row.familyId, ...meta });
}

/** A new session (and refresh-token family) for a user who just proved who they are. */
export async function issueSession(
  deps: SessionDeps,
  user: SessionUser,
  meta: SessionMeta = {},
): Promise<Session> {
  const { session, row } = await prepareSession(deps, user);
  await createRefreshTokenRepository(deps.db).insert(row);
  logSessionIssued(deps, row, meta);
  return session;
}

function refused(reason: string): AppError {
  return new AppError('UNAUTHORIZED', 'The refresh token is not valid; sign in again', {
    details: { reason },
  });
}

async function revokeFamilyOf(deps: SessionDeps, owner: TokenOwner): Promise<void> {
  const now = deps.clock.now();
  await Promise.all([
    createRefreshTokenRepository(deps.db).revokeFamily(owner.familyId, owner.userId, now),
    // The family's access tokens may be in the same wrong hands; the user's other sessions
    // are not touched.
    denySessions(deps.redis, [owner.familyId], deps.config.ACCESS_TOKEN_TTL),
  ]);
}

/**
 * Exchanges a refresh token for a new session of the same family. Throws 401 UNAUTHORIZED for an
 * unknown, expired or revoked token, and 401 REFRESH_TOKEN_REUSED (after revoking the family) for
 * one that was already exchanged.
 */
export async function rotateRefreshToken(
  deps: SessionDeps,
  refreshToken: string,
): Promise<Session> {
  const successor = randomToken();
  const now = deps.clock.now();
  const [presentedHash, successorHash] = await Promise.all([
    sha256Hex(refreshToken),
    sha256Hex(successor),
  ]);
  const expiresAt = new Date(now.getTime() + deps.config.REFRESH_TOKEN_TTL * 1000);
  const result = await createRefreshTokenRepository(deps.db).rotate({
    presentedHash,
    successor: { id: crypto.randomUUID(), tokenHash: successorHash, expiresAt },
    now,
  });
  if (result.outcome === 'reused') {
    // Once is enough: replaying an old token must not keep signing the user's devices out.
    if (!result.familyRevoked) {
      await revokeFamilyOf(deps, result.owner);
      deps.logger.warn('refresh token reused; session family revoked', {
        userId: result.owner.userId,
        sessionId: result.owner.familyId,
      });
    }
    throw new AppError(
      'REFRESH_TOKEN_REUSED',
      'This refresh token was already used; every session it belonged to is signed out',
    );
  }
  if (result.outcome !== 'rotated') throw refused(result.outcome);
  const { owner } = result;
  if (owner.deletedAt !== null) {
    await revokeFamilyOf(deps, owner);
    throw refused('revoked');
  }
  const access = await deps.tokens.sign({
    userId: owner.userId,
    role: owner.role,
    emailVerified: owner.emailVerifiedAt !== null,
    sessionId: owner.familyId,
  });
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken: successor,
    refreshTokenExpiresAt: expiresAt,
  };
}

/**
 * Logout: the presented access token is refused from now on and its refresh-token family is
 * revoked, as is the family of `refreshToken` when one is given (and is the principal's).
 */
export async function revokeSession(
  deps: SessionDeps,
  principal: Principal,
  refreshToken?: string,
): Promise<void> {
  const now = deps.clock.now();
  const repository = createRefreshTokenRepository(deps.db);
  const ttl = deps.config.ACCESS_TOKEN_TTL;
  await Promise.all([
    principal.tokenId !== undefined && principal.tokenExpiresAt !== undefined
      ? denyAccessToken(deps.redis, principal.tokenId, principal.tokenExpiresAt)
      : undefined,
    principal.sessionId !== undefined
      ? Promise.all([
          repository.revokeFamily(principal.sessionId, principal.userId, now),
          denySessions(deps.redis, [principal.sessionId], ttl),
        ])
      : undefined,
    refreshToken !== undefined
      ? sha256Hex(refreshToken)
          .then((hash) => repository.revokeFamilyOfToken(hash, principal.userId, now))
          .then((families) => denySessions(deps.redis, families, ttl))
      : undefined,
  ]);
}

/** Every session of the user ends now: password change or reset, account deletion. */
export async function revokeAllSessions(deps: SessionDeps, userId: string): Promise<void> {
  const now = deps.clock.now();
  const families = await createRefreshTokenRepository(deps.db).revokeAllOfUser(userId, now);
  await denySessions(deps.redis, families, deps.config.ACCESS_TOKEN_TTL);
}

/**
 * Cookie mode: puts the session in httpOnly cookies and a fresh CSRF token in the readable one.
 * Returns the CSRF token too, for a page on another origin, which cannot read our cookie.
 */
export function setSessionCookies(c: Context<AppEnv>, session: Session): { csrfToken: string } {
  const { config } = c.get('deps');
  const csrfToken = newCsrfToken();
  const common = { prefix: 'host', path: '/', secure: true } as const;
  setCookie(c, sessionCookie, session.accessToken, {
    ...common,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: config.ACCESS_TOKEN_TTL,
  });
  setCookie(c, refreshCookie, session.refreshToken, {
    ...common,
    httpOnly: true,
    sameSite: 'Strict',
    maxAge: config.REFRESH_TOKEN_TTL,
  });
  setCookie(c, csrfCookie, csrfToken, {
    ...common,
    sameSite: 'Strict',
    maxAge: config.REFRESH_TOKEN_TTL,
  });
  return { csrfToken };
}

export function clearSessionCookies(c: Context<AppEnv>): void {
  for (const name of [sessionCookie, refreshCookie, csrfCookie]) {
    deleteCookie(c, name, { prefix: 'host', path: '/', secure: true });
  }
}

/** The access token of cookie mode, if the request carries one. */
export function sessionCookieOf(c: Context<AppEnv>): string | undefined {
  return getCookie(c, sessionCookie, 'host');
}

/** The refresh token of cookie mode, for the refresh route. */
export function refreshCookieOf(c: Context<AppEnv>): string | undefined {
  return getCookie(c, refreshCookie, 'host');
}
