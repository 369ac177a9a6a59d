// A read-through cache in Upstash Redis whose entries live in groups that can be invalidated at
// once, without KEYS or SCAN.
//
// Versioned namespaces, with the version stamped in the value: each group has a counter at
// `cache:{group}:v`; an entry lives at `cache:{group}:e:<key>` as JSON
// `{"v":<version>,"d":<value>}` and counts only while its stamp equals the group's current version.
// Invalidating a group is one INCR; stale entries are ignored, overwritten by the next fill, and
// expire by their TTL anyway. Both key names are known before anything is read, so a lookup is ONE
// command, MGET of the counter and the entry, which auto-pipelining (src/platform/redis.ts) sends
// in one request with the other commands issued at that moment, such as the rate limiter's script.
// (With the version inside the key name, the version would have to be read first: a second round
// trip, or a Lua script touching a key it never declared.) The hash tag `{group}` keeps both keys
// in one slot, as MGET needs on a clustered Redis.
//
// A route's read usually starts only after the middleware awaited the rate limit: a second round
// trip. `prefetch` starts it earlier, in the limiter's tick (src/middleware/request-cache.ts), and
// the route's getOrSet then awaits that read instead of issuing its own, so hit, miss and
// unavailable take the same path either way.
//
// Redis down or slow: the cache never fails a request. A read that errors or outlasts timeoutMs
// counts as 'unavailable' and the value comes from the loader; a failed write is dropped. Both log
// a warning. The cost: an invalidation lost that way leaves entries stale for up to their TTL.
// Where that cost is not acceptable (revoking a credential), the caller asks for
// `invalidate({ required: true })`, which rejects instead, so the request can fail.

import type { SetCommandOptions } from '@upstash/redis/cloudflare';
import type { Config } from '../config.ts';
import type { Logger } from '../lib/logger.ts';
import { withTimeout } from '../lib/timeout.ts';
import type { Clock } from './clock.ts';
import type { Redis } from './redis.ts';

/** What a cached value may be: it goes through JSON, so a Date would come back as a string. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export type CacheOutcome = 'hit' | 'miss' | 'unavailable';

export interface CacheRead {
  group: string;
  key: string;
  outcome: CacheOutcome;
}

export interface CacheScope {
  /** Told the outcome of every read, e.g. to put it on the request's log line. */
  observe?: (read: CacheRead) => void;
  /** Takes the fill after a miss off the response's path (waitUntil); without it, it is awaited. */
  defer?: (work: Promise<unknown>) => void;
  /**
   * A read started ahead (CacheGroup.prefetch): getOrSet of its group and key awaits it instead of
   * reading, so a request's reads of that entry share its one answer.
   */
  prefetched?: CachePrefetch | undefined;
}

/** An entry's read under way (CacheGroup.prefetch): nothing is decided until getOrSet takes it. */
export interface CachePrefetch {
  group: string;
  key: string;
  read: Promise<unknown[]>;
}

export interface CacheBackend {
  redis: Redis;
  logger: Logger;
  clock: Clock;
  /** CACHE_TIMEOUT_MS: how long a cache read may take before the loader answers instead. */
  config: Pick<Config, 'CACHE_TIMEOUT_MS'>;
}

export interface CacheGroup {
  /** The cached value, or else what `load` returns, which is then cached for ttlSeconds. */
  getOrSet<T extends Json>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T>;
  /**
   * Starts the read getOrSet(key) makes, without awaiting it; a getOrSet whose scope holds the
   * handle (CacheScope.prefetched) uses it. Unused, it is dropped without an unhandled rejection.
   */
  prefetch(key: string): CachePrefetch;
  set(key: string, value: Json, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry of the group stops counting at once. */
  invalidate(options?: InvalidateOptions): Promise<void>;
}

export interface InvalidateOptions {
  /**
   * Reject (the Redis error or TimeoutError) instead of warning when the invalidation fails or
   * outlasts timeoutMs: for callers whose answer promises the old entries are dead.
   */
  required?: boolean;
}

export interface GroupOptions {
  /**
   * Lets the group's version counter expire this long after it was created, for groups made per
   * item (one per product) that would otherwise pile up. An expired counter restarts at the clock's
   * milliseconds, above any version its entries were stamped with, so they stop counting with it.
   */
  versionTtlSeconds?: number;
}

export interface Cache {
  group(name: string, options?: GroupOptions): CacheGroup;
}

interface Entry {
  v: number;
  d: Json;
}

function versionOf(raw: unknown): number | undefined {
  const version = Number(raw);
  return raw === null || raw === undefined || !Number.isSafeInteger(version) ? undefined : version;
}

// The Redis client turns JSON text into values on read: an entry arrives as an object.
function entryOf(entry: unknown): Entry | undefined {
  if (typeof entry !== 'object' || entry === null || !('v' in entry) || !('d' in entry)) {
    return undefined;
  }
  return typeof entry.v === 'number' ? (entry as Entry) : undefined;
}

export function createCache(backend: CacheBackend, scope: CacheScope = {}): Cache {
  const { redis, logger, clock } = backend;
  const timeoutMs = backend.config.CACHE_TIMEOUT_MS;

  return {
    group(name, options = {}) {
      const versionKey = `cache:{${name}}:v`;
      const startVersion: SetCommandOptions =
        options.versionTtlSeconds === undefined
          ? { nx: true }
          : { nx: true, ex: options.versionTtlSeconds };
      const entryKey = (key: string) => `cache:{${name}}:e:${key}`;
      // String() of an Error is `Name: message`.
      const warn = (operation: string, error: unknown, key?: string) =>
        logger.warn('cache unavailable', { group: name, key, operation, error: String(error) });
      const observe = (key: string, outcome: CacheOutcome) =>
        scope.observe?.({ group: name, key, outcome });
      const read = (key: string) => withTimeout(redis.mget(versionKey, entryKey(key)), timeoutMs);

      const write = async (key: string, version: number | undefined, value: Json, ttl: number) => {
        let stamp = version;
        if (stamp === undefined) {
          // A counter starts at the clock's milliseconds, not at 0: should Redis lose it
          // (eviction), the restarted counter cannot land back on a version that old entries
          // still carry. It is started before the entry is written: if an invalidation started it
          // first, the value loaded before may be outdated, and it is not stored.
          const started = clock.now().getTime();
          if ((await redis.set(versionKey, started, startVersion)) === null) return;
          stamp = started;
        }
        await redis.set(entryKey(key), JSON.stringify({ v: stamp, d: value }), { ex: ttl });
      };

      const writeQuietly = (
        operation: string,
        key: string | undefined,
        work: () => Promise<unknown>,
      ) =>
        withTimeout(work(), timeoutMs).then(
          () => undefined,
          (error: unknown) => warn(operation, error, key),
        );

      return {
        async getOrSet<T extends Json>(key: string, ttlSeconds: number, load: () => Promise<T>) {
          let version: number | undefined;
          try {
            const ahead = scope.prefetched;
            const [rawVersion, rawEntry] = await (ahead?.group === name && ahead.key === key
              ? ahead.read
              : read(key));
            version = versionOf(rawVersion);
            const entry = entryOf(rawEntry);
            if (version !== undefined && entry?.v === version) {
              observe(key, 'hit');
              // Written by this code under the same group name; a change of the value's shape
              // comes with a new group name.
              return entry.d as T;
            }
          } catch (error) {
            warn('read', error, key);
            observe(key, 'unavailable');
            return load();
          }
          observe(key, 'miss');
          const value = await load();
          // Stamped with the version read before loading: if the group was invalidated meanwhile,
          // this possibly outdated value is already stale when it lands.
          const fill = writeQuietly('fill', key, () => write(key, version, value, ttlSeconds));
          if (scope.defer) scope.defer(fill);
          else await fill;
          return value;
        },

        prefetch(key) {
          const pending = read(key);
          // A refused request (401, 429) drops its prefetch unread.
          pending.catch(() => {});
          return { group: name, key, read: pending };
        },

        set: (key, value, ttlSeconds) =>
          writeQuietly('set', key, async () => {
            const version = versionOf(await redis.get(versionKey));
            await write(key, version, value, ttlSeconds);
          }),

        delete: (key) => writeQuietly('delete', key, () => redis.del(entryKey(key))),

        // One transaction: the counter is started if it was missing, then moved on.
        invalidate: (options = {}) => {
          const bump = () =>
            redis
              .multi()
              .set(versionKey, clock.now().getTime(), startVersion)
              .incr(versionKey)
              .exec();
          if (!options.required) return writeQuietly('invalidate', undefined, bump);
          return withTimeout(bump(), timeoutMs).then(() => undefined);
        },
      };
    },
  };
}
