// The fixed-window rate limiter of @upstash/ratelimit, which the Worker bundle cannot afford (about
// 9 KiB of its 150 KiB gzip budget for the one algorithm the app uses). It decides exactly as the
// library does and sends the same script under the same keys, so counts already in Redis carry
// over and tests/unit/fixed-window-limiter.test.ts can run both side by side.
import type { UpstashRedis } from './redis.ts';

export interface RateLimitResult {
  success: boolean;
  limit: number;
  remaining: number;
  /** When the window ends, in Unix milliseconds. */
  reset: number;
  /** Work left after the answer; always settled here, kept for the library's shape. */
  pending: Promise<unknown>;
  /** `timeout`: Redis did not answer in time and the request was let through uncounted. */
  reason?: 'timeout' | 'cacheBlock';
}

export interface FixedWindowLimiterOptions {
  redis: UpstashRedis;
  limit: number;
  windowMs: number;
  /** Keys are `${prefix}:${identifier}:${window number}`. */
  prefix: string;
  /** Full key → end of the window it was refused in: refused again from memory until then. */
  ephemeralCache: Map<string, number>;
  timeoutMs: number;
}

// Byte for byte the library's script (dynamic-limit lines included): the SHA-1 must stay the one
// Redis already caches for it, and EVAL after a NOSCRIPT must load the same text.
export const fixedWindowScript = `#!lua flags=allow-key-locking
  local key           = KEYS[1]
  local dynamicLimitKey = KEYS[2]  -- optional: key for dynamic limit in redis
  local tokens        = tonumber(ARGV[1])  -- default limit
  local window        = ARGV[2]
  local incrementBy   = ARGV[3] -- increment rate per request at a given value, default is 1

  -- Check for dynamic limit
  local effectiveLimit = tokens
  if dynamicLimitKey and dynamicLimitKey ~= "" then
    local dynamicLimit = redis.call("GET", dynamicLimitKey)
    if dynamicLimit then
      effectiveLimit = tonumber(dynamicLimit)
    end
  end

  local r = redis.call("INCRBY", key, incrementBy)
  if r == tonumber(incrementBy) then
  -- The first time this key is set, the value will be equal to incrementBy.
  -- So we only need the expire command once
  redis.call("PEXPIRE", key, window)
  end

  return {r, effectiveLimit}
`;

export const fixedWindowScriptSha1 = 'b2efc02798c8e9b471a10f9b1d5745db89923ff3';

export class FixedWindowLimiter {
  readonly #options: FixedWindowLimiterOptions;

  constructor(options: FixedWindowLimiterOptions) {
    this.#options = options;
  }

  /**
   * Counts `rate` requests (1 unless given; negative gives them back) against `identifier`.
   * Rejects when Redis fails. An arrow property, as in the library, so it survives being
   * detached from the instance.
   */
  readonly limit = (identifier: string, options?: { rate?: number }): Promise<RateLimitResult> => {
    // Not async until the script is sent: the EVALSHA must join the commands issued in the same
    // tick (auto-pipelining, src/lib/redis.ts), or the request pays a round trip of its own.
    const counted = this.#count(identifier, options?.rate ?? 1);
    const { timeoutMs } = this.#options;
    if (timeoutMs <= 0) return counted;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<RateLimitResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            success: true,
            limit: 0,
            remaining: 0,
            reset: 0,
            pending: Promise.resolve(),
            reason: 'timeout',
          }),
        timeoutMs,
      );
    });
    return Promise.race([counted, timedOut]).finally(() => clearTimeout(timer));
  };

  #count(identifier: string, rate: number): Promise<RateLimitResult> {
    const { redis, limit, windowMs, prefix, ephemeralCache } = this.#options;
    const cacheKey = `${prefix}:${identifier}`;
    if (rate > 0) {
      const blockedUntil = ephemeralCache.get(cacheKey);
      if (blockedUntil !== undefined) {
        if (blockedUntil >= Date.now()) {
          return Promise.resolve({
            success: false,
            limit,
            remaining: 0,
            reset: blockedUntil,
            pending: Promise.resolve(),
            reason: 'cacheBlock',
          });
        }
        ephemeralCache.delete(cacheKey);
      }
    }
    const bucket = Math.floor(Date.now() / windowMs);
    const keys = [`${cacheKey}:${bucket}`];
    const args = [limit, windowMs, rate];
    const reply = redis
      .evalsha<number[], [number, number]>(fixedWindowScriptSha1, keys, args)
      .catch((error: unknown) => {
        if (!String(error).includes('NOSCRIPT')) throw error;
        return redis.eval<number[], [number, number]>(fixedWindowScript, keys, args);
      });
    return reply.then(([used, effectiveLimit]) => {
      const success = used <= effectiveLimit;
      const reset = (bucket + 1) * windowMs;
      if (!success) ephemeralCache.set(cacheKey, reset);
      else if (rate < 0) ephemeralCache.delete(cacheKey);
      return {
        success,
        limit: effectiveLimit,
        remaining: Math.max(0, effectiveLimit - used),
        reset,
        pending: Promise.resolve(),
      };
    });
  }
}
