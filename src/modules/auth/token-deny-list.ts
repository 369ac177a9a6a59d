// Revoking access tokens before they expire, in Redis: `deny:<jti>` refuses one token (logout),
// `deny-session:<sid>` every token of one session, i.e. one refresh-token family (logout, reuse
// of a refresh token, password change or reset, role change, account deletion). Revoking by
// session is exact: a session started after the revocation has a new id and is not caught, while
// a token issued a moment before it is, whatever second each fell in. Each entry lives only as
// long as the tokens it refuses.
//
// The read is one pair of GETEX commands issued without awaiting, in the tick of the rate-limit
// check, so they leave in its pipelined request (src/platform/redis.ts). GETEX without options
// reads like GET, but Upstash routes it as a write, to the primary, which has seen the logout,
// rather than to a replica that may not have yet; the rate limiter's script goes there anyway.
import { withTimeout } from '../../lib/timeout.ts';
import type { Redis } from '../../platform/redis.ts';
import { clockToleranceSeconds, type TokenPeek } from './access-tokens.ts';

const tokenKey = (tokenId: string) => `deny:${tokenId}`;
const sessionKey = (sessionId: string) => `deny-session:${sessionId}`;

export type RevocationStatus =
  | { state: 'known'; revoked: boolean }
  | { state: 'unavailable'; reason: string };

/** A deny-list read on its way, for the token it was started for. */
export interface PendingRevocationCheck extends TokenPeek {
  status: Promise<RevocationStatus>;
}

/** Issues the read at once (never awaited here): commands of the same tick share one request. */
export function startRevocationCheck(
  redis: Redis,
  token: TokenPeek,
  timeoutMs: number,
): PendingRevocationCheck {
  const reads = Promise.all([
    redis.getex<unknown>(tokenKey(token.tokenId)),
    redis.getex<unknown>(sessionKey(token.sessionId)),
  ]);
  const status = withTimeout(reads, timeoutMs).then(
    ([token, session]): RevocationStatus => ({
      state: 'known',
      revoked: token !== null || session !== null,
    }),
    (error: unknown): RevocationStatus => ({
      state: 'unavailable',
      reason: error instanceof Error ? error.message : String(error),
    }),
  );
  return { ...token, status };
}

/** Refuses one access token from now until it would have expired anyway. */
export async function denyAccessToken(
  redis: Redis,
  tokenId: string,
  expiresAtSeconds: number,
): Promise<void> {
  await redis.set(tokenKey(tokenId), 1, { exat: expiresAtSeconds + clockToleranceSeconds });
}

/** Refuses every access token of these sessions until the newest of them would have expired. */
export async function denySessions(
  redis: Redis,
  sessionIds: readonly string[],
  accessTokenTtlSeconds: number,
): Promise<void> {
  const ex = accessTokenTtlSeconds + clockToleranceSeconds;
  await Promise.all(sessionIds.map((id) => redis.set(sessionKey(id), 1, { ex })));
}
