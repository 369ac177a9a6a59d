// Revoking access tokens before they expire, in Redis: `deny:<jti>` for one token (logout), and
// `deny-user:<userId>` holding a time before which every token of that user is refused (password
// change or reset, account deletion). Each entry lives only as long as the tokens it refuses.
//
// The read is one pair of GETEX commands, issued without awaiting: auto-pipelining (src/lib/redis.ts)
// sends them in the very HTTP request of the rate-limit check. GETEX without options reads like
// GET, but Upstash counts it as a write, so the primary answers it, which has seen the logout,
// rather than a replica that may not have yet.
import { clockToleranceSeconds, type TokenPeek } from './access-tokens.ts';
import type { UpstashRedis } from './redis.ts';
import { withTimeout } from './timeout.ts';

const tokenKey = (tokenId: string) => `deny:${tokenId}`;
const userKey = (userId: string) => `deny-user:${userId}`;

export type RevocationStatus =
  | { state: 'known'; tokenDenied: boolean; userTokensDeniedBefore: number | undefined }
  | { state: 'unavailable'; reason: string };

/** A deny-list read on its way, for the token it was started for. */
export interface PendingRevocationCheck extends TokenPeek {
  status: Promise<RevocationStatus>;
}

/** Issues the read at once (never awaited here): commands of the same tick share one request. */
export function startRevocationCheck(
  redis: UpstashRedis,
  token: TokenPeek,
  timeoutMs: number,
): PendingRevocationCheck {
  const reads = Promise.all([
    redis.getex<unknown>(tokenKey(token.tokenId)),
    redis.getex<unknown>(userKey(token.userId)),
  ]);
  const status = withTimeout(reads, timeoutMs).then(
    ([denied, before]): RevocationStatus => ({
      state: 'known',
      tokenDenied: denied !== null,
      userTokensDeniedBefore: before === null ? undefined : Number(before),
    }),
    (error: unknown): RevocationStatus => {
      // UpstashRedis's errors name the command, never its key, which holds the token id.
      const reason = error instanceof Error ? error.message : String(error);
      return { state: 'unavailable', reason };
    },
  );
  return { ...token, status };
}

export function isRevoked(
  status: Extract<RevocationStatus, { state: 'known' }>,
  issuedAtSeconds: number,
): boolean {
  const before = status.userTokensDeniedBefore;
  return status.tokenDenied || (before !== undefined && issuedAtSeconds < before);
}

/** Refuses one access token from now until it would have expired anyway. */
export async function denyAccessToken(
  redis: UpstashRedis,
  tokenId: string,
  expiresAtSeconds: number,
): Promise<void> {
  await redis.set(tokenKey(tokenId), 1, { exat: expiresAtSeconds + clockToleranceSeconds });
}

/**
 * Refuses every access token of the user issued before this second. A token issued within the
 * same second stays valid: the session issued right after a password change must work.
 */
export async function denyUserTokens(
  redis: UpstashRedis,
  userId: string,
  now: Date,
  accessTokenTtlSeconds: number,
): Promise<void> {
  await redis.set(userKey(userId), Math.floor(now.getTime() / 1000), {
    ex: accessTokenTtlSeconds + clockToleranceSeconds,
  });
}
