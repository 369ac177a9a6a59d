// A read-through cache in Upstash Redis whose entries live in groups that can be invalidated at
// once, without KEYS or SCAN.
//
// Versioned namespaces, with the version stamped in the value: each group has a counter at
// `cache:{group}:v`; an entry lives at `cache:{group}:e:<key>` as JSON `{"v":<version>,"d":<value>}`
// and counts only while its stamp equals the group's current version. Invalidating a group is one
// INCR; stale entries are ignored, overwritten by the next fill, and expire by their TTL anyway.
// Both key names are known before anything is read, so a lookup is ONE command, MGET of the
// counter and the entry, which auto-pipelining (src/lib/redis.ts) sends in one request with the
// other commands issued at that moment, such as the rate limiter's script. (With the version
// inside the key name, the version would have to be read first: a second round trip, or a Lua
// script touching a key it never declared.) The hash tag `{group}` keeps both keys in one slot,
// as MGET needs on a clustered Redis.
//
// Redis down or slow: the cache never fails a request. A read that errors or outlasts timeoutMs
// counts as 'unavailable' and the value comes from the loader; a failed write is dropped. Both log
// a warning. The cost: an invalidation lost that way leaves entries stale for up to their TTL.
import type { Clock } from './clock.ts';
import type { Logger } from './logger.ts';
import type { UpstashRedis } from './redis.ts';
import { withTimeout } from './timeout.ts';

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
}

export interface CacheBackend {
  redis: UpstashRedis;
  logger: Logger;
  clock: Clock;
  /** How long a cache read may take before the loader answers instead. */
  timeoutMs?: number;
}

export interface CacheGroup {
  /** The cached value, or else what `load` returns, which is then cached for ttlSeconds. */
  getOrSet<T extends Json>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<T>;
  set(key: string, value: Json, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry of the group stops counting at once. */
  invalidate(): Promise<void>;
}

export interface Cache {
  group(name: string): CacheGroup;
}

const defaultTimeoutMs = 500;

interface Entry {
  v: number;
  d: Json;
}

function versionOf(raw: unknown): number | undefined {
  const version = Number(raw);
  return raw === null || raw === undefined || !Number.isSafeInteger(version) ? undefined : version;
}

// UpstashRedis turns JSON text into values on read: an entry arrives as an object.
function entryOf(entry: unknown): Entry | undefined {
  if (typeof entry !== 'object' || entry === null || !('v' in entry) || !('d' in entry)) {
    return undefined;
  }
  return typeof entry.v === 'number' ? (entry as Entry) : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export function createCache(backend: CacheBackend, scope: CacheScope = {}): Cache {
  const { redis, logger, clock } = backend;
  const timeoutMs = backend.timeoutMs ?? defaultTimeoutMs;

  return {
    group(name) {
      const versionKey = `cache:{${name}}:v`;
      const entryKey = (key: string) => `cache:{${name}}:e:${key}`;
      const warn = (operation: string, error: unknown, key?: string) =>
        logger.warn('cache unavailable', { group: name, key, operation, error: errorText(error) });
      const observe = (key: string, outcome: CacheOutcome) =>
        scope.observe?.({ group: name, key, outcome });

      // A counter starts at the clock's milliseconds, not at 0: should Redis lose it (eviction),
      // the restarted counter cannot land back on a version that old entries still carry.
      const startVersion = (version: number) => redis.set(versionKey, version, { nx: true });

      const write = async (key: string, version: number | undefined, value: Json, ttl: number) => {
        const stamp = version ?? clock.now().getTime();
        const stored = redis.set(entryKey(key), JSON.stringify({ v: stamp, d: value }), {
          ex: ttl,
        });
        await (version === undefined ? Promise.all([startVersion(stamp), stored]) : stored);
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
            const [rawVersion, rawEntry] = await withTimeout(
              redis.mget<[unknown, unknown]>(versionKey, entryKey(key)),
              timeoutMs,
            );
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

        set: (key, value, ttlSeconds) =>
          writeQuietly('set', key, async () => {
            const version = versionOf(await redis.get(versionKey));
            await write(key, version, value, ttlSeconds);
          }),

        delete: (key) => writeQuietly('delete', key, () => redis.del(entryKey(key))),

        // One transaction: the counter is started if it was missing, then moved on.
        invalidate: () =>
          writeQuietly('invalidate', undefined, () =>
            redis
              .multi()
              .set(versionKey, clock.now().getTime(), { nx: true })
              .incr(versionKey)
              .exec(),
          ),
      };
    },
  };
}
