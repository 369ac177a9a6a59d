// Counts requests against a named policy (src/platform/rate-limits.ts) and answers 429 once a
// client is over its limit. Every counted response carries the IETF draft RateLimit-* headers.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { clientIp, clientKey } from '../lib/client-ip.ts';
import { AppError } from '../lib/errors.ts';
import { sha256Hex } from '../lib/opaque-tokens.ts';
import { waitUntil } from '../lib/wait-until.ts';
import type {
  RateLimitPolicy,
  RateLimitPolicyName,
  RateLimitResult,
} from '../platform/rate-limits.ts';
import type { PrefetchedRoute, RoutePrefetch } from './route-prefetch.ts';

/** Who a request counts against; the same identifier always shares one count. */
export type RateLimitKey = (c: Context<AppEnv>) => string | Promise<string>;

export const byClientIp = (c: Context<AppEnv>): string =>
  `ip:${clientKey(clientIp(c, c.get('deps').config.CLIENT_IP_HEADER))}`;

/**
 * For sign-in and similar routes: the client's address together with the `email` of the JSON
 * body, so one address guessing one account's password is stopped without locking out everyone
 * behind the same NAT. The email is hashed: Redis keys are not a place for personal data.
 * A body without an email counts against the address alone; the route's validator rejects it.
 */
export const byClientIpAndEmail: RateLimitKey = async (c) => {
  const ip = byClientIp(c);
  const body: unknown = await c.req.json().catch(() => undefined);
  const email =
    typeof body === 'object' && body !== null && 'email' in body && typeof body.email === 'string'
      ? body.email.trim().toLowerCase()
      : '';
  return email === '' ? ip : `${ip}:email:${await sha256Hex(email)}`;
};

const headerNames = {
  limit: 'RateLimit-Limit',
  remaining: 'RateLimit-Remaining',
  reset: 'RateLimit-Reset',
  policy: 'RateLimit-Policy',
} as const;

function secondsUntil(resetMs: number): number {
  // The reset time comes from the library's Date.now(), so it is compared with the same clock.
  return Math.max(0, Math.ceil((resetMs - Date.now()) / 1000));
}

type RateLimitCount = Pick<RateLimitResult, 'limit' | 'remaining' | 'reset'>;

function headersFor(policy: RateLimitPolicy, result: RateLimitCount): Record<string, string> {
  return {
    [headerNames.limit]: String(result.limit),
    [headerNames.remaining]: String(result.remaining),
    [headerNames.reset]: String(secondsUntil(result.reset)),
    [headerNames.policy]: `${policy.rule.limit};w=${Math.round(policy.rule.windowMs / 1000)}`,
  };
}

/** With several policies on one route, the client is shown the one closest to refusing it. */
function showTightest(target: Headers, headers: Record<string, string>): void {
  const shown = target.get(headerNames.remaining);
  if (shown !== null && Number(shown) <= Number(headers[headerNames.remaining])) return;
  for (const [name, value] of Object.entries(headers)) target.set(name, value);
}

function record(c: Context<AppEnv>, policy: RateLimitPolicyName, outcome: Record<string, unknown>) {
  const previous = c.get('event').rateLimit as Record<string, unknown> | undefined;
  c.get('event').rateLimit = { ...previous, [policy]: outcome };
}

// The Redis client's errors (src/platform/redis.ts) name no key, so the client's key stays out of
// the log.
function unavailableReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function whenUnavailable(
  c: Context<AppEnv>,
  policy: RateLimitPolicy,
  reason: string,
  next: () => Promise<void>,
): Promise<void> {
  if (policy.whenRedisDown === 'refuse') {
    record(c, policy.name, { outcome: 'refused-unavailable', reason });
    throw new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to serve this request', {
      details: { policy: policy.name },
      cause: `rate limit unavailable: ${reason}`,
    });
  }
  record(c, policy.name, { outcome: 'allowed-unavailable', reason });
  c.get('deps').logger.warn('rate limit unavailable; request allowed', {
    requestId: c.get('requestId'),
    policy: policy.name,
    reason,
  });
  await next();
}

/** The 429 a client over `policy` gets, with Retry-After; also used where a route counts by itself. */
export function rateLimited(
  c: Context<AppEnv>,
  policy: RateLimitPolicy,
  result: RateLimitCount,
): AppError {
  const retryAfterSeconds = Math.max(1, secondsUntil(result.reset));
  record(c, policy.name, { outcome: 'limited', retryAfterSeconds });
  return new AppError('RATE_LIMITED', `Too many requests; retry in ${retryAfterSeconds} s`, {
    headers: { ...headersFor(policy, result), 'Retry-After': String(retryAfterSeconds) },
    details: {
      policy: policy.name,
      retryAfterSeconds,
      retryAt: new Date(result.reset).toISOString(),
    },
  });
}

export interface RateLimitOptions {
  /** Who is counted; the client's address unless given. */
  key?: RateLimitKey;
}

/**
 * Begins a route's own policy check (counted per address) in the tick of the general limit, so
 * both share its Redis round trip. The route's rateLimit(name) then awaits this check instead of
 * sending its own. A request the general limit refuses has still been counted here, as it would
 * be by a client retrying anyway.
 */
function startRateLimit(name: RateLimitPolicyName, method: string) {
  return createMiddleware<AppEnv>((c, next) => {
    if (c.req.method !== method.toUpperCase()) return next();
    const identifier = byClientIp(c);
    const check = c.get('deps').rateLimits[name].limiter.limit(identifier);
    // Awaited by the route's middleware; a request refused before it drops the check unread.
    check.catch(() => {});
    c.set('startedRateLimits', { ...c.get('startedRateLimits'), [name]: { identifier, check } });
    return next();
  });
}

/** A route policy's count, begun with the general rate limit. */
export function rateLimitPrefetch(
  route: PrefetchedRoute,
  name: RateLimitPolicyName,
): RoutePrefetch {
  return { path: route.getRoutingPath(), handler: startRateLimit(name, route.method) };
}

export function rateLimit(name: RateLimitPolicyName, options: RateLimitOptions = {}) {
  const key = options.key ?? byClientIp;
  return createMiddleware<AppEnv>(async (c, next) => {
    const policy = c.get('deps').rateLimits[name];
    const keyed = key(c);
    const identifier = typeof keyed === 'string' ? keyed : await keyed;
    const started = c.get('startedRateLimits')?.[name];
    // With a synchronous key the check is issued before this middleware awaits anything, so Redis
    // commands issued in the same tick by the middleware before it share its round trip
    // (auto-pipelining, src/platform/redis.ts).
    const check =
      started?.identifier === identifier ? started.check : policy.limiter.limit(identifier);
    let result: RateLimitResult;
    try {
      result = await check;
    } catch (error) {
      return whenUnavailable(c, policy, unavailableReason(error), next);
    }
    if (result.reason === 'timeout') return whenUnavailable(c, policy, 'timeout', next);
    waitUntil(c, 'rate-limit', result.pending);

    const headers = headersFor(policy, result);
    if (!result.success) throw rateLimited(c, policy, result);
    record(c, name, { outcome: 'allowed', remaining: result.remaining });
    await next();
    // After next(): an error response built further down replaces whatever was set before.
    showTightest(c.res.headers, headers);
  });
}

const nothingMore = async () => {};

/**
 * Counts this request against a policy from inside a handler or another middleware, where no
 * chain follows: resolves when allowed, rejects with the policy's 429 (or its Redis-down 503).
 * With a synchronous key, the check leaves in the current tick, as the middleware's does.
 */
export async function countRequest(
  c: Context<AppEnv>,
  name: RateLimitPolicyName,
  options: RateLimitOptions = {},
): Promise<void> {
  await rateLimit(name, options)(c, nothingMore);
}
