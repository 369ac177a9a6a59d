// Everything the app needs from the outside world, built once per isolate or process from the
// parsed config and handed to createApp. Tests and every runtime wire the same app this way.
import type { Config } from './config.ts';
import { createDatabase, type Database } from './db/client.ts';
import { createJobStateStore, type JobStateStore } from './jobs/job-state.ts';
import { type AccessTokens, createAccessTokens } from './lib/access-tokens.ts';
import { type Clock, systemClock } from './lib/clock.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { createQueue, type Queue } from './lib/queue.ts';
import { createRateLimitPolicies, type RateLimitPolicies } from './lib/rate-limit-policies.ts';
import { UpstashRedis } from './lib/redis.ts';

export interface Deps {
  config: Config;
  db: Database;
  redis: UpstashRedis;
  rateLimits: RateLimitPolicies;
  queue: Queue;
  clock: Clock;
  logger: Logger;
  /** Signs and verifies access tokens with keys imported once per isolate. */
  tokens: AccessTokens;
  /** Each job's state (dedupe lease, progress, result), shared with the Node worker. */
  jobState: JobStateStore;
}

export function createDeps(config: Config): Deps {
  // Concurrent commands in one request (rate limit, deny list, cache read) share one round trip.
  const redis = new UpstashRedis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
  });
  return {
    config,
    db: createDatabase(config.TURSO_DATABASE_URL, config.TURSO_AUTH_TOKEN),
    redis,
    rateLimits: createRateLimitPolicies(redis, config),
    queue: createQueue(config),
    clock: systemClock,
    logger: createLogger(config.LOG_LEVEL),
    tokens: createAccessTokens(config, systemClock),
    jobState: createJobStateStore(redis, () => systemClock.now().getTime()),
  };
}
