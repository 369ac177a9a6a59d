// Both ways to page the catalogue, on the real Worker over some 120 products: cursor pages that
// follow (createdAt, id) with no duplicate and no gap, even while products are added between two
// pages, and refuse a cursor that was altered or belongs to another query; offset pages with their
// totals, sorted by any allowed column with ties broken by id. Every answer is checked against the
// order the database itself gives. The Worker reaches its database through a counting proxy, so
// the last tests also count the SQL statements each kind of page costs: a page of products by as
// many owners as products must not cost a query per owner.
import { createClient } from '@libsql/client';
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CountingLibsqlProxy,
  countingLibsqlProxy,
  queriesOf,
} from '../support/counting-libsql-proxy.ts';
import {
  type CursorPagination,
  duplicatesOf,
  keysetOrder,
  type OffsetPagination,
  type ProductPage,
  type ProductView,
  productBody,
  queryOf,
  readPage,
  walkCursor,
} from '../support/product-fixtures.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  login,
  newClientIp,
  promoteToAdmin,
  register,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let database: CountingLibsqlProxy;
let seller: { id: string; token: string; ip: string };
let adminToken: string;
const readerIp = newClientIp();

const categories = ['books', 'toys', 'garden'] as const;

/** Product number `n`'s fields: prices and names repeat, so sorts meet ties; every 4th is sold out. */
function catalogueItem(n: number) {
  return productBody({
    name: `Lamp ${String(n % 30).padStart(2, '0')}`,
    category: categories[n % categories.length],
    price: { amount: 100 * ((n % 9) + 1), currency: 'EUR' },
    stock: n % 4 === 0 ? 0 : n,
  });
}

let made = 0;

/** Sooner than one by one, and no load test on a shared machine: six requests at a time. */
async function fewAtATime<T, R>(items: readonly T[], each: (item: T, index: number) => Promise<R>) {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += 6) {
    const group = items.slice(start, start + 6);
    results.push(...(await Promise.all(group.map((item, index) => each(item, start + index)))));
  }
  return results;
}

/** Adds products the way clients do: a bulk request (one creation time for all), then one at a time. */
async function addProducts(count: number, bulk: number): Promise<ProductView[]> {
  const items = Array.from({ length: count }, () => catalogueItem(made++));
  const created = await dataOf<ProductView[]>(
    await call(worker, 'POST', '/v1/products/bulk', {
      token: seller.token,
      ip: seller.ip,
      body: { items: items.slice(0, bulk) },
    }),
    201,
  );
  const single = await fewAtATime(items.slice(bulk), async (item) =>
    dataOf<ProductView>(
      await call(worker, 'POST', '/v1/products', {
        token: seller.token,
        ip: seller.ip,
        body: item,
      }),
      201,
    ),
  );
  return [...created, ...single];
}

beforeAll(async () => {
  database = await countingLibsqlProxy();
  worker = await startIdentityWorker({ TURSO_DATABASE_URL: database.url });
  database.setTarget(worker.stackEnv.TURSO_DATABASE_URL);
  const account = await register(worker, 'seller');
  seller = { id: account.id, token: account.session.accessToken, ip: account.ip };
  const adminAccount = await register(worker, 'pager-admin');
  await promoteToAdmin(worker, adminAccount.id);
  adminToken = (await login(worker, adminAccount)).accessToken;
  await addProducts(120, 60);
});

afterAll(async () => {
  await worker?.close();
  await database?.close();
});

const get = (path: string): Promise<Response> => call(worker, 'GET', path, { ip: readerIp });

/** Product ids in the database's own order, listed products only, with optional SQL conditions. */
async function databaseOrder(orderBy: string, where = 'TRUE', args: (string | number)[] = []) {
  const { rows } = await worker.db.execute({
    sql: `SELECT id FROM products WHERE deleted_at IS NULL AND (${where}) ORDER BY ${orderBy}`,
    args,
  });
  return rows.map((row) => String(row.id));
}

const newestFirst = 'created_at DESC, id DESC';
const ids = (products: readonly { id: string }[]) => products.map((product) => product.id);

function expectKeysetOrder(products: readonly ProductView[], order: 'asc' | 'desc') {
  const compare = keysetOrder(order);
  for (let index = 1; index < products.length; index += 1) {
    const [previous, current] = [products[index - 1], products[index]];
    if (previous === undefined || current === undefined) continue;
    expect(compare(previous, current), `${previous.id} before ${current.id}`).toBeLessThan(0);
  }
}

describe('cursor pages', () => {
  it('walks all 120 products, newest first, with no duplicate and no gap', async () => {
    const expected = await databaseOrder(newestFirst);
    expect(expected).toHaveLength(120);
    const walk = await walkCursor(get, { limit: 25 });
    expect(walk.pages.map((page) => page.length)).toEqual([25, 25, 25, 25, 20]);
    expect(duplicatesOf(ids(walk.products))).toEqual([]);
    expect(ids(walk.products)).toEqual(expected);
    expectKeysetOrder(walk.products, 'desc');
    expect(walk.last).toEqual({ limit: 25, hasNext: false, nextCursor: null });
  });

  it('ends on a full last page without an empty one after it, and in one page when all fit', async () => {
    const expected = await databaseOrder(newestFirst);
    const exact = await walkCursor(get, { limit: 24 });
    expect(exact.pages.map((page) => page.length)).toEqual([24, 24, 24, 24, 24]);
    expect(ids(exact.products)).toEqual(expected);

    const whole = await walkCursor(get, { limit: 100, category: 'books' });
    expect(whole.pages).toHaveLength(1);
    expect(whole.last).toEqual({ limit: 100, hasNext: false, nextCursor: null });
  });

  it('stays stable while products are added between pages', async () => {
    const original = await databaseOrder(newestFirst);
    let added: ProductView[] = [];
    const walk = await walkCursor(get, { limit: 25 }, async (page) => {
      if (page === 2) added = await addProducts(10, 5);
    });
    expect(added).toHaveLength(10);
    expect(duplicatesOf(ids(walk.products))).toEqual([]);
    // The pages after the second carry on where it ended: exactly the rows that were there.
    expect(ids(walk.products)).toEqual(original);
    for (const product of added) expect(ids(walk.products)).not.toContain(product.id);
    // A walk started afresh sees them first.
    const fresh = await walkCursor(get, { limit: 25 });
    expect(ids(fresh.products)).toEqual(await databaseOrder(newestFirst));
    expect(ids(fresh.products.slice(0, 10)).sort()).toEqual(ids(added).sort());
  });

  it('walks oldest first too, and meets products added meanwhile once, at its end', async () => {
    const original = await databaseOrder('created_at ASC, id ASC');
    let added: ProductView[] = [];
    const walk = await walkCursor(get, { limit: 25, sortOrder: 'asc' }, async (page) => {
      if (page === 2) added = await addProducts(6, 3);
    });
    expect(duplicatesOf(ids(walk.products))).toEqual([]);
    expectKeysetOrder(walk.products, 'asc');
    expect(ids(walk.products)).toEqual(await databaseOrder('created_at ASC, id ASC'));
    expect(ids(walk.products).slice(0, original.length)).toEqual(original);
    expect(ids(walk.products.slice(original.length)).sort()).toEqual(ids(added).sort());
  });

  it('keeps its filters from page to page', async () => {
    const filters: [Record<string, string | number | boolean>, string, (string | number)[]][] = [
      [{ category: 'books' }, "category = 'books'", []],
      [{ minPrice: 300, maxPrice: 600 }, 'price_amount BETWEEN 300 AND 600', []],
      [{ inStock: true }, 'stock > 0', []],
      [{ inStock: false, currency: 'EUR' }, "stock = 0 AND price_currency = 'EUR'", []],
      [
        { ownerId: seller.id, currency: 'EUR' },
        "owner_id = ? AND price_currency = 'EUR'",
        [seller.id],
      ],
    ];
    for (const [filter, where, args] of filters) {
      for (const sortOrder of ['desc', 'asc'] as const) {
        const expected = await databaseOrder(
          sortOrder === 'desc' ? newestFirst : 'created_at ASC, id ASC',
          where,
          args,
        );
        expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(10);
        const walk = await walkCursor(get, { ...filter, sortOrder, limit: 10 });
        expect(ids(walk.products), JSON.stringify(filter)).toEqual(expected);
      }
    }
  });

  it('binds a cursor to its query, not to its page size', async () => {
    const expected = await databaseOrder(newestFirst);
    const first = await readPage<CursorPagination>(get, '/v1/products?limit=10');
    const rest = await walkCursor(get, { limit: 40, cursor: first.pagination.nextCursor ?? '' });
    expect([...ids(first.data), ...ids(rest.products)]).toEqual(expected);
  });

  it('refuses a cursor with one character changed: 400 INVALID_CURSOR', async () => {
    const page = await readPage<CursorPagination>(get, '/v1/products?limit=5');
    const cursor = page.pagination.nextCursor ?? '';
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const dot = cursor.indexOf('.');
    const positions = [0, Math.floor(dot / 2), dot - 1, dot + 1, cursor.length - 1];
    for (const position of positions) {
      const original = cursor[position] ?? '';
      const replacement = original === 'A' ? 'B' : 'A';
      const tampered = `${cursor.slice(0, position)}${replacement}${cursor.slice(position + 1)}`;
      const body = await expectErrorEnvelope(
        await get(`/v1/products?${queryOf({ limit: 5, cursor: tampered })}`),
        400,
        'INVALID_CURSOR',
      );
      expect(body.error.details).toEqual({ field: 'cursor' });
    }
    for (const junk of ['x', 'a.b', `${cursor}.x`, '.', cursor.replace('.', '')]) {
      await expectErrorEnvelope(
        await get(`/v1/products?${queryOf({ limit: 5, cursor: junk })}`),
        400,
        'INVALID_CURSOR',
      );
    }
    // The real one still works.
    await readPage(get, `/v1/products?${queryOf({ limit: 5, cursor })}`);
  });

  it('refuses a cursor from another query: 400 INVALID_CURSOR', async () => {
    const cursorOf = async (query: Record<string, string | number | boolean>) => {
      const page = await readPage<CursorPagination>(
        get,
        `/v1/products?${queryOf({ ...query, limit: 3 })}`,
      );
      expect(page.pagination.nextCursor).toEqual(expect.any(String));
      return page.pagination.nextCursor ?? '';
    };
    const books = await cursorOf({ category: 'books' });
    const ascending = await cursorOf({ sortOrder: 'asc' });
    const unfiltered = await cursorOf({});
    const misuses: Record<string, string | number | boolean>[] = [
      { category: 'toys', cursor: books },
      { cursor: books },
      { category: 'books', sortOrder: 'asc', cursor: books },
      { cursor: ascending },
      { sortOrder: 'desc', cursor: ascending },
      { category: 'books', cursor: unfiltered },
      { inStock: true, cursor: unfiltered },
      { minPrice: 0, cursor: unfiltered },
      { ownerId: seller.id, cursor: unfiltered },
    ];
    for (const query of misuses) {
      await expectErrorEnvelope(
        await get(`/v1/products?${queryOf({ ...query, limit: 3 })}`),
        400,
        'INVALID_CURSOR',
      );
    }
    const withDeleted = await call(
      worker,
      'GET',
      `/v1/products?${queryOf({ includeDeleted: true, cursor: unfiltered, limit: 3 })}`,
      { token: adminToken, ip: readerIp },
    );
    await expectErrorEnvelope(withDeleted, 400, 'INVALID_CURSOR');
  });
});

describe('offset pages', () => {
  async function allOffsetPages(query: Record<string, string | number>) {
    const pages: ProductPage<OffsetPagination>[] = [];
    for (let page = 1; ; page += 1) {
      const answer = await readPage<OffsetPagination>(
        get,
        `/v1/products?${queryOf({ ...query, page })}`,
      );
      pages.push(answer);
      if (!answer.pagination.hasNext) return pages;
      expect(page).toBeLessThan(50);
    }
  }

  it('pages by number with total, totalPages, hasNext and hasPrev', async () => {
    const expected = await databaseOrder(newestFirst);
    const total = expected.length;
    const pages = await allOffsetPages({ limit: 25 });
    const totalPages = Math.ceil(total / 25);
    expect(pages).toHaveLength(totalPages);
    pages.forEach(({ pagination, data }, index) => {
      expect(pagination).toEqual({
        page: index + 1,
        limit: 25,
        total,
        totalPages,
        hasNext: index + 1 < totalPages,
        hasPrev: index > 0,
      });
      expect(data.length).toBe(index + 1 < totalPages ? 25 : total - 25 * index);
    });
    expect(ids(pages.flatMap((page) => page.data))).toEqual(expected);

    const past = await readPage<OffsetPagination>(
      get,
      `/v1/products?page=${totalPages + 1}&limit=25`,
    );
    expect(past.data).toEqual([]);
    expect(past.pagination).toMatchObject({ total, hasNext: false, hasPrev: true });
    const last = await readPage<OffsetPagination>(get, '/v1/products?page=1000&limit=100');
    expect(last.data).toEqual([]);
    expect(last.pagination).toMatchObject({ page: 1000, total });
  });

  it.each([
    ['price', 'asc', 'price_amount ASC, id ASC'],
    ['price', 'desc', 'price_amount DESC, id DESC'],
    ['name', 'asc', 'name ASC, id ASC'],
    ['name', 'desc', 'name DESC, id DESC'],
    ['stock', 'asc', 'stock ASC, id ASC'],
    ['updatedAt', 'desc', 'updated_at DESC, id DESC'],
  ])('sorts by %s %s, ties broken by id', async (sortBy, sortOrder, orderBy) => {
    const expected = await databaseOrder(orderBy);
    const pages = await allOffsetPages({ sortBy, sortOrder, limit: 40 });
    const products = pages.flatMap((page) => page.data);
    expect(ids(products)).toEqual(expected);
    // What the client sees agrees: each product is after the one before it, or level with it and
    // a greater id (a smaller one, descending).
    const key = (product: ProductView): string | number =>
      sortBy === 'price'
        ? product.price.amount
        : sortBy === 'name'
          ? product.name
          : sortBy === 'stock'
            ? product.stock
            : Date.parse(product.updatedAt);
    const sign = sortOrder === 'asc' ? 1 : -1;
    let ties = 0;
    for (let index = 1; index < products.length; index += 1) {
      const [a, b] = [products[index - 1], products[index]];
      if (a === undefined || b === undefined) continue;
      if (key(a) === key(b)) {
        ties += 1;
        expect(sign * (a.id < b.id ? -1 : 1)).toBe(-1);
      } else {
        expect(sign * (key(a) < key(b) ? -1 : 1)).toBe(-1);
      }
    }
    if (sortBy !== 'updatedAt') expect(ties).toBeGreaterThan(0);
  });

  it('sorting by anything but createdAt pages by offset, from page 1', async () => {
    const page = await readPage<OffsetPagination>(get, '/v1/products?sortBy=price&limit=10');
    expect(page.pagination).toMatchObject({ page: 1, limit: 10, hasPrev: false, hasNext: true });
    expect(page.pagination.total).toBe((await databaseOrder(newestFirst)).length);
  });

  it('refuses a page past 1,000 with 422', async () => {
    for (const query of ['page=1001', 'page=1001&sortBy=price', 'page=99999999999']) {
      const body = await expectErrorEnvelope(
        await get(`/v1/products?${query}`),
        422,
        'VALIDATION_FAILED',
      );
      expect(body.error.details).toMatchObject({
        fields: expect.arrayContaining([expect.objectContaining({ path: 'page' })]),
      });
    }
  });
});

describe('search pages', () => {
  it('pages through every match once, with the total', async () => {
    const expected = await databaseOrder(newestFirst);
    const seen: string[] = [];
    for (let page = 1; ; page += 1) {
      const answer = await readPage<OffsetPagination>(
        get,
        `/v1/products/search?${queryOf({ q: 'walnut lam', limit: 25, page })}`,
      );
      expect(answer.pagination).toMatchObject({ page, total: expected.length });
      seen.push(...ids(answer.data));
      if (!answer.pagination.hasNext) break;
    }
    expect(duplicatesOf(seen)).toEqual([]);
    expect([...seen].sort()).toEqual([...expected].sort());
  });
});

describe('database statements per request', () => {
  let owners: { token: string; ip: string }[] = [];
  let bust = 0;
  /** A price bound above every product's: the same rows, a query the cache has not seen. */
  const uncached = () => 100_000_000 - ++bust;

  beforeAll(async () => {
    owners = await fewAtATime(Array.from({ length: 25 }), async (_, index) => {
      const account = await register(worker, `owner-${index}`);
      return { token: account.session.accessToken, ip: account.ip };
    });
    await fewAtATime(owners, async (owner) =>
      dataOf(
        await call(worker, 'POST', '/v1/products', {
          token: owner.token,
          ip: owner.ip,
          body: productBody({ category: 'music' }),
        }),
        201,
      ),
    );
    // Publishing the staged jobs writes to the database after the response: that must be over
    // before a request's statements are counted.
    await eventually('the outbox is drained', async () => {
      const { rows } = await worker.db.execute('SELECT count(*) AS n FROM outbox');
      return Number(rows[0]?.n) === 0 ? true : undefined;
    });
  });

  /** The answer to GET `path`, the SQL statements it cost and its cache outcome. */
  async function counted(path: string, token?: string) {
    const before = database.pipelines.length;
    const response = await call(worker, 'GET', path, {
      ip: readerIp,
      ...(token !== undefined && { token }),
    });
    const body = await readPage<CursorPagination | OffsetPagination>(async () => response, path);
    const line = await worker.logs.requestLine(response.headers.get('x-request-id') ?? '');
    const pipelines = database.pipelines.slice(before);
    return { body, queries: queriesOf(pipelines), roundTrips: pipelines.length, cache: line.cache };
  }

  const figures: Record<string, { statements: number; roundTrips: number }> = {};
  afterAll(() => {
    console.info('database statements per request', JSON.stringify(figures));
  });

  function expectAtMostTwo(kind: string, measured: Awaited<ReturnType<typeof counted>>) {
    figures[kind] = { statements: measured.queries.length, roundTrips: measured.roundTrips };
    expect(measured.queries.length, measured.queries.join('\n')).toBeGreaterThan(0);
    expect(measured.queries.length, measured.queries.join('\n')).toBeLessThanOrEqual(2);
  }

  const byOwner = (data: readonly ProductView[]) => new Set(data.map((item) => item.owner.id));

  it('a cursor page of 25 products by 25 owners costs one statement', async () => {
    const maxPrice = uncached();
    const first = await counted(`/v1/products?${queryOf({ limit: 25, maxPrice })}`);
    expect(first.cache).toBe('miss');
    expect(byOwner(first.body.data).size).toBe(25);
    expectAtMostTwo('list, first cursor page', first);
    expect(first.queries).toHaveLength(1);

    const cursor = (first.body.pagination as CursorPagination).nextCursor ?? '';
    const next = await counted(`/v1/products?${queryOf({ limit: 25, maxPrice, cursor })}`);
    expect(next.cache).toBe('miss');
    expect(next.body.data).toHaveLength(25);
    expectAtMostTwo('list, next cursor page', next);
  });

  it('an offset page with its total costs two statements, in one round trip', async () => {
    const page = await counted(
      `/v1/products?${queryOf({ page: 1, limit: 25, maxPrice: uncached() })}`,
    );
    expect(page.cache).toBe('miss');
    expect(byOwner(page.body.data).size).toBe(25);
    expect((page.body.pagination as OffsetPagination).total).toBeGreaterThan(25);
    expectAtMostTwo('list, offset page with total', page);
    expect(page.roundTrips).toBe(1);

    const sorted = await counted(
      `/v1/products?${queryOf({ sortBy: 'price', limit: 25, maxPrice: uncached() })}`,
    );
    expectAtMostTwo('list, offset page sorted by price', sorted);
  });

  it('a search with text and its total costs two statements', async () => {
    const search = await counted(
      `/v1/products/search?${queryOf({ q: 'walnut lamp', limit: 25, maxPrice: uncached() })}`,
    );
    expect(search.cache).toBe('miss');
    expect(search.body.data).toHaveLength(25);
    expect(byOwner(search.body.data).size).toBeGreaterThan(1);
    expectAtMostTwo('search with text', search);

    const filtered = await counted(
      `/v1/products/search?${queryOf({ category: 'music', limit: 25, maxPrice: uncached() })}`,
    );
    expect(byOwner(filtered.body.data).size).toBe(25);
    expectAtMostTwo('search without text', filtered);
  });

  it("an administrator's page with deleted products, never cached, costs the same", async () => {
    const cursorPage = await counted(
      `/v1/products?${queryOf({ limit: 25, includeDeleted: true })}`,
      adminToken,
    );
    expect(byOwner(cursorPage.body.data).size).toBe(25);
    expectAtMostTwo('list with deleted, cursor page (admin)', cursorPage);
    const offsetPage = await counted(
      `/v1/products?${queryOf({ page: 1, limit: 25, includeDeleted: true })}`,
      adminToken,
    );
    expectAtMostTwo('list with deleted, offset page (admin)', offsetPage);
  });

  it('counts every statement of a batch and every execute: a query per owner would show', async () => {
    const client = createClient({
      url: database.url,
      authToken: worker.stackEnv.TURSO_AUTH_TOKEN,
    });
    try {
      const before = database.pipelines.length;
      const ownerIds = owners.map((_, index) => `owner-${index}`);
      await client.batch(
        ownerIds.map((id) => ({ sql: 'SELECT id, name FROM users WHERE id = ?', args: [id] })),
        'read',
      );
      for (const id of ownerIds) {
        await client.execute({ sql: 'SELECT id, name FROM users WHERE id = ?', args: [id] });
      }
      expect(queriesOf(database.pipelines.slice(before))).toHaveLength(50);
    } finally {
      client.close();
    }
  });

  it('a product read by id costs one statement, and none once cached', async () => {
    const [product] = (await readPage(get, '/v1/products?limit=1')).data;
    const path = `/v1/products/${product?.id}`;
    const measure = async () => {
      const before = database.pipelines.length;
      const response = await get(path);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const line = await worker.logs.requestLine(response.headers.get('x-request-id') ?? '');
      const pipelines = database.pipelines.slice(before);
      return { queries: queriesOf(pipelines), roundTrips: pipelines.length, cache: line.cache };
    };
    const first = await measure();
    expect(first.cache).toBe('miss');
    figures['product by id'] = { statements: first.queries.length, roundTrips: first.roundTrips };
    expect(first.queries).toHaveLength(1);
    let again = await measure();
    for (let attempt = 0; again.cache !== 'hit' && attempt < 20; attempt += 1)
      again = await measure();
    expect(again).toMatchObject({ cache: 'hit', queries: [] });
  });

  it('a cached page costs none', async () => {
    const path = `/v1/products?${queryOf({ limit: 25, maxPrice: uncached() })}`;
    expect((await counted(path)).cache).toBe('miss');
    let again = await counted(path);
    // The fill lands after the response (waitUntil): a read or two may come before it.
    for (let attempt = 0; again.cache !== 'hit' && attempt < 20; attempt += 1) {
      again = await counted(path);
    }
    expect(again.cache).toBe('hit');
    figures['list, cached'] = { statements: again.queries.length, roundTrips: again.roundTrips };
    expect(again.queries).toEqual([]);
  });
});
