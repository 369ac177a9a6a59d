// What the worker talks to, built once per process from its config. The worker keeps no state of
// its own: job state is in the Redis the edge shares, so any number of copies can run.
import { createJobStateStore, type JobStateStore } from '../src/jobs/job-state.ts';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import { type Clock, systemClock } from '../src/platform/clock.ts';
import { createRedis, type Redis } from '../src/platform/redis.ts';
import type { WorkerConfig } from './config.ts';
import { createMailer, type Mailer } from './mailer.ts';

export interface WorkerDeps {
  config: WorkerConfig;
  logger: Logger;
  redis: Redis;
  jobState: JobStateStore;
  mailer: Mailer;
  clock: Clock;
}

export function createWorkerDeps(config: WorkerConfig, logger = createLogger(config.LOG_LEVEL)) {
  const redis = createRedis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    timeoutMs: config.REDIS_TIMEOUT_MS,
  });
  return {
    config,
    logger,
    redis,
    jobState: createJobStateStore(redis, () => systemClock.now().getTime()),
    mailer: createMailer(config),
    clock: systemClock,
  } satisfies WorkerDeps;
}
