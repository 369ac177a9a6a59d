// Rate limiting as a client sees it: the app built by createApp, its limiters talking to the local
// Upstash REST server in front of the real Redis (database 4 only).
import { randomUUID } from 'node:crypto';
import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { createApp } from '../../src/app.ts';
import type { AppEnv } from '../../src/app-env.ts';
import { ok } from '../../src/lib/envelope.ts';
import { waitUntil } from '../../src/lib/wait-until.ts';
import { byClientIpAndEmail, rateLimit } from '../../src/middleware/rate-limit.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { offlineDeps } from '../support/offline-deps.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'rate-limit-test-token';
let server: RunningHttpServer;

beforeAll(async () => {
  server = await startTestRedisRest({ redisDb: 4, token, flush: true });
});

afterAll(async () => {
  await server?.close();
});

// Windows of a day keep each test's requests inside one fixed window.
function appWith(overrides: Record<string, string> = {}) {
  const { deps, logLines } = offlineDeps({
    UPSTASH_REDIS_REST_URL: server.url,
    UPSTASH_REDIS_REST_TOKEN: token,
    RATE_LIMIT_GENERAL: '3/1d',
    RATE_LIMIT_AUTH: '2/1d',
    ...overrides,
  });
  const app = createApp(deps);
  app.get('/things', (c) => ok(c, { things: [] }));
  // The body the key function reads is still there for the route's validator.
  app.post(
    '/auth/login',
    rateLimit('auth', { key: byClientIpAndEmail }),
    zValidator('json', z.object({ email: z.string(), password: z.string() })),
    (c) => ok(c, { signedIn: c.req.valid('json').email }),
  );
  return { app, deps, logLines };
}

let ipCounter = 0;
// A fresh address per test: counts in Redis never leak from one test into another.
function freshIp(): string {
  ipCounter += 1;
  return `198.51.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

function get(
  app: ReturnType<typeof appWith>['app'],
  ip: string,
  headers: Record<string, string> = {},
) {
  return app.request('/things', { headers: { 'CF-Connecting-IP': ip, ...headers } });
}

function login(app: ReturnType<typeof appWith>['app'], ip: string, email: string) {
  return app.request('/auth/login', {
    method: 'POST',
    headers: { 'CF-Connecting-IP': ip, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'not-checked-here' }),
  });
}

describe('general policy', () => {
  it('sends RateLimit headers that count down on every response', async () => {
    const { app } = appWith();
    const ip = freshIp();
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await get(app, ip);
      expect(response.status).toBe(200);
      expect(response.headers.get('RateLimit-Limit')).toBe('3');
      expect(response.headers.get('RateLimit-Policy')).toBe('3;w=86400');
      const reset = Number(response.headers.get('RateLimit-Reset'));
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThanOrEqual(86_400);
      remaining.push(response.headers.get('RateLimit-Remaining') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
  });

  it('allows 100 requests per 15 minutes by default and refuses the 101st', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '' });
    const ip = freshIp();
    for (let i = 0; i < 100; i++) expect((await get(app, ip)).status).toBe(200);
    const refused = await get(app, ip);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('RateLimit-Limit')).toBe('100');
    expect(Number(refused.headers.get('Retry-After'))).toBeLessThanOrEqual(900);
  });

  it('answers 429 with an envelope saying when to retry once the limit is used up', async () => {
    const { app, logLines } = appWith();
    const ip = freshIp();
    for (let i = 0; i < 3; i++) await get(app, ip);
    const response = await get(app, ip, { 'X-Request-Id': 'rate-limit-test-429' });

    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(response.headers.get('RateLimit-Remaining')).toBe('0');
    expect(response.headers.get('RateLimit-Reset')).toBe(String(retryAfter));
    const body = await response.json();
    expect(body).toMatchObject({
      success: false,
      error: {
        code: 'RATE_LIMITED',
        details: { policy: 'general', retryAfterSeconds: retryAfter },
      },
      meta: { requestId: 'rate-limit-test-429' },
    });
    const { retryAt } = (body as { error: { details: { retryAt: string } } }).error.details;
    expect(Date.parse(retryAt)).toBeGreaterThan(Date.now());
    const line = logLines.find((l) => l.msg === 'request' && l.requestId === 'rate-limit-test-429');
    expect(line).toMatchObject({ status: 429, rateLimit: { general: { outcome: 'limited' } } });
  });

  it('keeps refusing from memory, without asking Redis, until the window ends', async () => {
    const { app } = appWith();
    const ip = freshIp();
    for (let i = 0; i < 4; i++) await get(app, ip);
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const response = await get(app, ip);
      expect(response.status).toBe(429);
      expect(response.headers.get('Retry-After')).not.toBeNull();
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('counts each client address separately', async () => {
    const { app } = appWith();
    const [first, second] = [freshIp(), freshIp()];
    for (let i = 0; i < 4; i++) await get(app, first);
    expect((await get(app, first)).status).toBe(429);
    const other = await get(app, second);
    expect(other.status).toBe(200);
    expect(other.headers.get('RateLimit-Remaining')).toBe('2');
  });

  it('counts a whole IPv6 /64 as one client', async () => {
    const { app } = appWith();
    const prefix = `2001:db8:${randomUUID().slice(0, 4)}:1`;
    for (let i = 1; i <= 3; i++) expect((await get(app, `${prefix}::${i}`)).status).toBe(200);
    expect((await get(app, `${prefix}:0:0:0:99`)).status).toBe(429);
  });

  it('does not limit the health probes', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '1/1d' });
    const ip = freshIp();
    await get(app, ip);
    for (let i = 0; i < 3; i++) {
      const response = await app.request('/health', { headers: { 'CF-Connecting-IP': ip } });
      expect(response.status).toBe(200);
      expect(response.headers.get('RateLimit-Limit')).toBeNull();
    }
  });

  it('hands the pending work to the execution context where the runtime has one', async () => {
    const { app } = appWith();
    const { executionCtx, background } = collectingExecutionContext();
    const response = await app.request(
      '/things',
      { headers: { 'CF-Connecting-IP': freshIp() } },
      {},
      executionCtx,
    );
    expect(response.status).toBe(200);
    expect(background).toHaveLength(1);
    expect(background[0]).toBeInstanceOf(Promise);
  });

  it('lets a Redis read issued just before it travel in the same round trip', async () => {
    const { deps } = appWith();
    // What an auth middleware placed before the limiter does with the token's deny-list entry.
    const app = new Hono<AppEnv>();
    app.use(async (c, next) => {
      c.set('deps', deps);
      c.set('requestId', randomUUID());
      c.set('event', {});
      await next();
    });
    app.use(async (c, next) => {
      c.set('event', { denyList: c.var.deps.redis.get(`deny:${randomUUID()}`) });
      await next();
    });
    app.use(rateLimit('general'));
    app.get('/prefetch', async (c) => ok(c, { denied: (await c.var.event.denyList) !== null }));
    const ip = freshIp();
    await app.request('/prefetch', { headers: { 'CF-Connecting-IP': ip } }); // loads the script

    const events: string[] = [];
    const realFetch = globalThis.fetch;
    const fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      events.push('sent');
      try {
        return await realFetch(input, init);
      } finally {
        events.push('answered');
      }
    });
    try {
      const response = await app.request('/prefetch', { headers: { 'CF-Connecting-IP': ip } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ data: { denied: false } });
      expect(response.headers.get('RateLimit-Remaining')).toBe('1');
    } finally {
      fetchSpy.mockRestore();
    }
    // Auto-pipelining sends the read and the limiter's script together: at most two requests
    // (reads and writes apart), both sent before either is answered, so one round trip.
    const sent = events.filter((event) => event === 'sent').length;
    expect(sent).toBeLessThanOrEqual(2);
    expect(events.indexOf('answered')).toBe(sent);
  });
});

describe('auth policy', () => {
  it('counts each address and email pair, ignoring the email’s case', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '100/1d' });
    const ip = freshIp();
    const first = await login(app, ip, 'ada@example.com');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ data: { signedIn: 'ada@example.com' } });
    expect((await login(app, ip, ' ADA@example.com')).status).toBe(200);

    const refused = await login(app, ip, 'ada@example.com');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('RateLimit-Limit')).toBe('2');
    expect(await refused.json()).toMatchObject({
      error: { code: 'RATE_LIMITED', details: { policy: 'auth' } },
    });

    expect((await login(app, ip, 'grace@example.com')).status).toBe(200);
    expect((await login(app, freshIp(), 'ada@example.com')).status).toBe(200);
  });

  it('shows the tighter of the two policies in the headers', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '100/1d' });
    const response = await login(app, freshIp(), 'lin@example.com');
    expect(response.headers.get('RateLimit-Limit')).toBe('2');
    expect(response.headers.get('RateLimit-Remaining')).toBe('1');
  });
});

describe('client address', () => {
  it('ignores X-Forwarded-For unless it is the configured header', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '1/1d' });
    const ip = freshIp();
    expect((await get(app, ip, { 'X-Forwarded-For': freshIp() })).status).toBe(200);
    expect((await get(app, ip, { 'X-Forwarded-For': freshIp() })).status).toBe(429);
  });

  it('takes the last X-Forwarded-For entry when told to trust it', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '1/1d', CLIENT_IP_HEADER: 'X-Forwarded-For' });
    const client = freshIp();
    const forwarded = (spoofed: string) =>
      app.request('/things', { headers: { 'X-Forwarded-For': `${spoofed}, ${client}` } });
    expect((await forwarded(freshIp())).status).toBe(200);
    expect((await forwarded(freshIp())).status).toBe(429);
  });

  it('falls back to the connection address the Node server hands in', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '1/1d', CLIENT_IP_HEADER: 'none' });
    const nodeBindings = (address: string) => ({
      incoming: { socket: { remoteAddress: address } },
    });
    const [first, second] = [freshIp(), freshIp()];
    const request = (address: string, header: string) =>
      app.request('/things', { headers: { 'CF-Connecting-IP': header } }, nodeBindings(address));
    expect((await request(first, freshIp())).status).toBe(200);
    expect((await request(first, freshIp())).status).toBe(429);
    expect((await request(second, first)).status).toBe(200);
  });
});

describe('configuration', () => {
  it('lets operators tune each policy without code', async () => {
    const { app } = appWith({ RATE_LIMIT_GENERAL: '7/2h' });
    const response = await get(app, freshIp());
    expect(response.headers.get('RateLimit-Limit')).toBe('7');
    expect(response.headers.get('RateLimit-Policy')).toBe('7;w=7200');
  });

  it('stops start-up with a message naming a malformed limit', () => {
    expect(() => appWith({ RATE_LIMIT_AUTH: '5 per 15 minutes' })).toThrow(
      /RATE_LIMIT_AUTH: expected "<requests>\/<window>"/,
    );
    expect(() => appWith({ RATE_LIMIT_GENERAL: '0/15m' })).toThrow(/RATE_LIMIT_GENERAL/);
  });
});

describe('background work', () => {
  it('logs a failure of work handed to waitUntil instead of failing the request', async () => {
    const { app, logLines } = appWith();
    app.get('/later', (c) => {
      waitUntil(c, 'test-task', Promise.reject(new Error('backend went away')));
      return ok(c, { accepted: true });
    });
    const response = await app.request('/later', {
      headers: { 'CF-Connecting-IP': freshIp(), 'X-Request-Id': 'wait-until-failure' },
    });
    expect(response.status).toBe(200);
    await vi.waitFor(() =>
      expect(logLines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: 'background task failed',
          task: 'test-task',
          requestId: 'wait-until-failure',
          error: 'backend went away',
        }),
      ),
    );
  });
});
