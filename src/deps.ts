// Everything the app needs from the outside world, handed to createApp. Two lifetimes:
// - the isolate's (or process's): the parsed config, imported signing keys, the logger, the clock
//   and the rate limiters' memory of blocked clients. None of it does I/O.
// - the request's: every client that does I/O (database, Redis, QStash) and what is built on one.
//   workerd ties each fetch to the request that started it, and when that request ends or is
//   cancelled the fetch's promise never settles. A client shared across requests lets one
//   request's fetch carry another's work: the libSQL client's concurrency queue starts a waiting
//   query from the previous query's completion, in that request's context, and Redis
//   auto-pipelining sends concurrent requests' commands in one fetch. When that request goes, the
//   others' work hangs, and the libSQL client's slots are never given back. So `forRequest` builds
//   them anew for each request, each when first used: none opens a connection.
// Tests and every runtime wire the same app this way.
import type { Config } from './config.ts';
import { createJobStateStore, type JobStateStore } from './jobs/job-state.ts';
import { createLogger, type Logger } from './lib/logger.ts';
import { type RequestIdentity, requestLogger } from './lib/request-env.ts';
import type { TraceContext } from './lib/trace-context.ts';
import { type AccessTokens, createAccessTokens } from './modules/auth/access-tokens.ts';
import { type Clock, systemClock } from './platform/clock.ts';
import { createDatabase, type Database } from './platform/database.ts';
import { createQueue, type Queue } from './platform/queue.ts';
import {
  type BlockedClients,
  createRateLimitPolicies,
  type RateLimitPolicies,
  rememberBlockedClients,
} from './platform/rate-limits.ts';
import { createRedis, type Redis } from './platform/redis.ts';
import type { ObjectStorage } from './platform/storage.ts';

/** What lives as long as the isolate or process. */
export interface SharedDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Signs and verifies access tokens with keys imported once per isolate. */
  tokens: AccessTokens;
  /** Clients over a limit, refused from memory until their window ends (no round trip). */
  blockedClients: BlockedClients;
  /**
   * Where uploads are kept: R2's binding on Workers, an S3 bucket elsewhere; undefined when none is
   * configured, and then the file routes answer 503. Neither adapter holds a connection or a
   * request's context (the binding belongs to the isolate, S3 calls are single fetches), so one
   * serves every request.
   */
  storage: ObjectStorage | undefined;
}

/** The clients one request does its I/O with. */
export interface Backends {
  db: Database;
  redis: Redis;
  rateLimits: RateLimitPolicies;
  queue: Queue;
  /** Each job's state (dedupe lease, progress, result), shared with the Node worker. */
  jobState: JobStateStore;
}

export interface Deps extends SharedDeps, Backends {
  /**
   * The trace of the request served: every job it prepares carries it, so the job's delivery
   * continues it. Absent outside a request (tools, tests).
   */
  trace?: TraceContext;
}

export interface BackendOptions {
  /** How long one database request may take (DATABASE_TIMEOUT_MS unless given). */
  databaseTimeoutMs?: number;
  /** The request served: the logger names it on every line, and `trace` is its trace. */
  request?: RequestIdentity;
}

/**
 * The Deps of one request: the shared parts as they are (but the logger, bound to the request),
 * with backend clients of its own. Each client is built when the request first uses it: a read
 * answered from the cache never builds a database client, whose drizzle set-up is the dearest of
 * them. Deps built again from a request's own (a job's longer database timeout) keep its logger
 * and trace.
 */
export function forRequest(
  shared: SharedDeps & Pick<Deps, 'trace'>,
  options: BackendOptions = {},
): Deps {
  // Named, not spread: spreading the Deps of another request would build all its clients.
  const { config, clock, tokens, blockedClients, storage } = shared;
  const { request } = options;
  const logger = request === undefined ? shared.logger : requestLogger(shared.logger, request);
  let db: Database | undefined;
  let redis: Redis | undefined;
  let rateLimits: RateLimitPolicies | undefined;
  let queue: Queue | undefined;
  let jobState: JobStateStore | undefined;
  return {
    config,
    clock,
    logger,
    tokens,
    blockedClients,
    storage,
    trace: request?.trace ?? shared.trace,
    get db() {
      db ??= createDatabase(config.TURSO_DATABASE_URL, config.TURSO_AUTH_TOKEN, {
        timeoutMs: options.databaseTimeoutMs ?? config.DATABASE_TIMEOUT_MS,
      });
      return db;
    },
    // Concurrent commands in one request (rate limit, deny list, cache read) share one round trip.
    get redis() {
      redis ??= createRedis({
        url: config.UPSTASH_REDIS_REST_URL,
        token: config.UPSTASH_REDIS_REST_TOKEN,
        timeoutMs: config.REDIS_TIMEOUT_MS,
      });
      return redis;
    },
    get rateLimits() {
      rateLimits ??= createRateLimitPolicies(this.redis, config, blockedClients);
      return rateLimits;
    },
    get queue() {
      queue ??= createQueue(config);
      return queue;
    },
    get jobState() {
      jobState ??= createJobStateStore(this.redis, () => clock.now().getTime());
      return jobState;
    },
  };
}

/**
 * What createApp takes: an isolate's shared parts, so no client can be captured across requests.
 * The entry hands in the storage its runtime has.
 */
export function createSharedDeps(config: Config, storage?: ObjectStorage): SharedDeps {
  return {
    config,
    clock: systemClock,
    logger: createLogger(config.LOG_LEVEL),
    tokens: createAccessTokens(config, systemClock),
    blockedClients: rememberBlockedClients(),
    storage,
  };
}

/** Shared parts and one set of clients, for tools and tests that talk to the backends directly. */
export function createDeps(config: Config, storage?: ObjectStorage): Deps {
  return forRequest(createSharedDeps(config, storage));
}
