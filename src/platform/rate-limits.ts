// The named rate-limit policies: how many requests per window, which algorithm of
// @upstash/ratelimit counts them, and what happens when Redis cannot answer. Their limiters are
// built for each request, on that request's Redis client; the memory of blocked clients is kept per
// isolate, so it outlives a single request.
//
// Two algorithms, each where it serves:
// - Traffic (general, per API key, partner webhooks): a token bucket of `limit` tokens, one token
//   back every window/limit. Bursts up to the limit pass, the steady rate is the rule's, and a
//   refused client is told to come back when its next token arrives, not at the end of a window.
// - Abuse (login guesses, sign-ups, reset and verification emails): a sliding window. A fixed
//   window lets twice the limit through in an instant around its edge (5 guesses at 14:59:59, 5
//   more at 15:00:00); the sliding one, which weighs the previous window by the share of it still
//   in view, spreads the same allowance out (in the worst case 10 guesses take some 12 minutes).
//   Its Retry-After is the end of the current window, when the client may still be refused for
//   the window before: for these policies, slow beats exact.
import { Ratelimit } from '@upstash/ratelimit';
import type { Config, RateLimitRule } from '../config.ts';
import type { Redis } from './redis.ts';

export type RateLimitPolicyName =
  | 'general'
  | 'auth'
  | 'signup'
  | 'passwordReset'
  | 'apiKey'
  | 'webhook'
  | 'accountEmail';

export interface RateLimitPolicy {
  readonly name: RateLimitPolicyName;
  readonly rule: RateLimitRule;
  /**
   * Without Redis the limit cannot be known. "allow": serving everyone beats serving no one
   * (the request is logged with a warning). "refuse": the policy guards against guessing
   * passwords, and an unmetered guess is worse than a 503.
   */
  readonly whenRedisDown: 'allow' | 'refuse';
  readonly limiter: Ratelimit;
}

export type RateLimitPolicies = Readonly<Record<RateLimitPolicyName, RateLimitPolicy>>;

/** What a check answers: allowed or not, the count, when it resets, and work left for waitUntil. */
export type RateLimitResult = Awaited<ReturnType<Ratelimit['limit']>>;

/** Per policy, the clients over their limit and when their window ends. */
export type BlockedClients = Readonly<Record<RateLimitPolicyName, Map<string, number>>>;

export function rememberBlockedClients(): BlockedClients {
  return {
    general: new Map(),
    auth: new Map(),
    signup: new Map(),
    passwordReset: new Map(),
    apiKey: new Map(),
    webhook: new Map(),
    accountEmail: new Map(),
  };
}

type Algorithm = 'tokenBucket' | 'slidingWindow';

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

function limiterOf(algorithm: Algorithm, { limit, windowMs }: RateLimitRule) {
  if (algorithm === 'slidingWindow') return Ratelimit.slidingWindow(limit, `${windowMs} ms`);
  // `limit` tokens back per window, exactly, in the smallest whole steps: 100/15m is 1 token every
  // 9 s, 600/1s 3 tokens every 5 ms.
  const step = greatestCommonDivisor(limit, windowMs);
  return Ratelimit.tokenBucket(limit / step, `${windowMs / step} ms`, limit);
}

export function createRateLimitPolicies(
  redis: Redis,
  config: Config,
  blockedClients: BlockedClients,
): RateLimitPolicies {
  const policy = (
    name: RateLimitPolicyName,
    rule: RateLimitRule,
    algorithm: Algorithm,
    whenRedisDown: RateLimitPolicy['whenRedisDown'],
  ): RateLimitPolicy => {
    let limiter: Ratelimit | undefined;
    return {
      name,
      rule,
      whenRedisDown,
      // Built when a request first counts against the policy: most use one or two of them.
      get limiter() {
        limiter ??= new Ratelimit({
          redis,
          limiter: limiterOf(algorithm, rule),
          prefix: `ratelimit:${name}`,
          // One map per policy and isolate: clients over their limit are refused from memory
          // until their reset, with no round trip.
          ephemeralCache: blockedClients[name],
          // Past it the check resolves with reason "timeout", and the Redis-down rule applies.
          timeout: config.RATE_LIMIT_TIMEOUT_MS,
          analytics: false,
          enableTelemetry: false,
        });
        return limiter;
      },
    };
  };
  return {
    general: policy('general', config.RATE_LIMIT_GENERAL, 'tokenBucket', 'allow'),
    auth: policy('auth', config.RATE_LIMIT_AUTH, 'slidingWindow', 'refuse'),
    // Per address: mass sign-ups and reset-email floods; both send email, so neither runs
    // unmetered.
    signup: policy('signup', config.RATE_LIMIT_SIGNUP, 'slidingWindow', 'refuse'),
    passwordReset: policy(
      'passwordReset',
      config.RATE_LIMIT_PASSWORD_RESET,
      'slidingWindow',
      'refuse',
    ),
    // Per key, on top of the general policy per address: a key shared by many machines still has
    // one budget. Its Redis-down rule is the general one: a key is already authenticated.
    apiKey: policy('apiKey', config.RATE_LIMIT_API_KEY, 'tokenBucket', 'allow'),
    // Per partner, instead of the general policy per address: a partner sends from many addresses
    // and in bursts. Unsigned requests are still metered, so they cannot cost unbounded work.
    webhook: policy('webhook', config.RATE_LIMIT_WEBHOOK, 'tokenBucket', 'allow'),
    // Per account and kind of email (reset, verification), whoever asks: the address limits above
    // cannot stop many addresses from flooding one inbox. Without Redis no such email is sent.
    accountEmail: policy(
      'accountEmail',
      config.RATE_LIMIT_ACCOUNT_EMAIL,
      'slidingWindow',
      'refuse',
    ),
  };
}

/** A route policy's check begun by startRateLimit (src/middleware/rate-limit.ts), awaited by the route's own rateLimit(name). */
export interface StartedRateLimit {
  identifier: string;
  check: Promise<RateLimitResult>;
}
