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

export const positiveInt = z.coerce.number().int().positive();

/** An http(s) origin or base URL, without the trailing slash that `${url}/path` would double. */
export const httpOrigin = z
  .url({ protocol: /^https?$/ })
  .transform((url) => url.replace(/\/+$/, ''));

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

/** A duration written as "<amount><unit>", e.g. "15m" or "30d", in whole seconds. */
const durationSeconds = z
  .string()
  .regex(/^[1-9]\d*[smhd]$/, 'expected "<amount><unit>" with a unit of s, m, h or d, e.g. "15m"')
  .transform((text) => {
    const unit = text.slice(-1) as keyof typeof windowUnitMs;
    return (Number(text.slice(0, -1)) * windowUnitMs[unit]) / 1000;
  });

const minSigningSecretBytes = 32;

/**
 * JWT signing keys as "kid:secret" pairs, comma-separated. The first one signs; every one
 * verifies, so a new key goes first and the old one stays listed until its last token expired.
 * A secret is used as its UTF-8 bytes: base64url of 32 random bytes (43 characters) or any other
 * text of at least 32 bytes.
 */
const signingKeys = z.string().transform((value, context) => {
  const keys: { kid: string; secret: string }[] = [];
  for (const entry of value.split(',').map((item) => item.trim())) {
    const separator = entry.indexOf(':');
    const kid = entry.slice(0, separator);
    const secret = entry.slice(separator + 1);
    const problem =
      separator < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(kid)
        ? 'expected "kid:secret" pairs with a kid of letters, digits, ".", "_" or "-"'
        : new TextEncoder().encode(secret).length < minSigningSecretBytes
          ? `the secret of key "${kid}" is shorter than ${minSigningSecretBytes} bytes`
          : keys.some((key) => key.kid === kid)
            ? `key "${kid}" is listed twice`
            : undefined;
    if (problem !== undefined) {
      context.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    keys.push({ kid, secret });
  }
  return keys;
});

export type SigningKey = z.infer<typeof signingKeys>[number];

export const configSchema = z.object({
  APP_ENV: z.enum(['development', 'test', 'production']).default('production'),
  API_VERSION: z.string().min(1).default('1.0.0'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Browser origins allowed to call the API; empty means no cross-origin browser access. */
  CORS_ORIGINS: commaList.default([]),
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** How long a readiness probe waits for each backend. */
  HEALTH_TIMEOUT_MS: positiveInt.default(1_500),
  /**
   * How long one database request may take: then the request that made it answers 503 naming the
   * database. A write that timed out may still have been applied.
   */
  DATABASE_TIMEOUT_MS: positiveInt.default(5_000),
  /**
   * The same bound for QStash's job deliveries, whose batch deletes and digests may take longer
   * than any API request should.
   */
  JOB_DATABASE_TIMEOUT_MS: positiveInt.default(60_000),
  /** How long one request to Upstash Redis may take: then it fails as Redis unavailable (503). */
  REDIS_TIMEOUT_MS: positiveInt.default(5_000),
  /**
   * How long the API may take to answer: then it answers 503 and logs the request as timed out.
   * Work already under way is not undone: a write may still complete. Health probes have their
   * own bound; QStash's job deliveries are not cut short (QStash's own timeout ends them).
   */
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  RATE_LIMIT_GENERAL: rateLimitRule.prefault('100/15m'),
  RATE_LIMIT_AUTH: rateLimitRule.prefault('5/15m'),
  RATE_LIMIT_SIGNUP: rateLimitRule.prefault('5/1h'),
  RATE_LIMIT_PASSWORD_RESET: rateLimitRule.prefault('5/1h'),
  /** Per API key, whoever presents it. */
  RATE_LIMIT_API_KEY: rateLimitRule.prefault('1000/1h'),
  /** Per partner and sending address, on its inbound webhook endpoint. */
  RATE_LIMIT_WEBHOOK: rateLimitRule.prefault('600/1m'),
  /** Per account: password reset emails, and verification emails, whoever asks for them. */
  RATE_LIMIT_ACCOUNT_EMAIL: rateLimitRule.prefault('3/1h'),
  /** How long a rate-limit check waits for Redis before its policy's Redis-down rule applies. */
  RATE_LIMIT_TIMEOUT_MS: positiveInt.default(1_000),
  /**
   * How long a cache operation waits for Redis: a read then comes from the database, a write is
   * dropped, and a clearing a change depends on (a revocation) answers 503.
   */
  CACHE_TIMEOUT_MS: positiveInt.default(500),
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
  JWT_SIGNING_KEYS: signingKeys,
  /** The access tokens' `iss` and `aud`: a token minted for another service is refused. */
  JWT_ISSUER: z.string().min(1).default('nexus-edge'),
  JWT_AUDIENCE: z.string().min(1).default('nexus-edge-api'),
  ACCESS_TOKEN_TTL: durationSeconds.prefault('15m'),
  REFRESH_TOKEN_TTL: durationSeconds.prefault('30d'),
  /** Where QStash delivers jobs: `${JOBS_BASE_URL}/jobs/<type>` (the Node worker in development). */
  JOBS_BASE_URL: httpOrigin.prefault('http://127.0.0.1:8789'),
  /**
   * The API's own public origin, as QStash reaches it: edge jobs are delivered to
   * `${API_PUBLIC_URL}/jobs/<type>`, and a delivery's signature must name exactly that URL.
   */
  API_PUBLIC_URL: httpOrigin.prefault('http://127.0.0.1:8787'),
  /**
   * Encrypts partners' webhook secrets at rest (AES-256-GCM): base64url of 32 random bytes.
   * The secrets must be kept, not hashed, because verifying an HMAC needs them.
   */
  PARTNER_SECRETS_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'expected base64url of 32 random bytes (43 characters)'),
  /**
   * "true" lets partners' webhook URLs use http and point at loopback and private addresses (a
   * receiver on this machine or network): for local development and tests only. In production it
   * would let an administrator's typo, or a stolen admin session, aim our signed requests at our
   * own internal services.
   */
  PARTNER_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], 'expected "true" or "false"')
    .transform((value) => value === 'true')
    .prefault('false'),
  /**
   * The S3-compatible bucket that holds uploads on Deno and Node (R2's S3 API, AWS S3, MinIO). On
   * Workers the FILES R2 binding is used and these are not read. Unset: the file routes answer 503.
   */
  S3_ENDPOINT: httpOrigin.optional(),
  S3_BUCKET: z.string().min(1).optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** "auto" for R2; the bucket's region for AWS. */
  S3_REGION: z.string().min(1).default('auto'),
  /** The largest file one multipart upload may carry (5 MiB). */
  UPLOAD_MAX_FILE_BYTES: positiveInt.default(5 * 1024 * 1024),
  /** Files per multipart upload. */
  UPLOAD_MAX_FILES: positiveInt.default(5),
  /** The largest file a direct upload may announce (50 MiB). */
  DIRECT_UPLOAD_MAX_BYTES: positiveInt.default(50 * 1024 * 1024),
  /** How long a direct upload's URL works; an upload not completed by then is cleaned away. */
  DIRECT_UPLOAD_TTL: durationSeconds.prefault('15m'),
  /** What each user may keep in storage, their avatar aside (100 MiB). */
  STORAGE_QUOTA_BYTES: positiveInt.default(100 * 1024 * 1024),
  /** The web app the emails link to (`/verify-email?token=…`, `/reset-password?token=…`). */
  PUBLIC_APP_URL: httpOrigin.prefault('http://127.0.0.1:8787'),
  /**
   * "false" stops counting requests into the metrics (one pipelined Redis request after each
   * response); GET /metrics still answers, with the totals as they were.
   */
  METRICS_ENABLED: z
    .enum(['true', 'false'], 'expected "true" or "false"')
    .transform((value) => value === 'true')
    .prefault('true'),
  /** The metrics' Redis keys start with this: deployments sharing a database keep theirs apart. */
  METRICS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]+$/, 'expected letters, digits, ":", ".", "_" or "-"')
    .default('metrics:api'),
});

const s3Variables = [
  'S3_ENDPOINT',
  'S3_BUCKET',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
] as const;

/** The app's variables, with the rules that span several of them. */
const appConfigSchema = configSchema.superRefine((config, context) => {
  // A bucket named without its keys (or the reverse) is a mistake, not "no storage".
  const set = s3Variables.filter((name) => config[name] !== undefined);
  if (set.length === 0 || set.length === s3Variables.length) return;
  for (const name of s3Variables.filter((variable) => config[variable] === undefined)) {
    context.addIssue({
      code: 'custom',
      path: [name],
      message: `must be set along with ${set.join(', ')}`,
    });
  }
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

/**
 * Parses an entry's environment with `schema`, the app's or a tool's own: empty values count as
 * unset, and a bad or missing variable throws one ConfigError naming every such variable.
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, unknown>,
): z.output<Schema> {
  const result = schema.safeParse(withoutEmpty(env));
  if (!result.success) throw new ConfigError(result.error.issues);
  return result.data;
}

/**
 * The secret that cursors and signed URLs derive their keys from: the key that signs access
 * tokens, which the deployment already keeps. Each use derives a key of its own from it, so no
 * signature is valid as another. The configuration refuses an empty key list.
 */
export function serverSecretOf(config: Pick<Config, 'JWT_SIGNING_KEYS'>): string {
  const [signing] = config.JWT_SIGNING_KEYS;
  if (signing === undefined) throw new Error('JWT_SIGNING_KEYS lists no key');
  return signing.secret;
}

export function parseConfig(env: Record<string, unknown>): Config {
  return parseEnv(appConfigSchema, env);
}
