// The health routes as a probe sees them: liveness without backends, readiness against a live
// local stack, and readiness naming each backend that is down or hangs, within the timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import {
  closedPortUrl,
  type HangingServer,
  startHangingServer,
} from '../support/dead-endpoints.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';

// Long enough that a refused connection is told apart from a hang on a loaded machine.
const timeoutMs = 3_000;

let stack: LocalStack;
let closedUrl: string;
let hanging: HangingServer;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 5 });
  closedUrl = await closedPortUrl();
  hanging = await startHangingServer();
});

afterAll(async () => {
  await hanging?.close();
  await stack?.close();
});

const passed = { status: 'ok', latencyMs: expect.any(Number) };
const failed = (reason: string) => ({ status: 'fail', latencyMs: expect.any(Number), reason });

/** The app wired to the local stack, with some variables replaced. */
function stackApp(overrides: Record<string, string> = {}) {
  return appOnStack(stack.env, { HEALTH_TIMEOUT_MS: String(timeoutMs), ...overrides });
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
      TURSO_DATABASE_URL: hanging.url,
      UPSTASH_REDIS_REST_URL: hanging.url,
      QSTASH_URL: hanging.url,
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
