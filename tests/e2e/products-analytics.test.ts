// Product analytics on the real Worker, over products written straight into its database with
// chosen creation dates: a user's own figures, an administrator's global and per-user ones, exact
// to the minor unit. Products older than the 12-month window count in the summary only; a deleted
// product, or one whose owner is deleted, counts nowhere. A repeated read is served from the
// cache, and a write shows in the next read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  login,
  promoteToAdmin,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

interface CurrencyFigures {
  currency: string;
  count: number;
  averagePrice: number;
  minPrice?: number;
  maxPrice?: number;
}

interface Analytics {
  summary: { count: number; byCurrency: CurrencyFigures[] };
  byCategory: { category: string; count: number; byCurrency: CurrencyFigures[] }[];
  monthly: { month: string; count: number; byCurrency: CurrencyFigures[] }[];
}

let worker: IdentityWorker;
let alice: Account & { session: Session };
let bob: Account & { session: Session };
let admin: Session;

// The Worker's clock is the real one: the window is computed from the same "now".
const now = new Date();
/** The first instant (UTC) of the month `back` months before the current one. */
const monthStart = (back: number) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));
const inMonth = (back: number, day: number) =>
  new Date(monthStart(back).getTime() + (day - 1) * 86_400_000 + 12 * 3_600_000);
const monthName = (back: number) => monthStart(back).toISOString().slice(0, 7);

let lastSeq = 0;
async function insertProduct(
  ownerId: string,
  product: {
    category: string;
    price: [number, string];
    createdAt: Date;
    deleted?: boolean;
  },
): Promise<void> {
  lastSeq += 1;
  const at = product.createdAt.getTime();
  await worker.db.execute({
    sql:
      'INSERT INTO products (id, owner_id, name, category, price_amount, price_currency, ' +
      'created_at, updated_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    args: [
      crypto.randomUUID(),
      ownerId,
      `Analytics product ${lastSeq}`,
      product.category,
      product.price[0],
      product.price[1],
      at,
      at,
      product.deleted ? at + 1000 : null,
    ],
  });
}

beforeAll(async () => {
  worker = await startIdentityWorker();
  alice = await register(worker, 'alice');
  bob = await register(worker, 'bob');
  const gone = await register(worker, 'gone');
  const operator = await register(worker, 'analyst');
  await promoteToAdmin(worker, operator.id);
  admin = await login(worker, operator);

  const products: [string, Parameters<typeof insertProduct>[1]][] = [
    // The window's first and last month open exactly at their first instant.
    [alice.id, { category: 'home', price: [1000, 'EUR'], createdAt: monthStart(0) }],
    [alice.id, { category: 'home', price: [2001, 'EUR'], createdAt: inMonth(1, 10) }],
    [alice.id, { category: 'electronics', price: [5000, 'USD'], createdAt: inMonth(1, 20) }],
    [alice.id, { category: 'books', price: [3000, 'EUR'], createdAt: inMonth(3, 5) }],
    [alice.id, { category: 'electronics', price: [4000, 'EUR'], createdAt: monthStart(11) }],
    // A millisecond before the window, and long before it: in the summary, in no month.
    [
      alice.id,
      {
        category: 'home',
        price: [999, 'USD'],
        createdAt: new Date(monthStart(11).getTime() - 1),
      },
    ],
    [alice.id, { category: 'toys', price: [500, 'JPY'], createdAt: inMonth(20, 15) }],
    // Deleted: counted nowhere.
    [
      alice.id,
      { category: 'home', price: [100_000, 'EUR'], createdAt: inMonth(1, 3), deleted: true },
    ],
    [bob.id, { category: 'electronics', price: [7000, 'EUR'], createdAt: monthStart(0) }],
    [bob.id, { category: 'home', price: [1200, 'GBP'], createdAt: inMonth(2, 8) }],
    [bob.id, { category: 'home', price: [1500, 'EUR'], createdAt: inMonth(1, 25) }],
    // Its owner is deleted below: hidden with them.
    [gone.id, { category: 'garden', price: [800, 'EUR'], createdAt: inMonth(0, 1) }],
  ];
  for (const [ownerId, product] of products) await insertProduct(ownerId, product);
  await worker.db.execute({
    sql: 'UPDATE users SET deleted_at = ? WHERE id = ?',
    args: [Date.now(), gone.id],
  });
});

afterAll(async () => {
  await worker?.close();
});

/** The 12 months, oldest first, with the figures of the months given (by months back), zeros elsewhere. */
function months(
  figures: Record<number, { count: number; byCurrency: CurrencyFigures[] }>,
): Analytics['monthly'] {
  return Array.from({ length: 12 }, (_, index) => {
    const back = 11 - index;
    return { month: monthName(back), ...(figures[back] ?? { count: 0, byCurrency: [] }) };
  });
}

const aliceFigures: Analytics = {
  summary: {
    count: 7,
    byCurrency: [
      // (1000 + 2001 + 3000 + 4000) / 4 = 2500.25
      { currency: 'EUR', count: 4, averagePrice: 2500, minPrice: 1000, maxPrice: 4000 },
      // (5000 + 999) / 2 = 2999.5, rounded half away from zero
      { currency: 'USD', count: 2, averagePrice: 3000, minPrice: 999, maxPrice: 5000 },
      { currency: 'JPY', count: 1, averagePrice: 500, minPrice: 500, maxPrice: 500 },
    ],
  },
  byCategory: [
    {
      category: 'home',
      count: 3,
      byCurrency: [
        { currency: 'EUR', count: 2, averagePrice: 1501 },
        { currency: 'USD', count: 1, averagePrice: 999 },
      ],
    },
    {
      category: 'electronics',
      count: 2,
      byCurrency: [
        { currency: 'EUR', count: 1, averagePrice: 4000 },
        { currency: 'USD', count: 1, averagePrice: 5000 },
      ],
    },
    {
      category: 'books',
      count: 1,
      byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 3000 }],
    },
    { category: 'toys', count: 1, byCurrency: [{ currency: 'JPY', count: 1, averagePrice: 500 }] },
  ],
  monthly: months({
    11: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 4000 }] },
    3: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 3000 }] },
    1: {
      count: 2,
      byCurrency: [
        { currency: 'EUR', count: 1, averagePrice: 2001 },
        { currency: 'USD', count: 1, averagePrice: 5000 },
      ],
    },
    0: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 1000 }] },
  }),
};

const bobFigures: Analytics = {
  summary: {
    count: 3,
    byCurrency: [
      { currency: 'EUR', count: 2, averagePrice: 4250, minPrice: 1500, maxPrice: 7000 },
      { currency: 'GBP', count: 1, averagePrice: 1200, minPrice: 1200, maxPrice: 1200 },
    ],
  },
  byCategory: [
    {
      category: 'home',
      count: 2,
      byCurrency: [
        { currency: 'EUR', count: 1, averagePrice: 1500 },
        { currency: 'GBP', count: 1, averagePrice: 1200 },
      ],
    },
    {
      category: 'electronics',
      count: 1,
      byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 7000 }],
    },
  ],
  monthly: months({
    2: { count: 1, byCurrency: [{ currency: 'GBP', count: 1, averagePrice: 1200 }] },
    1: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 1500 }] },
    0: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 7000 }] },
  }),
};

const everyonesFigures: Analytics = {
  summary: {
    count: 10,
    byCurrency: [
      // 18501 / 6 = 3083.5
      { currency: 'EUR', count: 6, averagePrice: 3084, minPrice: 1000, maxPrice: 7000 },
      { currency: 'USD', count: 2, averagePrice: 3000, minPrice: 999, maxPrice: 5000 },
      { currency: 'GBP', count: 1, averagePrice: 1200, minPrice: 1200, maxPrice: 1200 },
      { currency: 'JPY', count: 1, averagePrice: 500, minPrice: 500, maxPrice: 500 },
    ],
  },
  byCategory: [
    {
      category: 'home',
      count: 5,
      byCurrency: [
        // 4501 / 3 = 1500.33
        { currency: 'EUR', count: 3, averagePrice: 1500 },
        { currency: 'GBP', count: 1, averagePrice: 1200 },
        { currency: 'USD', count: 1, averagePrice: 999 },
      ],
    },
    {
      category: 'electronics',
      count: 3,
      byCurrency: [
        { currency: 'EUR', count: 2, averagePrice: 5500 },
        { currency: 'USD', count: 1, averagePrice: 5000 },
      ],
    },
    {
      category: 'books',
      count: 1,
      byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 3000 }],
    },
    { category: 'toys', count: 1, byCurrency: [{ currency: 'JPY', count: 1, averagePrice: 500 }] },
  ],
  monthly: months({
    11: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 4000 }] },
    3: { count: 1, byCurrency: [{ currency: 'EUR', count: 1, averagePrice: 3000 }] },
    2: { count: 1, byCurrency: [{ currency: 'GBP', count: 1, averagePrice: 1200 }] },
    1: {
      count: 3,
      byCurrency: [
        // (2001 + 1500) / 2 = 1750.5
        { currency: 'EUR', count: 2, averagePrice: 1751 },
        { currency: 'USD', count: 1, averagePrice: 5000 },
      ],
    },
    0: { count: 2, byCurrency: [{ currency: 'EUR', count: 2, averagePrice: 4000 }] },
  }),
};

let requests = 0;
/** A GET with a request id of its own; answers the figures and their read's cache outcome. */
async function read(
  path: string,
  credentials: { token: string } | { apiKey: string },
): Promise<{ figures: Analytics; cache: unknown }> {
  requests += 1;
  const requestId = `e2e-products-analytics-${requests}`;
  const response = await call(worker, 'GET', path, {
    ...credentials,
    headers: { 'x-request-id': requestId },
  });
  const figures = await dataOf<Analytics>(response, 200);
  // An API key's request reads its key's record first: the figures' read is the last outcome.
  const { cache } = await worker.logs.requestLine(requestId);
  return { figures, cache: [cache].flat().at(-1) };
}

/**
 * Reads until the answer comes from the cache: the entry is filled after the response
 * (waitUntil), so the very next read may still miss. Each answer must be the same figures.
 */
async function readUntilCached(
  path: string,
  credentials: { token: string } | { apiKey: string },
  figures: Analytics,
): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const answer = await read(path, credentials);
    expect(answer.figures).toEqual(figures);
    if (answer.cache === 'hit') return;
    expect(answer.cache).toBe('miss');
  }
  throw new Error(`${path} was never answered from the cache`);
}

describe('a user’s own products', () => {
  it('counts exactly the listed ones, per currency, category and month', async () => {
    const first = await read('/v1/products/analytics', { token: alice.session.accessToken });
    expect(first).toEqual({ figures: aliceFigures, cache: 'miss' });
    expect(first.figures.monthly.at(-1)?.month).toBe(now.toISOString().slice(0, 7));
  });

  it('serves an identical read from the cache', async () => {
    await readUntilCached(
      '/v1/products/analytics',
      { token: alice.session.accessToken },
      aliceFigures,
    );
  });

  it('answers a user without products with zeros in 12 months', async () => {
    const { accessToken } = admin;
    const figures = await dataOf<Analytics>(
      await call(worker, 'GET', '/v1/products/analytics', { token: accessToken }),
      200,
    );
    expect(figures).toEqual({
      summary: { count: 0, byCurrency: [] },
      byCategory: [],
      monthly: months({}),
    });
  });
});

describe('API keys', () => {
  const createKey = async (scopes: string[]) => {
    const created = await call(worker, 'POST', '/v1/api-keys', {
      token: alice.session.accessToken,
      body: { name: `analytics ${scopes.join(' ')}`, scopes },
    });
    return (await dataOf<{ key: string }>(created, 201)).key;
  };

  beforeAll(async () => {
    // Keys are for verified addresses; the link's round trip is not under test here.
    await worker.db.execute({
      sql: 'UPDATE users SET email_verified_at = ? WHERE id = ?',
      args: [Date.now(), alice.id],
    });
  });

  it('refuses a key without products:read with 403 SCOPE_MISSING', async () => {
    const key = await createKey(['profile:read']);
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/products/analytics', { apiKey: key }),
      403,
      'SCOPE_MISSING',
    );
  });

  it('answers a key with products:read its owner’s figures, then from the cache', async () => {
    const key = await createKey(['products:read']);
    const first = await read('/v1/products/analytics', { apiKey: key });
    expect(first.figures).toEqual(aliceFigures);
    await readUntilCached('/v1/products/analytics', { apiKey: key }, aliceFigures);
  });
});

describe('the administrators’ analytics', () => {
  it('counts every user’s listed products', async () => {
    const first = await read('/v1/admin/products/analytics', { token: admin.accessToken });
    expect(first).toEqual({ figures: everyonesFigures, cache: 'miss' });
    await readUntilCached(
      '/v1/admin/products/analytics',
      { token: admin.accessToken },
      everyonesFigures,
    );
  });

  it('counts one user’s with userId', async () => {
    const { figures } = await read(`/v1/admin/products/analytics?userId=${bob.id}`, {
      token: admin.accessToken,
    });
    expect(figures).toEqual(bobFigures);
    const ofAlice = await read(`/v1/admin/products/analytics?userId=${alice.id}`, {
      token: admin.accessToken,
    });
    expect(ofAlice.figures).toEqual(aliceFigures);
  });

  it('answers zeros for an unknown user, and 422 for an id that is no UUID', async () => {
    const { figures } = await read(`/v1/admin/products/analytics?userId=${crypto.randomUUID()}`, {
      token: admin.accessToken,
    });
    expect(figures).toEqual({
      summary: { count: 0, byCurrency: [] },
      byCategory: [],
      monthly: months({}),
    });
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/admin/products/analytics?userId=bob', {
        token: admin.accessToken,
      }),
      422,
      'VALIDATION_FAILED',
    );
  });

  it('refuses a user with 403 FORBIDDEN, and anyone without credentials with 401', async () => {
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/admin/products/analytics', {
        token: alice.session.accessToken,
      }),
      403,
      'FORBIDDEN',
    );
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/admin/products/analytics'),
      401,
      'UNAUTHORIZED',
    );
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/products/analytics'),
      401,
      'UNAUTHORIZED',
    );
  });
});

describe('after a write', () => {
  it('shows a product created through the API in the very next read', async () => {
    const own = { token: alice.session.accessToken };
    await readUntilCached('/v1/products/analytics', own, aliceFigures);
    await readUntilCached(
      '/v1/admin/products/analytics',
      { token: admin.accessToken },
      everyonesFigures,
    );

    await dataOf(
      await call(worker, 'POST', '/v1/products', {
        token: alice.session.accessToken,
        body: {
          name: 'Fresh kettle',
          category: 'kitchen',
          price: { amount: 2500, currency: 'CHF' },
        },
      }),
      201,
    );

    const fresh = { count: 1, byCurrency: [{ currency: 'CHF', count: 1, averagePrice: 2500 }] };
    const after = await read('/v1/products/analytics', own);
    expect(after.cache).toBe('miss');
    expect(after.figures.summary).toEqual({
      count: 8,
      byCurrency: [
        ...aliceFigures.summary.byCurrency.slice(0, 2),
        { currency: 'CHF', count: 1, averagePrice: 2500, minPrice: 2500, maxPrice: 2500 },
        ...aliceFigures.summary.byCurrency.slice(2),
      ],
    });
    expect(after.figures.byCategory).toEqual([
      ...aliceFigures.byCategory.slice(0, 3),
      { category: 'kitchen', ...fresh },
      ...aliceFigures.byCategory.slice(3),
    ]);
    expect(after.figures.monthly.at(-1)).toEqual({
      month: monthName(0),
      count: 2,
      byCurrency: [
        { currency: 'CHF', count: 1, averagePrice: 2500 },
        { currency: 'EUR', count: 1, averagePrice: 1000 },
      ],
    });

    const everyone = await read('/v1/admin/products/analytics', { token: admin.accessToken });
    expect(everyone.cache).toBe('miss');
    expect(everyone.figures.summary.count).toBe(11);
  });
});
