// The Worker's Upstash REST client against the local Upstash REST server in front of the real Redis
// (database 1 only), checked against the official @upstash/redis client where they share data:
// values, options, auto-pipelining, per-command errors, scripts (and @upstash/ratelimit on top),
// transactions, and what a caller sees when Upstash refuses or cannot be reached.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { RedisError, UpstashRedis } from '../../src/lib/redis.ts';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'redis-client-test-token';
let server: RunningHttpServer;
let outagePage: Server;
let outageUrl: string;

beforeAll(async () => {
  server = await startTestRedisRest({ redisDb: 1, token, flush: true });
  outagePage = createServer((_request, response) => {
    response.writeHead(502, { 'content-type': 'text/html' });
    response.end('<html><body>Bad gateway</body></html>');
  });
  await new Promise<void>((resolve) => outagePage.listen(0, '127.0.0.1', resolve));
  outageUrl = `http://127.0.0.1:${(outagePage.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => outagePage?.close(resolve));
  await server?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const client = (url = server.url, clientToken = token) =>
  new UpstashRedis({ url, token: clientToken, timeoutMs: 10_000 });

const official = () =>
  new Redis({ url: server.url, token, enableTelemetry: false, enableAutoPipelining: false });

const freshKey = () => `test:${randomUUID()}`;

/** Every request the client sends, by path, with the command names in it. */
function recordRequests() {
  const requests: { path: string; commands: string[] }[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const commands = JSON.parse(String(init?.body)) as string[][];
    requests.push({
      path: new URL(String(input)).pathname,
      commands: commands.map((command) => String(command[0])),
    });
    return realFetch(input, init);
  });
  return requests;
}

describe('values', () => {
  it('stores what the official client reads, and reads what it stores', async () => {
    const redis = client();
    const keys = { object: freshKey(), text: freshKey(), number: freshKey(), json: freshKey() };
    await Promise.all([
      redis.set(keys.object, { id: 'u1', tags: ['a'], score: 1.5, none: null }),
      redis.set(keys.text, 'plain text'),
      redis.set(keys.number, 42),
      official().set(keys.json, { from: 'official' }),
    ]);

    expect(await official().get(keys.object)).toEqual({
      id: 'u1',
      tags: ['a'],
      score: 1.5,
      none: null,
    });
    expect(await official().get(keys.text)).toBe('plain text');
    expect(await redis.get(keys.number)).toBe(42);
    expect(await redis.get(keys.json)).toEqual({ from: 'official' });
    expect(await redis.get(freshKey())).toBeNull();
  });

  it('keeps numbers that would lose digits, and JSON-looking text, as the official client does', async () => {
    const redis = client();
    const [long, quoted] = [freshKey(), freshKey()];
    await redis.set(long, '12345678901234567890');
    await redis.set(quoted, '"quoted"');

    expect(await redis.get(long)).toBe('12345678901234567890');
    expect(await redis.get(long)).toBe(await official().get(long));
    expect(await redis.get(quoted)).toBe(await official().get(quoted));
  });

  it('reads several keys with MGET, in order, null for the missing ones', async () => {
    const redis = client();
    const [first, second] = [freshKey(), freshKey()];
    await redis.set(first, { n: 1 });
    await redis.set(second, 'two');

    expect(await redis.mget(first, freshKey(), second)).toEqual([{ n: 1 }, null, 'two']);
  });

  it('counts, deletes, reads with GETEX and answers PING', async () => {
    const redis = client();
    const [counter, other] = [freshKey(), freshKey()];

    expect(await redis.incr(counter)).toBe(1);
    expect(await redis.incr(counter)).toBe(2);
    expect(await redis.getex(counter)).toBe(2);
    expect(await redis.del(counter, other, freshKey())).toBe(1);
    expect(await redis.getex(counter)).toBeNull();
    expect(await redis.ping()).toBe('PONG');
  });
});

describe('set options', () => {
  it('sets only a missing key with nx, only an existing one with xx', async () => {
    const redis = client();
    const key = freshKey();

    expect(await redis.set(key, 'second', { xx: true })).toBeNull();
    expect(await redis.set(key, 'first', { nx: true })).toBe('OK');
    expect(await redis.set(key, 'second', { nx: true })).toBeNull();
    expect(await redis.set(key, 'third', { xx: true })).toBe('OK');
    expect(await redis.get(key)).toBe('third');
  });

  it('gives the key the expiry asked for, in seconds, milliseconds or as a time', async () => {
    const redis = client();
    const [ex, px, exat] = [freshKey(), freshKey(), freshKey()];
    const inAnHour = Math.floor(Date.now() / 1000) + 3600;
    await Promise.all([
      redis.set(ex, 1, { ex: 60 }),
      redis.set(px, 1, { px: 90_000 }),
      redis.set(exat, 1, { exat: inAnHour, nx: true }),
    ]);

    const inspect = official();
    expect(await inspect.ttl(ex)).toBeGreaterThan(55);
    expect(await inspect.ttl(ex)).toBeLessThanOrEqual(60);
    expect(await inspect.pttl(px)).toBeGreaterThan(60_000);
    expect(await inspect.ttl(exat)).toBeGreaterThan(3500);
  });
});

describe('auto-pipelining', () => {
  it('sends the commands issued together as one POST /pipeline, reads and writes alike', async () => {
    const redis = client();
    const key = freshKey();
    await redis.set(key, 'cached');
    const requests = recordRequests();

    const replies = await Promise.all([
      redis.getex(freshKey()),
      redis.mget(key, freshKey()),
      redis.incr(freshKey()),
      redis.ping(),
    ]);

    expect(replies).toEqual([null, ['cached', null], 1, 'PONG']);
    expect(requests).toEqual([{ path: '/pipeline', commands: ['getex', 'mget', 'incr', 'ping'] }]);
  });

  it('sends a command issued after an answer in a request of its own', async () => {
    const redis = client();
    const requests = recordRequests();

    await redis.ping();
    await redis.ping();

    expect(requests).toHaveLength(2);
  });

  it('rejects only the command that failed, naming the command but not its key', async () => {
    const redis = client();
    const text = freshKey();
    await redis.set(text, 'not a number');

    const [failed, read] = await Promise.allSettled([redis.incr(text), redis.get(text)]);

    expect(read).toEqual({ status: 'fulfilled', value: 'not a number' });
    expect(failed.status).toBe('rejected');
    const error = (failed as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(RedisError);
    expect(error.message).toMatch(/^INCR failed: ERR /);
    expect(error.message).not.toContain(text);
  });
});

describe('scripts', () => {
  const script = 'return {KEYS[1], ARGV[1]}';

  it('reports NOSCRIPT for a script Redis does not know, and runs it with EVAL', async () => {
    const redis = client();
    const key = freshKey();
    const unknownSha = 'f'.repeat(40);

    await expect(redis.evalsha(unknownSha, [key], ['x'])).rejects.toThrow('NOSCRIPT');
    expect(await redis.eval(script, [key], [7])).toEqual([key, 7]);
  });

  it('runs a loaded script by its SHA-1', async () => {
    const redis = client();
    const key = freshKey();
    const sha = await official().scriptLoad(script);

    expect(await redis.evalsha(sha, [key], ['{"a":1}'])).toEqual([key, { a: 1 }]);
  });

  it('serves @upstash/ratelimit: counts, then refuses once the limit is reached', async () => {
    const limiter = new Ratelimit({
      redis: client(),
      limiter: Ratelimit.fixedWindow(2, '60 s'),
      prefix: `test-ratelimit:${randomUUID()}`,
      analytics: false,
    });

    const results = [];
    for (let attempt = 0; attempt < 3; attempt += 1) results.push(await limiter.limit('client'));

    expect(results.map(({ success, remaining }) => ({ success, remaining }))).toEqual([
      { success: true, remaining: 1 },
      { success: true, remaining: 0 },
      { success: false, remaining: 0 },
    ]);
    expect(await limiter.getRemaining('client')).toMatchObject({ remaining: 0 });
  });
});

describe('transactions', () => {
  it('runs the commands as one POST /multi-exec and returns each reply', async () => {
    const redis = client();
    const key = freshKey();
    const requests = recordRequests();

    const replies = await redis.multi().set(key, 10, { nx: true }).incr(key).exec();

    expect(replies).toEqual(['OK', 11]);
    expect(requests).toEqual([{ path: '/multi-exec', commands: ['set', 'incr'] }]);
  });

  it('rejects when a command inside failed', async () => {
    const redis = client();
    const key = freshKey();
    await redis.set(key, 'text');

    await expect(redis.multi().incr(key).exec()).rejects.toThrow(/^INCR failed: ERR /);
  });
});

describe('when Upstash refuses or cannot be reached', () => {
  it('rejects every command of the request when the token is refused', async () => {
    const redis = client(server.url, 'wrong-token');
    const key = freshKey();

    const outcomes = await Promise.allSettled([redis.get(key), redis.ping()]);

    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(RedisError);
      expect(error.message).toMatch(/^Upstash Redis answered 401: /);
      expect(error.message).not.toContain(key);
    }
  });

  it('says what answered when it is not Upstash (an outage page)', async () => {
    await expect(client(outageUrl).get(freshKey())).rejects.toThrow(
      'Upstash Redis answered 502: <html><body>Bad gateway</body></html>',
    );
  });

  it('rejects with RedisError when nothing listens, after one retry', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');

    const error = await client(await closedPortUrl())
      .ping()
      .catch((reason: unknown) => reason);

    expect(error).toBeInstanceOf(RedisError);
    expect((error as Error).message).toMatch(/^Upstash Redis unreachable: /);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
  });
});
