// Password guesses, counted against the `auth` policy: only FAILED attempts use up the allowance,
// so someone who knows their password is never locked out by signing in often. Before checking a
// password the route reads what is left (getRemaining, no count); after a wrong one it counts it
// (limit). With 5 per window the 6th wrong guess is refused before its password is even checked.
// Two guesses racing each other can both pass the read: a handful over the limit at most.
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { AppError } from '../../lib/errors.ts';
import { byClientIpAndEmail, rateLimited } from '../../middleware/rate-limit.ts';

export interface FailedAttempts {
  /** Throws 429 when the allowance is used up (503 when Redis cannot tell: the policy fails closed). */
  ensureAllowed(): Promise<void>;
  /** Counts one wrong password. */
  recordFailure(): Promise<void>;
}

function unavailable(cause: unknown): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to serve this request', {
    details: { policy: 'auth' },
    cause,
  });
}

/** Guesses keyed by this request's address and `email`, or by `identifier` (e.g. the user id). */
export async function failedAttempts(
  c: Context<AppEnv>,
  identifier?: string,
): Promise<FailedAttempts> {
  const policy = c.var.deps.rateLimits.auth;
  const key = identifier ?? (await byClientIpAndEmail(c));
  return {
    async ensureAllowed() {
      let left: Awaited<ReturnType<typeof policy.limiter.getRemaining>>;
      try {
        left = await policy.limiter.getRemaining(key);
      } catch (error) {
        throw unavailable(error);
      }
      if (left.remaining <= 0) throw rateLimited(c, policy, left);
      const shown = c.var.event.rateLimit as Record<string, unknown> | undefined;
      c.var.event.rateLimit = { ...shown, auth: { outcome: 'allowed', remaining: left.remaining } };
    },
    async recordFailure() {
      try {
        const result = await policy.limiter.limit(key);
        if (result.reason === 'timeout') throw new Error('rate limit timeout');
        await result.pending;
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}
