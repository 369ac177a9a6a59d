// Password guesses, counted against the `auth` policy: only WRONG passwords use up the allowance,
// so someone who knows their password is never locked out by signing in often.
// Login (spend/refund): one unit is taken atomically (the limiter's INCR) BEFORE the password is
// checked, and given back once the password turns out right (or no verdict was reached). Taking
// first is what holds under parallel guesses: a read-then-count check let every request racing
// the read through, so 30 parallel guesses got 15 password checks against a limit of 5. With 5
// per window at most 5 wrong guesses are ever checked; the next is refused before its check.
// A refused attempt is not counted (the sliding window's script adds only what it allows), so
// there is nothing to give back for it.
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { AppError } from '../../lib/errors.ts';
import { byClientIpAndEmail, rateLimited } from '../../middleware/rate-limit.ts';
import type { RateLimitPolicy, RateLimitResult } from '../../platform/rate-limits.ts';

export interface FailedAttempts {
  /**
   * Takes one guess from the allowance before a password is checked: 429 when none is left (also
   * for the right password, so a guesser cannot tell it found it), 503 when Redis cannot tell.
   */
  spend(): Promise<void>;
  /** Gives back what spend() took: the password was right, or never judged. Never throws. */
  refund(): Promise<void>;
}

function unavailable(cause: unknown): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to serve this request', {
    details: { policy: 'auth' },
    cause,
  });
}

/** One count of `rate` units (negative gives back); a timeout throws like an unreachable Redis. */
async function count(
  limiter: RateLimitPolicy['limiter'],
  key: string,
  rate: number,
): Promise<RateLimitResult> {
  const result = await limiter.limit(key, { rate });
  if (result.reason === 'timeout') throw new Error('rate limit timeout');
  await result.pending;
  return result;
}

/** Guesses keyed by this request's address and `email`, or by `identifier` (e.g. the user id). */
export async function failedAttempts(
  c: Context<AppEnv>,
  identifier?: string,
): Promise<FailedAttempts> {
  const policy = c.get('deps').rateLimits.auth;
  const key = identifier ?? (await byClientIpAndEmail(c));
  const showAllowed = (remaining: number) => {
    const shown = c.get('event').rateLimit as Record<string, unknown> | undefined;
    c.get('event').rateLimit = { ...shown, auth: { outcome: 'allowed', remaining } };
  };
  // When the window of the unit spend() took ends; undefined once nothing is held.
  let heldUntil: number | undefined;
  return {
    async spend() {
      let result: RateLimitResult;
      try {
        result = await count(policy.limiter, key, 1);
      } catch (error) {
        throw unavailable(error);
      }
      if (!result.success) throw rateLimited(c, policy, result);
      heldUntil = result.reset;
      showAllowed(result.remaining);
    },
    async refund() {
      const until = heldUntil;
      heldUntil = undefined;
      // A unit taken in a window that has since ended went with that window; decrementing now
      // would take one off the next window's count and allow one more guess there.
      if (until === undefined || Date.now() >= until) return;
      try {
        await count(policy.limiter, key, -1);
      } catch (error) {
        // The sign-in itself succeeded; a lost refund only counts it as one failure.
        c.get('deps').logger.warn('failed-attempt refund lost', {
          requestId: c.get('requestId'),
          policy: policy.name,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    },
  };
}
