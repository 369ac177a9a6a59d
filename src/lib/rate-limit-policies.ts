// The named rate-limit policies: how many requests per window, and what happens when Redis
// cannot answer. Their limiters are built for each request, on that request's Redis client; the
// memory of blocked clients is kept per isolate, so it outlives a single request.
import type { Config, RateLimitRule } from '../config.ts';
import { FixedWindowLimiter } from './fixed-window-limiter.ts';
import type { UpstashRedis } from './redis.ts';

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
  readonly limiter: FixedWindowLimiter;
}

export type RateLimitPolicies = Readonly<Record<RateLimitPolicyName, RateLimitPolicy>>;

export type { RateLimitResult } from './fixed-window-limiter.ts';

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

export function createRateLimitPolicies(
  redis: UpstashRedis,
  config: Config,
  blockedClients: BlockedClients,
): RateLimitPolicies {
  const policy = (
    name: RateLimitPolicyName,
    rule: RateLimitRule,
    whenRedisDown: RateLimitPolicy['whenRedisDown'],
  ): RateLimitPolicy => ({
    name,
    rule,
    whenRedisDown,
    limiter: new FixedWindowLimiter({
      redis,
      // A fixed window keeps Retry-After honest: when the window ends the count starts from zero,
      // whereas a sliding window still counts the last window's requests and would refuse the
      // retry it had just announced.
      limit: rule.limit,
      windowMs: rule.windowMs,
      prefix: `ratelimit:${name}`,
      // One map per policy and isolate: clients over their limit are refused from memory until
      // their window ends, with no round trip. An expired entry goes at its client's next look-up.
      ephemeralCache: blockedClients[name],
      timeoutMs: config.RATE_LIMIT_TIMEOUT_MS,
    }),
  });
  return {
    general: policy('general', config.RATE_LIMIT_GENERAL, 'allow'),
    auth: policy('auth', config.RATE_LIMIT_AUTH, 'refuse'),
    // Per address: mass sign-ups and reset-email floods; both send email, so neither runs unmetered.
    signup: policy('signup', config.RATE_LIMIT_SIGNUP, 'refuse'),
    passwordReset: policy('passwordReset', config.RATE_LIMIT_PASSWORD_RESET, 'refuse'),
    // Per key, on top of the general policy per address: a key shared by many machines still has
    // one budget. Its Redis-down rule is the general one: a key is already authenticated.
    apiKey: policy('apiKey', config.RATE_LIMIT_API_KEY, 'allow'),
    // Per partner, instead of the general policy per address: a partner sends from many addresses
    // and in bursts. Unsigned requests are still metered, so they cannot cost unbounded work.
    webhook: policy('webhook', config.RATE_LIMIT_WEBHOOK, 'allow'),
    // Per account and kind of email (reset, verification), whoever asks: the address limits above
    // cannot stop many addresses from flooding one inbox. Without Redis no such email is sent.
    accountEmail: policy('accountEmail', config.RATE_LIMIT_ACCOUNT_EMAIL, 'refuse'),
  };
}
