// The Worker's fixed-window limiter against @upstash/ratelimit's, side by side on the local Upstash
// REST server in front of the real Redis (database 12, shared with the session tests, which never
// flush it; every test here uses prefixes of its own): the same calls must give the same
// answers, send the same script under the same keys, and fail the same way.
import { createHash, randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import {
  FixedWindowLimiter,
  fixedWindowScript,
  fixedWindowScriptSha1,
} from '../../src/lib/fixed-window-limiter.ts';
import { RedisError, UpstashRedis } from '../../src/lib/redis.ts';
import {
  closedPortUrl,
  type HangingServer,
  startHangingServer,
} from '../support/dead-endpoints.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'fixed-window-limiter-test-token';
let server: RunningHttpServer;
let silent: HangingServer;

beforeAll(async () => {
  server = await startTestRedisRest({ redisDb: 12, token });
  silent = await startHangingServer();
});

afterAll(async () => {
  await silent?.close();
  await server?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface Setup {
  limit: number;
  windowMs: number;
  timeoutMs?: number;
  url?: string;
}

const freshPrefix = () => `test-fixed-window:${randomUUID()}`;

function ours(setup: Setup, prefix = freshPrefix()) {
  const redis = new UpstashRedis({ url: setup.url ?? server.url, token, timeoutMs: 10_000 });
  const ephemeralCache = new Map<string, number>();
  const limiter = new FixedWindowLimiter({
    redis,
    limit: setup.limit,
    windowMs: setup.windowMs,
    prefix,
    ephemeralCache,
    timeoutMs: setup.timeoutMs ?? 5_000,
  });
  return { limiter, redis, ephemeralCache, prefix };
}

function official(setup: Setup, prefix = freshPrefix()) {
  return new Ratelimit({
    redis: new Redis({
      url: setup.url ?? server.url,
      token,
      enableTelemetry: false,
      enableAutoPipelining: false,
      retry: false,
    }),
    limiter: Ratelimit.fixedWindow(setup.limit, `${setup.windowMs} ms`),
    prefix,
    ephemeralCache: new Map(),
    analytics: false,
    timeout: setup.timeoutMs ?? 5_000,
  });
}

interface Answer {
  success: boolean;
  limit: number;
  remaining: number;
  reset: number;
  reason?: string;
}

const answer = ({ success, limit, remaining, reset, reason }: Answer): Answer => ({
  success,
  limit,
  remaining,
  reset,
  ...(reason === undefined ? {} : { reason }),
});

type Call = [identifier: string, rate?: number];

async function runBoth(setup: Setup, calls: Call[]) {
  const mine = ours(setup).limiter;
  const theirs = official(setup);
  const mineAnswers: Answer[] = [];
  const theirAnswers: Answer[] = [];
  for (const [identifier, rate] of calls) {
    const options = rate === undefined ? undefined : { rate };
    mineAnswers.push(answer(await mine.limit(identifier, options)));
    theirAnswers.push(answer(await theirs.limit(identifier, options)));
  }
  return { mineAnswers, theirAnswers };
}

/** Every request sent, by path, with the commands in its body. */
function recordRequests() {
  const requests: { path: string; commands: unknown[][] }[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const body = JSON.parse(String(init?.body)) as unknown[];
    const path = new URL(String(input)).pathname;
    requests.push({ path, commands: path === '/pipeline' ? (body as unknown[][]) : [body] });
    return realFetch(input, init);
  });
  return requests;
}

const hourMs = 3_600_000;

describe('FixedWindowLimiter', () => {
  it('hard-codes the SHA-1 of the script it sends', () => {
    expect(createHash('sha1').update(fixedWindowScript).digest('hex')).toBe(fixedWindowScriptSha1);
  });

  it('answers like @upstash/ratelimit: counting, refusing, giving back and the memory block', async () => {
    const { mineAnswers, theirAnswers } = await runBoth({ limit: 3, windowMs: hourMs }, [
      ['a'],
      ['a'],
      ['b'],
      ['a'],
      ['a'],
      ['a'],
      ['a', -1],
      ['a', -1],
      ['a'],
      ['a', 2],
      ['a', 1],
      ['a', -1],
      ['b', 5],
      ['b', -5],
      ['b', 0],
    ]);

    expect(mineAnswers).toEqual(theirAnswers);
    const reset = (Math.floor(Date.now() / hourMs) + 1) * hourMs;
    expect(mineAnswers.slice(0, 6)).toEqual([
      { success: true, limit: 3, remaining: 2, reset },
      { success: true, limit: 3, remaining: 1, reset },
      { success: true, limit: 3, remaining: 2, reset },
      { success: true, limit: 3, remaining: 0, reset },
      { success: false, limit: 3, remaining: 0, reset },
      { success: false, limit: 3, remaining: 0, reset, reason: 'cacheBlock' },
    ]);
    // The give-back lifts the memory block: the next request is counted in Redis again.
    expect(mineAnswers.slice(6, 9)).toEqual([
      { success: true, limit: 3, remaining: 0, reset },
      { success: true, limit: 3, remaining: 1, reset },
      { success: true, limit: 3, remaining: 0, reset },
    ]);
  });

  it('starts from zero in the next window, as the library does', async () => {
    const setup = { limit: 1, windowMs: 2_000 };
    const mine = ours(setup).limiter;
    const theirs = official(setup);
    // Start right after a window opens, so the four calls below cannot straddle its end.
    await new Promise((resolve) => setTimeout(resolve, 2_000 - (Date.now() % 2_000) + 10));
    const first = [answer(await mine.limit('c')), answer(await theirs.limit('c'))];
    const blocked = [answer(await mine.limit('c')), answer(await theirs.limit('c'))];
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(...first.map((a) => a.reset)) - Date.now() + 20),
    );
    const next = [answer(await mine.limit('c')), answer(await theirs.limit('c'))];

    for (const pair of [first, blocked, next]) {
      expect(pair[0]).toEqual(pair[1]);
    }
    expect(blocked[0]?.success).toBe(false);
    expect(next[0]).toMatchObject({ success: true, remaining: 0 });
    expect(next[0]?.reset).toBeGreaterThan(first[0]?.reset ?? 0);
  });

  it('sends the library’s EVALSHA under the library’s keys, so counts carry over', async () => {
    const setup = { limit: 5, windowMs: hourMs };
    const prefix = freshPrefix();
    const requests = recordRequests();
    const mine = ours(setup, prefix).limiter;
    const theirs = official(setup, prefix);

    await mine.limit('shared', { rate: 2 });
    const then = await theirs.limit('shared', { rate: 2 });

    expect(then).toMatchObject({ success: true, remaining: 1 });
    const key = `${prefix}:shared:${Math.floor(Date.now() / hourMs)}`;
    const sent = ['evalsha', fixedWindowScriptSha1, 1, key, 5, hourMs, 2];
    expect(requests).toEqual([
      { path: '/pipeline', commands: [sent] },
      { path: '/', commands: [sent] },
    ]);
    const ttl = await new Redis({ url: server.url, token, enableTelemetry: false }).pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(hourMs);
  });

  it('issues the check in the same tick, so it shares a round trip with other commands', async () => {
    const { limiter, redis } = ours({ limit: 5, windowMs: hourMs });
    const requests = recordRequests();

    const [result, value] = await Promise.all([
      limiter.limit('tick'),
      redis.get(`${freshPrefix()}:absent`),
    ]);

    expect(result).toMatchObject({ success: true, remaining: 4 });
    expect(value).toBeNull();
    expect(requests.map(({ path, commands }) => [path, commands.map((c) => c[0])])).toEqual([
      ['/pipeline', ['evalsha', 'get']],
    ]);
  });

  it('refuses a blocked client from memory until its window ends, without Redis', async () => {
    const { limiter, ephemeralCache, prefix } = ours({ limit: 1, windowMs: hourMs });
    await limiter.limit('blocked');
    const refused = await limiter.limit('blocked');
    const requests = recordRequests();

    const again = await limiter.limit('blocked');

    expect(refused).toMatchObject({ success: false, remaining: 0 });
    expect(again).toMatchObject({ success: false, reason: 'cacheBlock', reset: refused.reset });
    expect(requests).toEqual([]);
    expect(ephemeralCache.get(`${prefix}:blocked`)).toBe(refused.reset);
  });

  it('loads the script with EVAL when Redis answers NOSCRIPT, and surfaces other errors', async () => {
    const { limiter, redis } = ours({ limit: 2, windowMs: hourMs });
    const evalScript = vi.spyOn(redis, 'eval');
    vi.spyOn(redis, 'evalsha')
      .mockRejectedValueOnce(new RedisError('EVALSHA failed: NOSCRIPT No matching script'))
      .mockRejectedValueOnce(new RedisError('EVALSHA failed: ERR something else'));

    expect(await limiter.limit('noscript')).toMatchObject({ success: true, remaining: 1 });
    expect(evalScript).toHaveBeenCalledWith(fixedWindowScript, expect.any(Array), [2, hourMs, 1]);
    await expect(limiter.limit('noscript')).rejects.toThrow('ERR something else');
    expect(evalScript).toHaveBeenCalledTimes(1);
  });

  it('lets the request through, marked timeout, when Redis does not answer in time', async () => {
    const setup = { limit: 1, windowMs: hourMs, timeoutMs: 150, url: silent.url };
    const started = Date.now();

    const [mine, theirs] = await Promise.all([
      ours(setup).limiter.limit('slow'),
      official(setup).limit('slow'),
    ]);

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(answer(mine)).toEqual(answer(theirs));
    expect(answer(mine)).toEqual({
      success: true,
      limit: 0,
      remaining: 0,
      reset: 0,
      reason: 'timeout',
    });
  });

  it('rejects, as the library does, when Redis cannot be reached', async () => {
    const setup = { limit: 1, windowMs: hourMs, url: await closedPortUrl() };

    await expect(ours(setup).limiter.limit('down')).rejects.toThrow();
    await expect(official(setup).limit('down')).rejects.toThrow();
  });
});
