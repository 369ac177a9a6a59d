// The cache against the local Upstash REST server in front of the real Redis (database 3 only):
// read-through, TTL, delete, group invalidation, the one-command read, and what happens when
// Redis is down or hangs.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { createLogger, type LogFields } from '../../src/lib/logger.ts';
import {
  type CacheOutcome,
  type CacheScope,
  createCache,
  type Json,
} from '../../src/platform/cache.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { createRedis } from '../../src/platform/redis.ts';
import {
  closedPortUrl,
  type HangingServer,
  startHangingServer,
} from '../support/dead-endpoints.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'cache-test-token';
let server: RunningHttpServer;
let hanging: HangingServer;
let closedUrl: string;

beforeAll(async () => {
  server = await startTestRedisRest({ redisDb: 3, token });
  hanging = await startHangingServer();
  closedUrl = await closedPortUrl();
});

afterAll(async () => {
  await hanging?.close();
  await server?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A cache as the app builds it, with its reads and warnings recorded. */
function cacheAt(url = server.url, scope: CacheScope = {}) {
  const redis = createRedis({ url, token, timeoutMs: 10_000 });
  const warnings: LogFields[] = [];
  const logger = createLogger('warn', (line) => warnings.push(JSON.parse(line)));
  const outcomes: CacheOutcome[] = [];
  const cache = createCache(
    // Generous: a shared, loaded machine can take longer than production's 500 ms to answer, and
    // only the hanging-Redis test waits it out.
    { redis, logger, clock: systemClock, config: { CACHE_TIMEOUT_MS: 2_000 } },
    { ...scope, observe: ({ outcome }) => outcomes.push(outcome) },
  );
  return { cache, redis, outcomes, warnings };
}

/** A loader that counts its calls. */
function loader<T extends Json>(value: T) {
  const load = vi.fn(async () => value);
  return load;
}

const freshGroup = () => `test-${randomUUID()}`;

describe('read-through', () => {
  it('loads on the first read and serves the stored value on the next', async () => {
    const { cache, outcomes } = cacheAt();
    const users = cache.group(freshGroup());
    const load = loader({ id: 'u1', name: 'Ada', tags: ['a', 'b'], score: 1.5 });

    const first = await users.getOrSet('u1', 60, load);
    const second = await users.getOrSet('u1', 60, load);

    expect(second).toEqual(first);
    expect(first).toEqual({ id: 'u1', name: 'Ada', tags: ['a', 'b'], score: 1.5 });
    expect(load).toHaveBeenCalledTimes(1);
    expect(outcomes).toEqual(['miss', 'hit']);
  });

  it('caches null and plain strings as values, not as absence', async () => {
    const { cache, outcomes } = cacheAt();
    const group = cache.group(freshGroup());
    const loadNull = loader(null);
    const loadText = loader('42');

    await group.getOrSet('absent', 60, loadNull);
    expect(await group.getOrSet('absent', 60, loadNull)).toBeNull();
    await group.getOrSet('text', 60, loadText);
    expect(await group.getOrSet('text', 60, loadText)).toBe('42');

    expect(loadNull).toHaveBeenCalledTimes(1);
    expect(loadText).toHaveBeenCalledTimes(1);
    expect(outcomes).toEqual(['miss', 'hit', 'miss', 'hit']);
  });

  it('reads the version and the entry in one request, shared with concurrent commands', async () => {
    const { cache, redis } = cacheAt();
    const group = cache.group(freshGroup());
    await group.getOrSet('k', 60, loader('v'));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');

    const [value, pong] = await Promise.all([
      group.getOrSet('k', 60, loader('other')),
      redis.ping(),
    ]);

    expect(value).toBe('v');
    expect(pong).toBe('PONG');
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('lets a loader failure through and caches nothing', async () => {
    const { cache, outcomes } = cacheAt();
    const group = cache.group(freshGroup());

    await expect(
      group.getOrSet('k', 60, async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    expect(await group.getOrSet('k', 60, loader('later'))).toBe('later');
    expect(outcomes).toEqual(['miss', 'miss']);
  });

  it('forgets an entry once its TTL has passed', async () => {
    const { cache, outcomes } = cacheAt();
    const group = cache.group(freshGroup());
    const load = loader('short-lived');

    await group.getOrSet('k', 1, load);
    await group.getOrSet('k', 1, load);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await group.getOrSet('k', 1, load);

    expect(load).toHaveBeenCalledTimes(2);
    expect(outcomes).toEqual(['miss', 'hit', 'miss']);
  });

  it('hands the fill to defer when given one, and the value is cached once it ran', async () => {
    const deferred: Promise<unknown>[] = [];
    const { cache, outcomes } = cacheAt(server.url, { defer: (work) => deferred.push(work) });
    const group = cache.group(freshGroup());

    expect(await group.getOrSet('k', 60, loader('v'))).toBe('v');
    expect(deferred).toHaveLength(1);
    await Promise.all(deferred);
    expect(await group.getOrSet('k', 60, loader('other'))).toBe('v');
    expect(outcomes).toEqual(['miss', 'hit']);
  });
});

describe('set, delete and invalidation', () => {
  it('serves a value written with set without loading', async () => {
    const { cache } = cacheAt();
    const group = cache.group(freshGroup());
    const load = loader('loaded');

    await group.set('k', { written: true }, 60);

    expect(await group.getOrSet('k', 60, load)).toEqual({ written: true });
    expect(load).not.toHaveBeenCalled();
  });

  it('delete drops one entry and leaves the others', async () => {
    const { cache, outcomes } = cacheAt();
    const group = cache.group(freshGroup());
    await group.getOrSet('a', 60, loader('a1'));
    await group.getOrSet('b', 60, loader('b1'));

    await group.delete('a');

    expect(await group.getOrSet('a', 60, loader('a2'))).toBe('a2');
    expect(await group.getOrSet('b', 60, loader('b2'))).toBe('b1');
    expect(outcomes).toEqual(['miss', 'miss', 'miss', 'hit']);
  });

  it('invalidate drops every entry of the group and none of another group', async () => {
    const { cache } = cacheAt();
    const users = cache.group(freshGroup());
    const others = cache.group(freshGroup());
    await users.getOrSet('a', 60, loader('a1'));
    await users.set('b', 'b1', 60);
    await others.getOrSet('a', 60, loader('other1'));

    await users.invalidate();

    expect(await users.getOrSet('a', 60, loader('a2'))).toBe('a2');
    expect(await users.getOrSet('b', 60, loader('b2'))).toBe('b2');
    expect(await others.getOrSet('a', 60, loader('other2'))).toBe('other1');
    // And the group caches again after it.
    expect(await users.getOrSet('a', 60, loader('a3'))).toBe('a2');
  });

  it('never serves a value loaded before an invalidation that landed while it loaded', async () => {
    const { cache } = cacheAt();
    const group = cache.group(freshGroup());
    await group.invalidate();

    const outdated = await group.getOrSet('k', 60, async () => {
      await group.invalidate();
      return 'read before the write';
    });

    expect(outdated).toBe('read before the write');
    expect(await group.getOrSet('k', 60, loader('fresh'))).toBe('fresh');
  });

  it('treats entries as stale when the version counter was lost', async () => {
    const { cache, redis } = cacheAt();
    const name = freshGroup();
    const group = cache.group(name);
    await group.getOrSet('k', 60, loader('old'));

    await redis.del(`cache:{${name}}:v`);

    expect(await group.getOrSet('k', 60, loader('new'))).toBe('new');
    expect(await group.getOrSet('k', 60, loader('newer'))).toBe('new');
  });
});

describe('when Redis is unavailable', () => {
  it('answers from the loader and warns when Redis refuses connections', async () => {
    const { cache, outcomes, warnings } = cacheAt(closedUrl);
    const group = cache.group('users');
    const load = loader({ id: 'u1' });

    expect(await group.getOrSet('u1', 60, load)).toEqual({ id: 'u1' });
    expect(await group.getOrSet('u1', 60, load)).toEqual({ id: 'u1' });

    expect(load).toHaveBeenCalledTimes(2);
    expect(outcomes).toEqual(['unavailable', 'unavailable']);
    expect(warnings[0]).toMatchObject({
      level: 'warn',
      msg: 'cache unavailable',
      group: 'users',
      key: 'u1',
      operation: 'read',
    });
  });

  it('answers from the loader within the timeout when Redis hangs', async () => {
    const { cache, outcomes, warnings } = cacheAt(hanging.url);

    expect(await cache.group('users').getOrSet('u1', 60, loader('from db'))).toBe('from db');

    expect(outcomes).toEqual(['unavailable']);
    expect(String(warnings[0]?.error)).toContain('no answer within 2000 ms');
  });

  it('lets set, delete and invalidate return without throwing, each with a warning', async () => {
    const { cache, warnings } = cacheAt(closedUrl);
    const group = cache.group('users');

    await group.set('u1', 'v', 60);
    await group.delete('u1');
    await group.invalidate();

    expect(warnings.map((warning) => warning.operation)).toEqual(['set', 'delete', 'invalidate']);
  });
});
