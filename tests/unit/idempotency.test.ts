// Idempotency-Key as a client sees it: the app from createApp on the accounts' local stack (Redis
// database 13; every key here is under a fresh user or address), with a counting proxy in front
// of Redis where the round trips matter and a fault proxy in front of the database where a 5xx or
// a slow first request is needed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeyHash, slotName } from '../../src/platform/idempotency.ts';
import {
  type AuthStack,
  authApp,
  dataOf,
  errorOf,
  newAccount,
  newIp,
  startAuthStack,
} from '../support/auth-flows.ts';
import { type CountedRedisRequest, countingRedisProxy } from '../support/counting-redis-proxy.ts';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { productBody } from '../support/product-fixtures.ts';
import { signedInUsers } from '../support/users-fixtures.ts';

let auth: AuthStack;
let redisProxy: Awaited<ReturnType<typeof countingRedisProxy>>;
let database: FaultProxy;

beforeAll(async () => {
  auth = await startAuthStack();
  redisProxy = await countingRedisProxy(auth.stack.env.UPSTASH_REDIS_REST_URL);
  database = await startFaultProxy({ target: auth.stack.env.TURSO_DATABASE_URL });
});

afterAll(async () => {
  await database?.close();
  await redisProxy?.close();
  await auth?.close();
});

const api = () => authApp(auth);
type Api = ReturnType<typeof api>;

async function newUser(app: Api, label: string) {
  const [user] = await signedInUsers(app.deps, [{ name: `Idempotent ${label}` }]);
  if (user === undefined) throw new Error('no user');
  return { ...user, ip: newIp() };
}

type User = Awaited<ReturnType<typeof newUser>>;

const createProduct = (app: Api, user: User, body: unknown, key?: string) =>
  app.call('POST', '/v1/products', {
    token: user.accessToken,
    ip: user.ip,
    body,
    ...(key !== undefined && { headers: { 'Idempotency-Key': key } }),
  });

async function productsOf(ownerId: string): Promise<number> {
  const { rows } = await auth.db.execute({
    sql: 'SELECT count(*) AS n FROM products WHERE owner_id = ?',
    args: [ownerId],
  });
  return Number(rows[0]?.n);
}

/**
 * The user's record of this key; with `state`, once it is in that state (waited for, boundedly).
 */
async function heldBy(app: Api, user: User, key: string, state?: string) {
  const name = slotName(`user:${user.id}`, await idempotencyKeyHash(key));
  for (let attempt = 0; ; attempt++) {
    const record = await app.deps.redis.get<{ state: string }>(name);
    if (state === undefined || record?.state === state) return record;
    if (attempt === 100) throw new Error(`the key never became ${state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a retry with the same key', () => {
  it('answers the stored answer byte for byte, replayed, and creates nothing more', async () => {
    const app = api();
    const user = await newUser(app, 'replay');
    const key = randomUUID();
    const body = productBody();

    const first = await createProduct(app, user, body, key);
    const firstText = await first.text();
    expect(first.status, firstText).toBe(201);
    expect(first.headers.get('Idempotent-Replayed')).toBeNull();

    const retry = await createProduct(app, user, body, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await retry.text()).toBe(firstText);
    expect(retry.headers.get('Content-Type')).toBe(first.headers.get('Content-Type'));
    expect(retry.headers.get('Location')).toBe(first.headers.get('Location'));
    // The retry is a request of its own: its id is on its header, the answer's is the first's.
    expect(retry.headers.get('X-Request-Id')).not.toBe(first.headers.get('X-Request-Id'));
    expect(await productsOf(user.id)).toBe(1);
    const line = app.logLines.find(
      (entry) => entry.msg === 'request' && entry.requestId === retry.headers.get('X-Request-Id'),
    );
    expect(line?.idempotency).toEqual({ outcome: 'replayed' });
    await app.settled();
  });

  it('keeps a 4xx answer too, as Stripe does', async () => {
    const app = api();
    const user = await newUser(app, 'refused');
    const key = randomUUID();
    const body = productBody({ price: { amount: -1, currency: 'EUR' } });

    const first = await createProduct(app, user, body, key);
    const firstText = await first.text();
    expect(first.status).toBe(422);
    const retry = await createProduct(app, user, body, key);
    expect(retry.status).toBe(422);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await retry.text()).toBe(firstText);
    await app.settled();
  });

  it('refuses another body, path or query with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const app = api();
    const user = await newUser(app, 'reused');
    const key = randomUUID();
    const body = productBody();
    expect((await createProduct(app, user, body, key)).status).toBe(201);

    const other = await createProduct(app, user, { ...body, stock: 13 }, key);
    await errorOf(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    // The same bytes reformatted are another body: the fingerprint is of the raw body.
    const spaced = await app.app.request(
      '/v1/products',
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${user.accessToken}`,
          'content-type': 'application/json',
          'cf-connecting-ip': user.ip,
          'idempotency-key': key,
        },
        body: JSON.stringify(body, null, 2),
      },
      {},
    );
    await errorOf(spaced, 422, 'IDEMPOTENCY_KEY_REUSED');
    const bulk = await app.call('POST', '/v1/products/bulk', {
      token: user.accessToken,
      ip: user.ip,
      body: { items: [body] },
      headers: { 'Idempotency-Key': key },
    });
    await errorOf(bulk, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await productsOf(user.id)).toBe(1);
    await app.settled();
  });
});

describe('the header', () => {
  it.each([
    ['empty', ''],
    ['over 255 characters', 'k'.repeat(256)],
    ['not ASCII', 'clé-1'],
    ['with a control character', 'a\tb'],
  ])('refuses a key %s with 400 IDEMPOTENCY_KEY_INVALID', async (_, key) => {
    const app = api();
    const user = await newUser(app, 'malformed');
    const res = await createProduct(app, user, productBody(), key);
    const body = await errorOf(res, 400, 'IDEMPOTENCY_KEY_INVALID');
    expect(body.error.details).toEqual({ header: 'Idempotency-Key' });
    expect(await productsOf(user.id)).toBe(0);
    await app.settled();
  });

  it('takes 255 printable characters', async () => {
    const app = api();
    const user = await newUser(app, 'longest');
    const key = `${' ~'.repeat(127)}!`;
    expect((await createProduct(app, user, productBody(), key)).status).toBe(201);
    await app.settled();
  });

  it('changes nothing when absent: every request creates', async () => {
    const app = api();
    const user = await newUser(app, 'absent');
    const body = productBody();
    for (const _ of [1, 2]) {
      const res = await createProduct(app, user, body);
      expect(res.status).toBe(201);
      expect(res.headers.get('Idempotent-Replayed')).toBeNull();
    }
    expect(await productsOf(user.id)).toBe(2);
    await app.settled();
  });

  it('is ignored where nothing is created', async () => {
    const app = api();
    const user = await newUser(app, 'elsewhere');
    const key = randomUUID();
    const first = await createProduct(app, user, productBody(), key);
    const { id } = await dataOf<{ id: string }>(first, 201);
    // A change is not a creation: the same key on PATCH neither replays nor refuses.
    const patch = await app.call('PATCH', `/v1/products/${id}`, {
      token: user.accessToken,
      ip: user.ip,
      body: { stock: 3 },
      headers: { 'Idempotency-Key': key },
    });
    expect(patch.status).toBe(200);
    expect(patch.headers.get('Idempotent-Replayed')).toBeNull();
    await app.settled();
  });
});

describe('whose keys', () => {
  it('gives another user with the same key their own answer', async () => {
    const app = api();
    const [ada, grace] = [await newUser(app, 'ada'), await newUser(app, 'grace')];
    const key = randomUUID();
    const body = productBody();

    const adas = await dataOf<{ id: string }>(await createProduct(app, ada, body, key), 201);
    const graces = await createProduct(app, grace, body, key);
    expect(graces.headers.get('Idempotent-Replayed')).toBeNull();
    const graceProduct = await dataOf<{ id: string; owner: { id: string } }>(graces, 201);
    expect(graceProduct.id).not.toBe(adas.id);
    expect(graceProduct.owner.id).toBe(grace.id);
    expect(await productsOf(ada.id)).toBe(1);
    expect(await productsOf(grace.id)).toBe(1);
    await app.settled();
  });

  it('shares a user’s keys between their session and their API keys', async () => {
    const app = api();
    const user = await newUser(app, 'key-and-session');
    const created = await dataOf<{ key: string }>(
      await app.call('POST', '/v1/api-keys', {
        token: user.accessToken,
        ip: user.ip,
        body: { name: 'catalogue', scopes: ['products:write'] },
      }),
      201,
    );
    const key = randomUUID();
    const body = productBody();

    const first = await createProduct(app, user, body, key);
    const firstText = await first.text();
    expect(first.status).toBe(201);
    const viaKey = await app.call('POST', '/v1/products', {
      ip: user.ip,
      body,
      headers: { 'X-API-Key': created.key, 'Idempotency-Key': key },
    });
    expect(viaKey.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await viaKey.text()).toBe(firstText);
    expect(await productsOf(user.id)).toBe(1);
    await app.settled();
  });

  it('keeps a registration per client address, and replays its session', async () => {
    const app = api();
    const key = randomUUID();
    const account = newAccount('idempotent-signup');
    const ip = newIp();
    const register = (from: string) =>
      app.call('POST', '/v1/auth/register', {
        body: account,
        ip: from,
        headers: { 'Idempotency-Key': key },
      });

    const first = await register(ip);
    const firstText = await first.text();
    expect(first.status, firstText).toBe(201);
    const retry = await register(ip);
    expect(retry.headers.get('Idempotent-Replayed')).toBe('true');
    expect(await retry.text()).toBe(firstText);
    // Another address's key is its own: this one runs, and finds the email taken.
    await errorOf(await register(newIp()), 409, 'CONFLICT');
    const { rows } = await auth.db.execute({
      sql: 'SELECT count(*) AS n FROM users WHERE email = ?',
      args: [account.email],
    });
    expect(Number(rows[0]?.n)).toBe(1);
    await app.settled();
  });
});

describe('the stored answer', () => {
  it('keeps no secret readable in Redis: a new API key is sealed with the Idempotency-Key', async () => {
    const app = api();
    const user = await newUser(app, 'sealed');
    const key = randomUUID();
    const res = await app.call('POST', '/v1/api-keys', {
      token: user.accessToken,
      ip: user.ip,
      body: { name: 'sealed', scopes: ['profile:read'] },
      headers: { 'Idempotency-Key': key },
    });
    const { key: apiKey } = await dataOf<{ key: string }>(res, 201);

    const name = slotName(`user:${user.id}`, await idempotencyKeyHash(key));
    expect(name).not.toContain(key);
    const stored = await heldBy(app, user, key);
    expect(stored).toMatchObject({ state: 'done', status: 201 });
    const text = JSON.stringify(stored);
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain(apiKey.slice(3, 20));
    expect(await app.deps.redis.ttl(name)).toBeGreaterThan(24 * 60 * 60 - 60);
    await app.settled();
  });

  it('is not kept for a 5xx: the key is released and a retry runs again', async () => {
    const app = authApp(auth, { TURSO_DATABASE_URL: database.url });
    const user = await newUser(api(), 'server-error');
    const key = randomUUID();
    const body = productBody();

    database.setRules([{ kind: 'fail-before', path: '/v2/pipeline', rate: 1 }]);
    try {
      await errorOf(await createProduct(app, user, body, key), 503, 'SERVICE_UNAVAILABLE');
    } finally {
      database.setRules([]);
    }
    const retry = await createProduct(app, user, body, key);
    expect(retry.headers.get('Idempotent-Replayed')).toBeNull();
    const product = await dataOf<{ id: string }>(retry, 201);
    const again = await createProduct(app, user, body, key);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    expect((await dataOf<{ id: string }>(again, 201)).id).toBe(product.id);
    expect(await productsOf(user.id)).toBe(1);
    await app.settled();
  });
});

describe('concurrent duplicates', () => {
  it('wait for the first and answer as it did', async () => {
    const app = api();
    const user = await newUser(app, 'concurrent');
    const key = randomUUID();
    const body = productBody();

    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await createProduct(app, user, body, key);
        return {
          status: res.status,
          replayed: res.headers.get('Idempotent-Replayed'),
          text: await res.text(),
        };
      }),
    );
    expect(answers.map(({ status }) => status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map(({ text }) => text)).size).toBe(1);
    expect(answers.filter(({ replayed }) => replayed === 'true')).toHaveLength(7);
    expect(await productsOf(user.id)).toBe(1);
    await app.settled();
  });

  it('answer 409 with Retry-After while the first is still running after the wait', async () => {
    // The first request waits at the paused database past the duplicate's wait, not timing out.
    const app = authApp(auth, { TURSO_DATABASE_URL: database.url, DATABASE_TIMEOUT_MS: '20000' });
    const user = await newUser(api(), 'slow-first');
    const key = randomUUID();
    const body = productBody();

    database.pause();
    const first = createProduct(app, user, body, key);
    let duplicate: Response;
    try {
      // The first holds the key, then waits at the database.
      await heldBy(app, user, key, 'running');
      duplicate = await createProduct(app, user, body, key);
    } finally {
      database.resume();
    }
    const refused = await errorOf(duplicate, 409, 'IDEMPOTENCY_REQUEST_IN_PROGRESS');
    expect(duplicate.headers.get('Retry-After')).toBe('1');
    expect(refused.error.details).toEqual({ retryAfterSeconds: 1 });
    // Another body with the key is refused at once, whatever the first becomes.
    await errorOf(
      await createProduct(app, user, { ...body, stock: 1 }, key),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    const product = await dataOf<{ id: string }>(await first, 201);
    const retry = await createProduct(app, user, body, key);
    expect((await dataOf<{ id: string }>(retry, 201)).id).toBe(product.id);
    await app.settled();
  }, 20_000);
});

describe('round trips and Redis', () => {
  const proxied = () => authApp(auth, { UPSTASH_REDIS_REST_URL: redisProxy.url });

  /**
   * The commands of each Redis request, but the job-state writes of the outbox's publish, which
   * the handler hands to waitUntil and may leave before or after the answer.
   */
  const onPath = (requests: CountedRedisRequest[]) =>
    requests
      .filter((request) => !request.args.every(([, key]) => key?.startsWith('job:')))
      .map((request) => request.commands);

  /** The Redis requests of one call, split at the response. */
  async function counted(send: () => Response | Promise<Response>) {
    redisProxy.requests.length = 0;
    const res = await send();
    const beforeAnswer = [...redisProxy.requests];
    return { res, beforeAnswer };
  }

  it('claims in the rate limit’s round trip: a create with a key waits for Redis once more, to store', async () => {
    const app = proxied();
    const user = await newUser(app, 'trips');
    // The warm-up lets Redis learn the limiter's script, as traffic would.
    expect((await createProduct(app, user, productBody(), randomUUID())).status).toBe(201);
    await app.settled();

    const without = await counted(() => createProduct(app, user, productBody()));
    expect(without.res.status).toBe(201);
    await app.settled();
    const withKey = await counted(() => createProduct(app, user, productBody(), randomUUID()));
    expect(withKey.res.status).toBe(201);
    await app.settled();

    const [withoutFirst, ...withoutRest] = onPath(without.beforeAnswer);
    const [withFirst, ...withRest] = onPath(withKey.beforeAnswer);
    // The claim leaves in the first request, with the deny-list reads and the limiter's script.
    expect(withoutFirst).toEqual(['GETEX', 'GETEX', 'EVALSHA']);
    expect(withFirst).toEqual(['GETEX', 'GETEX', 'SET', 'EVALSHA']);
    // Then what the handler sends either way, and the store before the answer.
    expect(withRest).toEqual([...withoutRest, ['EVAL']]);
  });

  it('claims an API key’s owner after authentication, one round trip more', async () => {
    const app = proxied();
    const user = await newUser(app, 'key-trips');
    const { key: apiKey } = await dataOf<{ key: string }>(
      await app.call('POST', '/v1/api-keys', {
        token: user.accessToken,
        ip: user.ip,
        body: { name: 'trips', scopes: ['products:write'] },
      }),
      201,
    );
    const viaKey = (key?: string) =>
      app.call('POST', '/v1/products', {
        ip: user.ip,
        body: productBody(),
        headers: { 'X-API-Key': apiKey, ...(key !== undefined && { 'Idempotency-Key': key }) },
      });
    expect((await viaKey(randomUUID())).status).toBe(201);
    await app.settled();

    const without = await counted(() => viaKey());
    await app.settled();
    const withKey = await counted(() => viaKey(randomUUID()));
    await app.settled();
    const withoutPath = onPath(without.beforeAnswer);
    // The limits and the key's cached record, concurrent (writes and reads apart), then the claim.
    expect(withoutPath.slice(0, 2)).toEqual([['EVALSHA', 'EVALSHA'], ['MGET']]);
    expect(onPath(withKey.beforeAnswer)).toEqual([
      ...withoutPath.slice(0, 2),
      ['SET'],
      ...withoutPath.slice(2),
      ['EVAL'],
    ]);
  });

  it('releases a claim made for a request refused before its route took it', async () => {
    const app = api();
    const user = await newUser(app, 'squatted');
    const key = randomUUID();
    const body = productBody();
    // A token that names the user but whose signature fails: the claim leaves before the check.
    const forged = `${user.accessToken.slice(0, -4)}AAAA`;
    const refused = await app.call('POST', '/v1/products', {
      token: forged,
      ip: user.ip,
      body,
      headers: { 'Idempotency-Key': key },
    });
    await errorOf(refused, 401, 'UNAUTHORIZED');
    await app.settled();

    expect(await heldBy(app, user, key)).toBeNull();
    const res = await createProduct(app, user, body, key);
    expect(res.status).toBe(201);
    expect(res.headers.get('Idempotent-Replayed')).toBeNull();
    // It found the key free, not a claim to wait for.
    const line = app.logLines.find(
      (entry) => entry.msg === 'request' && entry.requestId === res.headers.get('X-Request-Id'),
    );
    expect(line?.idempotency).toEqual({ outcome: 'stored' });
  });

  it('refuses with 503 when Redis is down and a key is sent, and serves without one', async () => {
    const app = api();
    const user = await newUser(app, 'redis-down');
    const { key: apiKey } = await dataOf<{ key: string }>(
      await app.call('POST', '/v1/api-keys', {
        token: user.accessToken,
        ip: user.ip,
        body: { name: 'outage', scopes: ['products:write'] },
      }),
      201,
    );
    // An API key's record is then read from the database, and its limits fail open.
    const down = authApp(auth, { UPSTASH_REDIS_REST_URL: await closedPortUrl() });
    const viaKey = (key?: string) =>
      down.call('POST', '/v1/products', {
        ip: user.ip,
        body: productBody(),
        headers: { 'X-API-Key': apiKey, ...(key !== undefined && { 'Idempotency-Key': key }) },
      });

    expect((await viaKey()).status).toBe(201);
    const refused = await errorOf(await viaKey(randomUUID()), 503, 'SERVICE_UNAVAILABLE');
    expect(refused.error.details).toEqual({ backend: 'redis' });
    expect(await productsOf(user.id)).toBe(1);
    await down.settled();
  });
});
