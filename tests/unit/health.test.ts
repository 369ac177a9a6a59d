// The health routes as a probe sees them: liveness without backends, readiness against a live
// local stack, and readiness naming each backend that is down or hangs, within the timeout.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local-stack/stack.ts';
import { createApp } from '../../src/app.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const timeoutMs = 400;

let stack: LocalStack;
let dataDir: string;
let closedUrl: string;
let hangingUrl: string;
let hanging: Server;
const hungSockets: Socket[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'nexus-health-'));
  stack = await startLocalStack({
    libsqlPort: 0,
    redisRestPort: 0,
    qstashPort: 0,
    dataDir,
    redisUrl: 'redis://127.0.0.1:6379/5',
  });
  const closed = createServer();
  const closedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  closedUrl = `http://127.0.0.1:${closedPort}`;
  // Accepts connections and never answers: only a timeout ends a request to it.
  hanging = createServer((socket) => hungSockets.push(socket));
  hangingUrl = `http://127.0.0.1:${await listen(hanging)}`;
});

afterAll(async () => {
  for (const socket of hungSockets) socket.destroy();
  await new Promise((resolve) => hanging?.close(resolve));
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const passed = { status: 'ok', latencyMs: expect.any(Number) };
const failed = (reason: string) => ({ status: 'fail', latencyMs: expect.any(Number), reason });

/** The app wired to the local stack, with some variables replaced. */
function stackApp(overrides: Record<string, string> = {}) {
  const { deps, logLines } = offlineDeps({
    ...stack.env,
    HEALTH_TIMEOUT_MS: String(timeoutMs),
    ...overrides,
  });
  return { app: createApp(deps), logLines };
}

describe('GET /health', () => {
  it('answers 200 with the envelope while every backend is unreachable', async () => {
    const { app } = stackApp({
      TURSO_DATABASE_URL: closedUrl,
      UPSTASH_REDIS_REST_URL: closedUrl,
      QSTASH_URL: closedUrl,
    });
    const res = await app.request('/health', { headers: { 'X-Request-Id': 'probe-00000001' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      data: { status: 'ok' },
      meta: { timestamp: expect.any(String), requestId: 'probe-00000001', version: '1.0.0' },
    });
  });

  it('answers HEAD with the status and no body', async () => {
    const { app } = stackApp();
    for (const path of ['/health', '/health/ready']) {
      const res = await app.request(path, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
  });

  it('is never rate limited, while the routes after it are', async () => {
    const { app } = stackApp({ RATE_LIMIT_GENERAL: '1/1d' });
    for (let i = 0; i < 3; i++) {
      for (const path of ['/health', '/health/ready']) {
        const res = await app.request(path);
        expect(res.status).toBe(200);
        expect(res.headers.get('RateLimit-Limit')).toBeNull();
      }
    }
    await app.request('/openapi.json');
    expect((await app.request('/openapi.json')).status).toBe(429);
  });
});

describe('GET /health/ready', () => {
  it('answers 200 with each check and its latency when the stack is up', async () => {
    const res = await stackApp().app.request('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      success: true,
      data: { status: 'ok', checks: { db: passed, redis: passed, queue: passed } },
      meta: expect.any(Object),
    });
  });

  it('answers 503 naming redis when its REST URL points at a closed port', async () => {
    const { app, logLines } = stackApp({ UPSTASH_REDIS_REST_URL: closedUrl });
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      success: false,
      error: {
        code: 'SERVICE_UNAVAILABLE',
        message: 'Not ready: redis failing',
        details: {
          checks: { db: passed, redis: failed('unreachable'), queue: passed },
          failing: ['redis'],
        },
      },
      meta: expect.any(Object),
    });
    // The underlying error is in the log line, not in the answer.
    const line = logLines.find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({
      status: 503,
      readiness: { failing: ['redis'], faults: { redis: expect.stringContaining('fetch failed') } },
    });
    expect(text).not.toContain('fetch failed');
  });

  it('answers 503 naming db when the database URL is dead', async () => {
    const res = await stackApp({ TURSO_DATABASE_URL: closedUrl }).app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: {
        details: {
          checks: { db: failed('unreachable'), redis: passed, queue: passed },
          failing: ['db'],
        },
      },
    });
  });

  it('cuts every hanging backend off at the timeout, despite the clients retrying', async () => {
    const { app } = stackApp({
      TURSO_DATABASE_URL: hangingUrl,
      UPSTASH_REDIS_REST_URL: hangingUrl,
      QSTASH_URL: hangingUrl,
    });
    const res = await app.request('/health/ready');
    expect(res.status).toBe(503);
    const timedOut = failed('timeout');
    expect(await res.json()).toMatchObject({
      error: {
        details: {
          checks: { db: timedOut, redis: timedOut, queue: timedOut },
          failing: ['db', 'redis', 'queue'],
        },
      },
    });
  });

  it('names a queue whose token QStash refuses', async () => {
    const res = await stackApp({ QSTASH_TOKEN: 'wrong-token' }).app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: { details: { checks: { queue: failed('unexpected reply') }, failing: ['queue'] } },
    });
  });
});
