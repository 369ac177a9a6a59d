// API keys as a client sees them: the app from createApp on a local stack (libSQL migrated with
// the real migrations, the Upstash REST server in front of Redis database 15), sessions from
// issueSession, keys sent as X-API-Key to the key routes and to probe routes mounted for the test.
import { createHash, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { apiKeys, apiKeyUsage, type UserRow, users } from '../../src/db/schema.ts';
import { ok } from '../../src/lib/envelope.ts';
import { requireAuth, requirePermission } from '../../src/modules/auth/auth.middleware.ts';
import { issueSession } from '../../src/modules/auth/sessions.ts';
import type { Clock } from '../../src/platform/clock.ts';
import { createDatabase, type Database } from '../../src/platform/database.ts';
import { newIp } from '../support/auth-flows.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { breakRedisRequests, transactions } from '../support/redis-faults.ts';
import { appOnStack, startTestStack, testDatabase } from '../support/test-stack.ts';

let stack: LocalStack;
let db: Database;

const keyPattern = /^sk_[A-Za-z0-9_-]{43}$/;
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function newUser(label: string, fields: Partial<UserRow> = {}) {
  return {
    id: randomUUID(),
    email: `${label}-${randomUUID()}@example.com`,
    name: `Key ${label}`,
    emailVerifiedAt: new Date('2026-01-02T03:04:05.000Z'),
    ...fields,
  };
}

const owner = newUser('owner');
const other = newUser('other');
const unverified = newUser('unverified', { emailVerifiedAt: null });

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 15, migrate: true });
  db = createDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN, testDatabase);
  await db.insert(users).values([owner, other, unverified]);
});

afterAll(async () => {
  await stack?.close();
});

interface Envelope<T = Record<string, unknown>> {
  success: boolean;
  data: T;
  error: { code: string; message: string; details?: unknown };
  pagination?: Record<string, unknown>;
}

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  scopes: string[];
  expiresAt: string | null;
}

/**
 * The app on the local stack, with two probe routes that any authenticated caller may reach
 * within the named permission. Requests carry an execution context, as on Workers, so the test
 * can see what was handed to waitUntil and wait for it.
 */
function stackApp(options: { overrides?: Record<string, string>; clock?: Clock } = {}) {
  // Generous limits unless a test says otherwise: the counts in Redis outlive a test run.
  const { app, deps, logLines } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
    RATE_LIMIT_API_KEY: '100000/1m',
    ...options.overrides,
  });
  if (options.clock !== undefined) deps.clock = options.clock;
  for (const permission of ['profile:read', 'profile:write'] as const) {
    app.get(`/probe/${permission}`, requireAuth(), requirePermission(permission), (c) =>
      ok(c, { principal: c.var.principal }),
    );
  }
  const context = collectingExecutionContext();
  const send = (
    method: string,
    path: string,
    auth: { token?: string; apiKey?: string },
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(
      path,
      {
        method,
        headers: {
          ...(auth.token !== undefined && { Authorization: `Bearer ${auth.token}` }),
          ...(auth.apiKey !== undefined && { 'X-API-Key': auth.apiKey }),
          ...(body !== undefined && { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      },
      {},
      context.executionCtx,
    );
  const requestLine = (requestId: string) =>
    logLines.find((line) => line.msg === 'request' && line.requestId === requestId);
  return { app, deps, send, requestLine, ...context };
}

async function sessionOf(app: ReturnType<typeof stackApp>, user: { id: string }): Promise<string> {
  const [row] = await db.select().from(users).where(eq(users.id, user.id));
  if (row === undefined) throw new Error(`no user ${user.id}`);
  const session = await issueSession(app.deps, row, { ip: '203.0.113.7', userAgent: 'vitest' });
  return session.accessToken;
}

async function envelope<T = Record<string, unknown>>(res: Response): Promise<Envelope<T>> {
  return (await res.json()) as Envelope<T>;
}

async function createKey(
  app: ReturnType<typeof stackApp>,
  token: string,
  body: Record<string, unknown>,
): Promise<CreatedKey> {
  const res = await app.send('POST', '/v1/api-keys', { token }, body);
  const parsed = await envelope<CreatedKey>(res);
  expect(res.status, JSON.stringify(parsed)).toBe(201);
  return parsed.data;
}

describe('POST /v1/api-keys', () => {
  it('returns the key once, and the database keeps only its SHA-256', async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const res = await app.send(
      'POST',
      '/v1/api-keys',
      { token },
      {
        name: 'reporting',
        scopes: ['profile:read', 'profile:read'],
        expiresInDays: 30,
      },
    );

    expect(res.status).toBe(201);
    const { data } = await envelope<CreatedKey & Record<string, unknown>>(res);
    expect(data).toEqual({
      id: expect.any(String),
      name: 'reporting',
      key: expect.stringMatching(keyPattern),
      prefix: data.key.slice(0, 10),
      scopes: ['profile:read'],
      createdAt: expect.any(String),
      expiresAt: new Date(Date.parse(String(data.createdAt)) + 30 * 86_400_000).toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    });

    const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, data.id));
    expect(row?.keyHash).toBe(sha256Hex(data.key));
    expect(row?.userId).toBe(owner.id);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(data.key);
    expect(stored).not.toContain(data.key.slice(10));
  });

  it("refuses a scope the owner's role does not hold with 403, naming it", async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const res = await app.send(
      'POST',
      '/v1/api-keys',
      { token },
      {
        name: 'too much',
        scopes: ['profile:read', 'users:admin'],
      },
    );

    expect(res.status).toBe(403);
    expect((await envelope(res)).error).toEqual({
      code: 'FORBIDDEN',
      message: 'A key cannot be given permissions its owner does not hold',
      details: { scopes: ['users:admin'] },
    });
  });

  it('refuses unknown scopes, key management as a scope, and bad expiries with 422', async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const bodies = [
      { name: 'unknown', scopes: ['everything'] },
      { name: 'manager', scopes: ['apikeys:manage'] },
      { name: 'none', scopes: [] },
      { name: 'past', scopes: ['profile:read'], expiresAt: '2020-01-01T00:00:00Z' },
      {
        name: 'both',
        scopes: ['profile:read'],
        expiresAt: '2099-01-01T00:00:00Z',
        expiresInDays: 3,
      },
    ];
    for (const body of bodies) {
      const res = await app.send('POST', '/v1/api-keys', { token }, body);
      expect(res.status, body.name).toBe(422);
      expect((await envelope(res)).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('refuses a field it does not know, such as userId, with 422 and makes no key', async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const res = await app.send(
      'POST',
      '/v1/api-keys',
      { token },
      { name: 'smuggled', scopes: ['profile:read'], userId: other.id },
    );

    expect(res.status).toBe(422);
    const { error } = await envelope(res);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(error.details)).toContain('userId');
    const made = await db.select().from(apiKeys).where(eq(apiKeys.name, 'smuggled'));
    expect(made).toEqual([]);
  });

  it('needs a verified email', async () => {
    const app = stackApp();
    const token = await sessionOf(app, unverified);
    const res = await app.send(
      'POST',
      '/v1/api-keys',
      { token },
      {
        name: 'early',
        scopes: ['profile:read'],
      },
    );

    expect(res.status).toBe(403);
    expect((await envelope(res)).error.code).toBe('EMAIL_NOT_VERIFIED');
  });

  it('needs authentication', async () => {
    const app = stackApp();
    const res = await app.send('POST', '/v1/api-keys', {}, { name: 'x', scopes: ['profile:read'] });

    expect(res.status).toBe(401);
    expect((await envelope(res)).error.code).toBe('UNAUTHORIZED');
  });
});

describe('X-API-Key authentication', () => {
  it("stands for the key's owner, within the key's scopes", async () => {
    const app = stackApp();
    const created = await createKey(app, await sessionOf(app, owner), {
      name: 'reader',
      scopes: ['profile:read'],
    });
    const res = await app.send('GET', '/probe/profile:read', { apiKey: created.key });

    expect(res.status).toBe(200);
    expect((await envelope<{ principal: unknown }>(res)).data.principal).toEqual({
      userId: owner.id,
      role: 'user',
      emailVerified: true,
      via: 'api-key',
      apiKeyId: created.id,
      scopes: ['profile:read'],
    });
  });

  it('reads and is refused on /v1/me as its scopes say', async () => {
    const app = stackApp();
    const { key } = await createKey(app, await sessionOf(app, owner), {
      name: 'profile reader',
      scopes: ['profile:read'],
    });

    const me = await app.send('GET', '/v1/me', { apiKey: key });
    expect(me.status).toBe(200);
    expect((await envelope(me)).data).toMatchObject({ id: owner.id, email: owner.email });
    const rename = await app.send('PATCH', '/v1/me', { apiKey: key }, { name: 'By Key' });
    expect(rename.status).toBe(403);
    expect((await envelope(rename)).error.code).toBe('SCOPE_MISSING');
  });

  it('answers a known key from the cached record, and the log line says so', async () => {
    const app = stackApp();
    const { id, key } = await createKey(app, await sessionOf(app, owner), {
      name: 'cached',
      scopes: ['profile:read'],
    });
    const probe = (requestId: string) =>
      app.send('GET', '/probe/profile:read', { apiKey: key }, undefined, {
        'X-Request-Id': requestId,
      });

    expect((await probe('api-key-cache-first')).status).toBe(200);
    await app.settled();
    expect((await probe('api-key-cache-second')).status).toBe(200);

    const fields = { status: 200, auth: 'api-key', apiKeyId: id, userId: owner.id };
    expect(app.requestLine('api-key-cache-first')).toMatchObject({ ...fields, cache: 'miss' });
    expect(app.requestLine('api-key-cache-second')).toMatchObject({ ...fields, cache: 'hit' });
    expect(JSON.stringify(app.requestLine('api-key-cache-second'))).not.toContain(key);
  });

  it('refuses a permission outside the scopes with 403 SCOPE_MISSING', async () => {
    const app = stackApp();
    const { key } = await createKey(app, await sessionOf(app, owner), {
      name: 'reader',
      scopes: ['profile:read'],
    });
    const res = await app.send('GET', '/probe/profile:write', { apiKey: key });

    expect(res.status).toBe(403);
    expect((await envelope(res)).error.code).toBe('SCOPE_MISSING');
  });

  it('refuses a revoked key with 401 at once, though it was just cached', async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const { id, key } = await createKey(app, token, { name: 'doomed', scopes: ['profile:read'] });
    expect((await app.send('GET', '/probe/profile:read', { apiKey: key })).status).toBe(200);
    await app.settled();

    const revoked = await app.send('DELETE', `/v1/api-keys/${id}`, { token });
    expect(revoked.status).toBe(200);
    expect((await envelope(revoked)).data).toMatchObject({ id, revokedAt: expect.any(String) });
    const res = await app.send('GET', '/probe/profile:read', { apiKey: key });

    expect(res.status).toBe(401);
    expect((await envelope(res)).error).toEqual({
      code: 'API_KEY_INVALID',
      message: 'Invalid API key',
    });
  });

  it('refuses expired, unknown and malformed keys with the same 401', async () => {
    const app = stackApp();
    const expiredKey = `sk_${randomUUID().replaceAll('-', '')}${'e'.repeat(11)}`;
    await db.insert(apiKeys).values({
      userId: owner.id,
      name: 'expired',
      prefix: expiredKey.slice(0, 10),
      keyHash: sha256Hex(expiredKey),
      scopes: ['profile:read'],
      expiresAt: new Date(Date.now() - 60_000),
    });

    for (const apiKey of [expiredKey, `sk_${'A'.repeat(43)}`, 'not-a-key']) {
      const res = await app.send('GET', '/probe/profile:read', { apiKey });
      expect(res.status, apiKey).toBe(401);
      expect((await envelope(res)).error).toEqual({
        code: 'API_KEY_INVALID',
        message: 'Invalid API key',
      });
    }
  });

  it('refuses a key once the clock passes its expiry', async () => {
    const created = new Date();
    const app = stackApp({ clock: { now: () => created } });
    const { key, expiresAt } = await createKey(app, await sessionOf(app, owner), {
      name: 'one day',
      scopes: ['profile:read'],
      expiresInDays: 1,
    });
    const dayLater = new Date(created.getTime() + 86_400_000);
    expect(expiresAt).toBe(dayLater.toISOString());
    expect((await app.send('GET', '/probe/profile:read', { apiKey: key })).status).toBe(200);

    const later = stackApp({ clock: { now: () => dayLater } });
    const res = await later.send('GET', '/probe/profile:read', { apiKey: key });
    expect(res.status).toBe(401);
    expect((await envelope(res)).error.code).toBe('API_KEY_INVALID');
  });

  it('refuses the key of a soft-deleted owner with 401', async () => {
    const leaving = newUser('leaving');
    await db.insert(users).values(leaving);
    const app = stackApp();
    const { key } = await createKey(app, await sessionOf(app, leaving), {
      name: 'orphan',
      scopes: ['profile:read'],
    });
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, leaving.id));

    const res = await app.send('GET', '/probe/profile:read', { apiKey: key });
    expect(res.status).toBe(401);
    expect((await envelope(res)).error.code).toBe('API_KEY_INVALID');
  });

  it('cannot manage keys: creating, listing and revoking need a session', async () => {
    const app = stackApp();
    const { id, key } = await createKey(app, await sessionOf(app, owner), {
      name: 'ambitious',
      scopes: ['profile:read', 'profile:write'],
    });
    const attempts = [
      app.send('POST', '/v1/api-keys', { apiKey: key }, { name: 'x', scopes: ['profile:read'] }),
      app.send('GET', '/v1/api-keys', { apiKey: key }),
      app.send('DELETE', `/v1/api-keys/${id}`, { apiKey: key }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect((await envelope(res)).error.code).toBe('FORBIDDEN');
    }
  });
});

describe('GET /v1/api-keys', () => {
  it("lists the caller's keys, newest first, without key or hash", async () => {
    const lister = newUser('lister');
    await db.insert(users).values(lister);
    const app = stackApp();
    const token = await sessionOf(app, lister);
    // A second apart, so "newest first" has one answer.
    const at = (iso: string) => stackApp({ clock: { now: () => new Date(iso) } });
    const first = await createKey(at('2026-04-01T10:00:00.000Z'), token, {
      name: 'first',
      scopes: ['profile:read'],
    });
    const second = await createKey(at('2026-04-01T10:00:01.000Z'), token, {
      name: 'second',
      scopes: ['profile:write'],
    });

    const res = await app.send('GET', '/v1/api-keys?limit=1', { token });
    expect(res.status).toBe(200);
    const raw = await res.text();
    const body = JSON.parse(raw) as Envelope<Record<string, unknown>[]>;
    expect(body.data).toEqual([
      {
        id: second.id,
        name: 'second',
        prefix: second.prefix,
        scopes: ['profile:write'],
        createdAt: '2026-04-01T10:00:01.000Z',
        expiresAt: null,
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    expect(body.pagination).toEqual({
      page: 1,
      limit: 1,
      total: 2,
      totalPages: 2,
      hasNext: true,
      hasPrev: false,
    });
    for (const secret of [first.key, second.key, sha256Hex(first.key), sha256Hex(second.key)]) {
      expect(raw).not.toContain(secret);
    }
    expect(raw).not.toMatch(/hash/i);

    const next = await envelope<{ id: string }[]>(
      await app.send('GET', '/v1/api-keys?limit=1&page=2', { token }),
    );
    expect(next.data.map((key) => key.id)).toEqual([first.id]);
  });
});

describe('DELETE /v1/api-keys/{id}', () => {
  it("answers 404 for another user's key, which keeps working", async () => {
    const app = stackApp();
    const { id, key } = await createKey(app, await sessionOf(app, owner), {
      name: 'mine',
      scopes: ['profile:read'],
    });
    const otherToken = await sessionOf(app, other);

    const res = await app.send('DELETE', `/v1/api-keys/${id}`, { token: otherToken });
    expect(res.status).toBe(404);
    expect((await envelope(res)).error).toEqual({
      code: 'NOT_FOUND',
      message: 'API key not found',
    });
    const missing = await app.send('DELETE', `/v1/api-keys/${randomUUID()}`, {
      token: otherToken,
    });
    expect((await envelope(missing)).error).toEqual({
      code: 'NOT_FOUND',
      message: 'API key not found',
    });

    const listed = await envelope<{ id: string }[]>(
      await app.send('GET', '/v1/api-keys', { token: otherToken }),
    );
    expect(listed.data.map((item) => item.id)).not.toContain(id);
    expect((await app.send('GET', '/probe/profile:read', { apiKey: key })).status).toBe(200);
  });

  it.each([
    ['fails', () => Promise.reject(new Error('connect ECONNREFUSED'))],
    ['never answers', () => new Promise<never>(() => {})],
  ])(
    'answers 503 when the cache invalidation %s, and a retry finishes the job',
    async (_, send) => {
      // Long enough for the real Redis on a loaded machine, short enough to wait out the hang.
      const app = stackApp({ overrides: { CACHE_TIMEOUT_MS: '2000' } });
      const token = await sessionOf(app, owner);
      const { id, key } = await createKey(app, token, { name: 'stuck', scopes: ['profile:read'] });
      expect((await app.send('GET', '/probe/profile:read', { apiKey: key })).status).toBe(200);
      await app.settled();

      // The invalidation is the cache's only MULTI: only it meets the broken Redis.
      const multi = breakRedisRequests(transactions, send);
      const failed = await app.send('DELETE', `/v1/api-keys/${id}`, { token });
      multi.mockRestore();

      expect(failed.status).toBe(503);
      expect((await envelope(failed)).error).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        details: { backend: 'cache' },
      });
      const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
      expect(row?.revokedAt).toBeInstanceOf(Date);

      const retried = await app.send('DELETE', `/v1/api-keys/${id}`, { token });
      expect(retried.status).toBe(200);
      expect((await envelope(retried)).data).toMatchObject({
        id,
        revokedAt: row?.revokedAt?.toISOString(),
      });
      expect((await app.send('GET', '/probe/profile:read', { apiKey: key })).status).toBe(401);
    },
  );

  it('answers a second revocation like the first, keeping the first time', async () => {
    const app = stackApp();
    const token = await sessionOf(app, owner);
    const { id } = await createKey(app, token, { name: 'twice', scopes: ['profile:read'] });

    const first = await envelope(await app.send('DELETE', `/v1/api-keys/${id}`, { token }));
    const again = await app.send('DELETE', `/v1/api-keys/${id}`, { token });
    expect(again.status).toBe(200);
    expect((await envelope(again)).data).toEqual(first.data);
  });
});

describe('usage', () => {
  it('writes a usage row and lastUsedAt after the response, off its path', async () => {
    const app = stackApp();
    const { id, key } = await createKey(app, await sessionOf(app, owner), {
      name: 'metered',
      scopes: ['profile:read'],
    });
    const handedOver = app.background.length;

    const allowed = await app.send('GET', '/probe/profile:read', { apiKey: key }, undefined, {
      'CF-Connecting-IP': '198.51.100.23',
    });
    const refused = await app.send('GET', '/probe/profile:write', { apiKey: key });
    expect([allowed.status, refused.status]).toEqual([200, 403]);
    // Handed to waitUntil rather than awaited before the response.
    expect(app.background.length).toBeGreaterThan(handedOver);
    await app.settled();

    const rows = await db.select().from(apiKeyUsage).where(eq(apiKeyUsage.apiKeyId, id));
    expect(
      rows.map(({ method, endpoint, ip, status }) => ({ method, endpoint, ip, status })),
    ).toEqual(
      expect.arrayContaining([
        { method: 'GET', endpoint: '/probe/profile:read', ip: '198.51.100.23', status: 200 },
        { method: 'GET', endpoint: '/probe/profile:write', ip: null, status: 403 },
      ]),
    );
    expect(rows).toHaveLength(2);
    const [stored] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(stored?.lastUsedAt).toBeInstanceOf(Date);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 once a key is over its limit, and other keys go on', async () => {
    const app = stackApp({ overrides: { RATE_LIMIT_API_KEY: '2/1d' } });
    const token = await sessionOf(app, owner);
    const busy = await createKey(app, token, { name: 'busy', scopes: ['profile:read'] });
    const quiet = await createKey(app, token, { name: 'quiet', scopes: ['profile:read'] });

    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await app.send('GET', '/probe/profile:read', { apiKey: busy.key });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('Retry-After')).toMatch(/^\d+$/);
        expect((await envelope(res)).error).toMatchObject({
          code: 'RATE_LIMITED',
          details: { policy: 'apiKey' },
        });
      }
    }
    expect(statuses).toEqual([200, 200, 429]);
    const res = await app.send('GET', '/probe/profile:read', { apiKey: quiet.key });
    expect(res.status).toBe(200);
    expect(res.headers.get('RateLimit-Remaining')).toBe('1');
  });

  it('never looks a key up in the database for a client the general limit refuses', async () => {
    const app = stackApp({ overrides: { RATE_LIMIT_GENERAL: '1/1d' } });
    const ip = { 'CF-Connecting-IP': newIp() };
    const select = vi.spyOn(BaseSQLiteDatabase.prototype, 'select');
    const unknownKey = () => `sk_${randomUUID().replaceAll('-', '')}${'u'.repeat(11)}`;

    const first = await app.send('GET', '/v1/me', { apiKey: unknownKey() }, undefined, ip);
    await app.settled();
    expect(first.status).toBe(401);
    expect(select).toHaveBeenCalledTimes(1);

    const refused = await app.send('GET', '/v1/me', { apiKey: unknownKey() }, undefined, ip);
    await app.settled();
    expect(refused.status).toBe(429);
    expect((await envelope(refused)).error.details).toMatchObject({ policy: 'general' });
    expect(select).toHaveBeenCalledTimes(1);
  });
});
