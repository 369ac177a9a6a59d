// GET /v1/users/{id} as a client sees it: the app from createApp, wired to a local stack (libSQL
// migrated with the real migrations, the Upstash REST server in front of Redis database 3).
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { users } from '../../src/db/schema.ts';
import { createDatabase, type Database } from '../../src/platform/database.ts';
import { countingRedisProxy } from '../support/counting-redis-proxy.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { appOnStack, startTestStack, testDatabase } from '../support/test-stack.ts';
import { type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let db: Database;

const active = {
  id: randomUUID(),
  email: `active-${randomUUID()}@example.com`,
  name: 'Katherine Johnson',
  role: 'admin' as const,
  createdAt: new Date('2026-03-04T05:06:07.089Z'),
};
const softDeleted = {
  id: randomUUID(),
  email: `gone-${randomUUID()}@example.com`,
  name: 'Gone User',
  deletedAt: new Date('2026-05-01T00:00:00.000Z'),
};

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 3, migrate: true });
  db = createDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN, testDatabase);
  await db.insert(users).values([active, softDeleted]);
});

afterAll(async () => {
  await stack?.close();
});

/**
 * The app on the local stack. Requests carry an execution context, as on Workers, whose
 * waitUntil work (the cache fill) the test can wait for.
 */
function stackApp(overrides: Record<string, string> = {}) {
  // Generous limits: the rate-limit counts in Redis outlive a test run.
  const { app, logLines } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
    ...overrides,
  });
  const { executionCtx, settled } = collectingExecutionContext();
  const get = (path: string, requestId: string) =>
    app.request(path, { headers: { 'X-Request-Id': requestId } }, {}, executionCtx);
  const requestLine = (requestId: string) =>
    logLines.find((line) => line.msg === 'request' && line.requestId === requestId);
  return { get, requestLine, settled };
}

async function dataOf(res: Response): Promise<unknown> {
  return ((await res.json()) as { data: unknown }).data;
}

const envelopeMeta = (requestId: string) => ({
  timestamp: expect.any(String),
  requestId,
  version: '1.0.0',
});

describe('GET /v1/users/{id}', () => {
  it('answers the public profile of an active user, and nothing private', async () => {
    const { get } = stackApp();
    const res = await get(`/v1/users/${active.id}`, 'users-found-0001');

    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(JSON.parse(raw)).toEqual({
      success: true,
      data: {
        id: active.id,
        name: 'Katherine Johnson',
        avatar: null,
        createdAt: '2026-03-04T05:06:07.089Z',
      },
      meta: envelopeMeta('users-found-0001'),
    });
    expect(raw).not.toContain(active.email);
    expect(raw).not.toContain('admin');
  });

  it('answers 404 for an id no user has', async () => {
    const { get } = stackApp();
    const res = await get(`/v1/users/${randomUUID()}`, 'users-absent-0001');

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'NOT_FOUND', message: 'User not found' },
      meta: envelopeMeta('users-absent-0001'),
    });
  });

  it('answers a soft-deleted user exactly as one that never existed', async () => {
    const { get } = stackApp();
    const res = await get(`/v1/users/${softDeleted.id}`, 'users-deleted-0001');

    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'NOT_FOUND', message: 'User not found' },
      meta: envelopeMeta('users-deleted-0001'),
    });
  });

  it('refuses an id that is not a UUID with 422 naming the field', async () => {
    const { get } = stackApp();
    const res = await get('/v1/users/42', 'users-invalid-0001');

    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      success: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: 'Invalid request param',
        details: {
          target: 'param',
          fields: [{ path: 'id', message: expect.any(String), code: 'invalid_format' }],
        },
      },
      meta: envelopeMeta('users-invalid-0001'),
    });
  });

  it('serves the second read from the cache, and the log line says so', async () => {
    const { get, requestLine, settled } = stackApp();
    const user = { id: randomUUID(), email: `cached-${randomUUID()}@example.com`, name: 'Cached' };
    await db.insert(users).values(user);

    const first = await get(`/v1/users/${user.id}`, 'users-cache-first');
    await settled();
    // Gone from the database: only the cache can still answer.
    await db.delete(users).where(eq(users.id, user.id));
    const second = await get(`/v1/users/${user.id}`, 'users-cache-second');

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(await dataOf(second)).toEqual(await dataOf(first));
    expect(requestLine('users-cache-first')).toMatchObject({ status: 200, cache: 'miss' });
    expect(requestLine('users-cache-second')).toMatchObject({ status: 200, cache: 'hit' });
  });

  it('still answers from the database while Redis is unreachable', async () => {
    const { get, requestLine } = stackApp({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9' });
    const res = await get(`/v1/users/${active.id}`, 'users-redis-down');

    expect(res.status).toBe(200);
    expect(await dataOf(res)).toMatchObject({ id: active.id, name: 'Katherine Johnson' });
    expect(requestLine('users-redis-down')).toMatchObject({ status: 200, cache: 'unavailable' });
  });
});

describe('GET /v1/users/{id} from the cache, with a bearer token', () => {
  let proxy: Awaited<ReturnType<typeof countingRedisProxy>>;
  let reader: SignedInUser;

  beforeAll(async () => {
    proxy = await countingRedisProxy(stack.env.UPSTASH_REDIS_REST_URL);
    [reader] = (await signedInUsers(proxiedApp().deps, [{ name: 'Ada Reader' }])) as [SignedInUser];
  });

  afterAll(async () => {
    await proxy?.close();
  });

  function proxiedApp(overrides: Record<string, string> = {}) {
    const { app, deps, logLines } = appOnStack(stack.env, {
      UPSTASH_REDIS_REST_URL: proxy.url,
      RATE_LIMIT_GENERAL: '100000/1m',
      ...overrides,
    });
    const { executionCtx, settled } = collectingExecutionContext();
    const get = (path: string, requestId: string, ip = '192.0.2.1') =>
      app.request(
        path,
        {
          headers: {
            Authorization: `Bearer ${reader.accessToken}`,
            'CF-Connecting-IP': ip,
            'X-Request-Id': requestId,
          },
        },
        {},
        executionCtx,
      );
    const requestLine = (requestId: string) =>
      logLines.find((line) => line.msg === 'request' && line.requestId === requestId);
    return { deps, get, requestLine, settled };
  }

  /** The requests that reach Redis from here on. */
  function countFromNow() {
    proxy.requests.length = 0;
    return proxy.requests;
  }

  it('costs one round trip to Redis: deny-list, rate limit and cache read leave together', async () => {
    const { get, requestLine, settled } = proxiedApp();
    // The warm-up fills the cache and lets Redis learn the rate limiter's script.
    await get(`/v1/users/${active.id}`, 'users-trips-warm');
    await settled();

    const requests = countFromNow();
    const res = await get(`/v1/users/${active.id}`, 'users-trips-cached');
    await settled();

    expect(res.status).toBe(200);
    expect(await dataOf(res)).toMatchObject({ id: active.id, name: 'Katherine Johnson' });
    expect(requestLine('users-trips-cached')).toMatchObject({ status: 200, cache: 'hit' });
    // The official client sends reads and writes as two concurrent pipelines.
    expect(requests.length).toBeLessThanOrEqual(2);
    expect(requests.every((request) => request.path === '/pipeline')).toBe(true);
    expect(requests.flatMap((request) => request.commands).toSorted()).toEqual([
      'EVALSHA',
      'GETEX',
      'GETEX',
      'MGET',
    ]);
  });

  it('serves nothing to a client over its limit: the read started early is dropped', async () => {
    const { get, requestLine } = proxiedApp({ RATE_LIMIT_GENERAL: '1/1d' });
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    await get(`/v1/users/${active.id}`, 'users-trips-allowed', ip);

    const res = await get(`/v1/users/${active.id}`, 'users-trips-refused', ip);

    expect(res.status).toBe(429);
    const body = (await res.json()) as { success: boolean; data?: unknown; error: unknown };
    expect(body).toMatchObject({ success: false, error: { code: 'RATE_LIMITED' } });
    expect(body.data).toBeUndefined();
    expect(requestLine('users-trips-refused')).not.toHaveProperty('cache');
  });

  it('reads no profile for the paths beside it, such as /v1/users/search', async () => {
    const { get } = proxiedApp();
    const requests = countFromNow();

    const res = await get('/v1/users/search?q=Katherine', 'users-trips-search');

    expect(res.status).toBe(200);
    // Requested by key, not counted: another test's late background write may land meanwhile.
    const keysRead = requests
      .flatMap((request) => request.args)
      .filter(([name]) => name?.toUpperCase() === 'MGET')
      .flatMap(([, ...keys]) => keys);
    expect(keysRead.filter((key) => key.includes('search'))).toEqual([]);
  });
});
