// The Node worker's configuration, parsed once from process.env with the same rules and the same
// ConfigError as the edge's: a missing or malformed variable stops start-up, naming it.
import * as z from 'zod';
import { configSchema, httpOrigin, parseEnv, positiveInt } from '../src/config.ts';

const workerConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8789),
  /**
   * This worker's public origin as QStash calls it: a delivery's signature names
   * `${JOBS_BASE_URL}/jobs/<type>`, whatever address a proxy forwards it to.
   */
  JOBS_BASE_URL: httpOrigin.prefault('http://127.0.0.1:8789'),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1),
  /** Job state lives in Redis, shared with the edge: what makes a repeated delivery harmless. */
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  REDIS_TIMEOUT_MS: configSchema.shape.REDIS_TIMEOUT_MS,
  /** smtp://host:port, or smtps://user:pass@host for implicit TLS. */
  SMTP_URL: z.url({ protocol: /^smtps?$/ }),
  MAIL_FROM: z.string().min(3).default('nexus-edge <no-reply@nexus-edge.local>'),
  /** The web app the emails link to. */
  PUBLIC_APP_URL: httpOrigin.prefault('http://127.0.0.1:8787'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  API_VERSION: z.string().min(1).default('1.0.0'),
  /** The largest request body accepted (QStash's message limit is 1 MiB). */
  MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** How long a readiness probe waits for each backend. */
  HEALTH_TIMEOUT_MS: positiveInt.default(3_000),
  METRICS_ENABLED: configSchema.shape.METRICS_ENABLED,
  /** Apart from the edge's (`metrics:api`): each app's GET /metrics shows its own requests. */
  METRICS_PREFIX: configSchema.shape.METRICS_PREFIX.unwrap().default('metrics:worker'),
  /**
   * When set, GET /metrics asks for `Authorization: Bearer <token>`; unset, it answers anyone who
   * reaches the worker, which is meant to sit on a private network.
   */
  METRICS_TOKEN: z.string().min(16).optional(),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

export function parseWorkerConfig(env: Record<string, unknown>): WorkerConfig {
  return parseEnv(workerConfigSchema, env);
}
