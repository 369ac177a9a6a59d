// The official Upstash Redis client as createRedis sets it up, against the local Upstash REST server
// in front of the real Redis (database 1 only): what the app relies on. Commands issued together
// leave together; a request that fails names no key and is the backend's fault; a command Redis
// refuses is not; an unreachable Redis is tried once more, a silent one only until its deadline.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { faultyBackend } from '../../src/platform/backend-faults.ts';
import { createRedis, RedisUnavailableError } from '../../src/platform/redis.ts';
import { closedPortUrl, startHangingServer } from '../support/dead-endpoints.ts';
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

const client = (url = server.url, clientToken = token, timeoutMs = 10_000) =>
  createRedis({ url, token: clientToken, timeoutMs });

const freshKey = () => `test:${randomUUID()}`;

/** Every HTTP request the client sends, by path. */
function recordRequests(): string[] {
  const paths: string[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    paths.push(new URL(String(input)).pathname);
    return realFetch(input, init);
  });
  return paths;
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

describe('auto-pipelining', () => {
  it("sends a request's concurrent reads and writes as at most two concurrent pipelines", async () => {
    const redis = client();
    const paths = recordRequests();
    const key = freshKey();
    const [, count, values] = await Promise.all([
      redis.set(`${key}:a`, 'one'),
      redis.incr(`${key}:n`),
      redis.mget(`${key}:a`, `${key}:b`),
      redis.evalsha('0000000000000000000000000000000000000000', [], []).catch(() => 'noscript'),
    ]);
    expect(count).toBe(1);
    expect(values).toHaveLength(2);
    expect(paths.length).toBeLessThanOrEqual(2);
    expect(new Set(paths)).toEqual(new Set(['/pipeline']));
  });

  it('runs a transaction as one POST /multi-exec', async () => {
    const redis = client();
    const paths = recordRequests();
    const key = freshKey();
    expect(await redis.multi().set(key, 1, { nx: true }).incr(key).exec()).toEqual(['OK', 2]);
    expect(paths).toEqual(['/multi-exec']);
  });
});

describe('failures', () => {
  it("rejects a command Redis refuses with the client's own error: not an outage", async () => {
    const redis = client();
    const key = freshKey();
    await redis.set(key, 'not a number');
    const error = await failureOf(redis.incr(key));
    expect(error).not.toBeInstanceOf(RedisUnavailableError);
    expect(faultyBackend(error)).toBeUndefined();
  });

  it('rejects every command of a refused request as unavailable, naming no key', async () => {
    const redis = client(server.url, 'wrong-token');
    const key = `secret-token-id:${randomUUID()}`;
    const errors = await Promise.all([
      failureOf(redis.get(key)),
      failureOf(redis.set(`${key}:2`, 'value')),
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(faultyBackend(error)).toBe('redis');
      expect(String(error)).not.toContain(key);
      expect(String((error as Error).cause ?? '')).not.toContain(key);
    }
  });

  it('says what answered when it is not Upstash (an outage page)', async () => {
    const error = await failureOf(client(outageUrl).get(freshKey()));
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(String(error)).toContain('Bad gateway');
  });

  it('tries an unreachable Redis once more, then rejects as unavailable', async () => {
    const url = await closedPortUrl();
    const paths = recordRequests();
    const error = await failureOf(client(url).ping());
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(faultyBackend(error)).toBe('redis');
    expect(paths).toHaveLength(2);
  });

  it('gives up on a silent Redis at its deadline, without a second wait', async () => {
    const hanging = await startHangingServer();
    try {
      const paths = recordRequests();
      const started = Date.now();
      const error = await failureOf(client(hanging.url, token, 200).get(freshKey()));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toBeInstanceOf(RedisUnavailableError);
      expect(String(error)).toContain('no answer within 200 ms');
      expect(paths).toHaveLength(1);
    } finally {
      await hanging.close();
    }
  });
});
