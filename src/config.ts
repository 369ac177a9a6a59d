// The app's configuration, parsed once per process or isolate from the official variable names.
// Entries hand in their environment (Worker bindings, Deno.env, process.env); nothing else in
// src/ reads it.
import * as z from 'zod';

const commaList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  )
  .pipe(z.array(z.url({ protocol: /^https?$/ }).transform((url) => new URL(url).origin)));

const positiveInt = z.coerce.number().int().positive();

const windowUnitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A rate-limit rule written as "<requests>/<window>", e.g. "100/15m". */
const rateLimitRule = z
  .string()
  .regex(
    /^[1-9]\d*\/[1-9]\d*[smhd]$/,
    'expected "<requests>/<window>" with a window in s, m, h or d, e.g. "100/15m"',
  )
  .transform((rule) => {
    const [requests = '', window = ''] = rule.split('/');
    const unit = window.slice(-1) as keyof typeof windowUnitMs;
    return { limit: Number(requests), windowMs: Number(window.slice(0, -1)) * windowUnitMs[unit] };
  });

export type RateLimitRule = z.infer<typeof rateLimitRule>;

const configSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('production'),
  API_VERSION: z.string().min(1).default('1.0.0'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Browser origins allowed to call the API; empty means no cross-origin browser access. */
  CORS_ORIGINS: commaList.default([]),
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** How long a readiness probe waits for each backend. */
  HEALTH_TIMEOUT_MS: positiveInt.default(1_500),
  RATE_LIMIT_GENERAL: rateLimitRule.prefault('100/15m'),
  RATE_LIMIT_AUTH: rateLimitRule.prefault('5/15m'),
  /** How long a rate-limit check waits for Redis before its policy's Redis-down rule applies. */
  RATE_LIMIT_TIMEOUT_MS: positiveInt.default(1_000),
  /**
   * The one request header trusted to name the client's address: Cloudflare sets
   * CF-Connecting-IP and overwrites any value a client sends. Behind another proxy name the header
   * it sets (x-forwarded-for: its last entry is used); "none" uses the connection's address.
   */
  CLIENT_IP_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'expected a header name such as cf-connecting-ip, or "none"')
    .transform((name) => name.toLowerCase())
    .prefault('cf-connecting-ip'),
  /** libsql:// (Turso's form, spoken over HTTPS) or http(s)://; the app has no WebSocket or file driver. */
  TURSO_DATABASE_URL: z.url({ protocol: /^(libsql|https?)$/ }),
  TURSO_AUTH_TOKEN: z.string().optional(),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  QSTASH_URL: z.url({ protocol: /^https?$/ }).default('https://qstash.upstash.io'),
  QSTASH_TOKEN: z.string().min(1),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly variables: string[];
  constructor(issues: z.core.$ZodIssue[]) {
    const lines = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    super(`invalid configuration:\n  ${lines.join('\n  ')}`);
    this.name = 'ConfigError';
    this.variables = issues.map((issue) => issue.path.join('.'));
  }
}

/** Empty strings count as unset, so `FOO=` in a .env file falls back to the default. */
function withoutEmpty(env: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}

export function parseConfig(env: Record<string, unknown>): Config {
  const result = configSchema.safeParse(withoutEmpty(env));
  if (!result.success) throw new ConfigError(result.error.issues);
  return result.data;
}
