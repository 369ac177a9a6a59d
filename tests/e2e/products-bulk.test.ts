// Creating up to 100 products in one request, on the real Worker: all of them, in the order sent,
// or none. An invalid item refuses the whole request with its index; a database that fails
// part-way leaves nothing behind either, not even the staged jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OffsetPagination,
  type ProductView,
  productBody,
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
let seller: { id: string; name: string; token: string; ip: string };
let adminToken: string;
const readerIp = newClientIp();

beforeAll(async () => {
  worker = await startIdentityWorker();
  const account = await register(worker, 'bulk');
  seller = {
    id: account.id,
    name: account.name,
    token: account.session.accessToken,
    ip: account.ip,
  };
  const adminAccount = await register(worker, 'bulk-admin');
  await promoteToAdmin(worker, adminAccount.id);
  adminToken = (await login(worker, adminAccount)).accessToken;
});

afterAll(async () => {
  await worker?.close();
});

const bulk = (body: unknown) =>
  call(worker, 'POST', '/v1/products/bulk', { token: seller.token, ip: seller.ip, body });

const items = (count: number, label: string) =>
  Array.from({ length: count }, (_, index) =>
    productBody({ name: `${label} ${String(index).padStart(3, '0')}` }),
  );

/** How many products exist, as clients see it (the listed ones; all, to an admin) and as stored. */
async function counts() {
  const total = async (query: string, token?: string) => {
    const response = await call(worker, 'GET', `/v1/products?${query}`, {
      ip: readerIp,
      ...(token !== undefined && { token }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    return (JSON.parse(text) as { pagination: OffsetPagination }).pagination.total;
  };
  const { rows } = await worker.db.execute('SELECT count(*) AS products FROM products');
  return {
    listed: await total('page=1&limit=1'),
    all: await total('page=1&limit=1&includeDeleted=true', adminToken),
    stored: Number(rows[0]?.products),
  };
}

/** The 422's field issues. */
async function refusedFields(response: Awaited<ReturnType<typeof bulk>>) {
  const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  const details = body.error.details as { target: string; fields: { path: string }[] };
  expect(details.target).toBe('json');
  return details.fields.map((field) => field.path);
}

describe('bulk creation', () => {
  it('creates 100 valid products in the order sent, each announced by its jobs', async () => {
    const before = await counts();
    const sent = items(100, 'Bulk lamp');
    const created = await dataOf<ProductView[]>(await bulk({ items: sent }), 201);

    expect(created).toHaveLength(100);
    expect(created.map((product) => product.name)).toEqual(sent.map((item) => item.name));
    expect(new Set(created.map((product) => product.id)).size).toBe(100);
    for (const product of created) {
      expect(product).toMatchObject({
        owner: { id: seller.id, name: seller.name },
        price: { amount: 4999, currency: 'EUR' },
        deletedAt: null,
      });
    }
    expect(await counts()).toMatchObject({
      listed: before.listed + 100,
      all: before.all + 100,
      stored: before.stored + 100,
    });
    const read = await dataOf<ProductView>(
      await call(worker, 'GET', `/v1/products/${created[57]?.id}`, { ip: readerIp }),
      200,
    );
    expect(read).toEqual(created[57]);

    // Each product's cache warm-up reached the queue: staged with the rows, published after.
    const warmed = () =>
      new Set(
        worker.jobs.jobs
          .filter((job) => job.path.endsWith('/product.cache-warm'))
          .map((job) => (job.body as { payload: { productId: string } }).payload.productId),
      );
    await eventually('a cache warm-up per product', () =>
      created.every((product) => warmed().has(product.id)) ? true : undefined,
    );
  });

  it('refuses 101 items, or none, with 422 and creates nothing', async () => {
    const before = await counts();
    expect(await refusedFields(await bulk({ items: items(101, 'Too many') }))).toEqual(['items']);
    expect(await refusedFields(await bulk({ items: [] }))).toEqual(['items']);
    expect(await refusedFields(await bulk({}))).toContain('items');
    expect(await refusedFields(await bulk({ items: productBody() }))).toContain('items');
    expect(await refusedFields(await bulk([productBody()]))).toEqual(['']);
    expect(await counts()).toEqual(before);
  });

  it('refuses 100 items with item 57 invalid, naming it, and creates none of the 99 others', async () => {
    const before = await counts();
    const sent = items(100, 'Nearly');
    sent[57] = { ...sent[57], price: { amount: -1, currency: 'EUR' } };
    const fields = await refusedFields(await bulk({ items: sent }));
    expect(fields).toEqual(['items.57.price.amount']);
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['the first item', [0], (item: Record<string, unknown>) => ({ ...item, name: '' }), 'name'],
    [
      'the last item',
      [99],
      (item: Record<string, unknown>) => ({ ...item, category: 'weapons' }),
      'category',
    ],
    [
      'two items far apart',
      [3, 80],
      (item: Record<string, unknown>) => ({ ...item, stock: 1.5 }),
      'stock',
    ],
    [
      'an item that sets its owner',
      [42],
      (item: Record<string, unknown>) => ({ ...item, ownerId: crypto.randomUUID() }),
      'ownerId',
    ],
    [
      'an item with a float price',
      [10],
      (item: Record<string, unknown>) => ({ ...item, price: { amount: 19.99, currency: 'USD' } }),
      'price.amount',
    ],
  ])(
    'never creates part of a request whose invalid item is %s',
    async (_what, indexes, spoil, path) => {
      const before = await counts();
      const sent: Record<string, unknown>[] = items(100, 'Mixed');
      for (const index of indexes) sent[index] = spoil(sent[index] ?? {});
      const fields = await refusedFields(await bulk({ items: sent }));
      expect(fields).toEqual(indexes.map((index) => `items.${index}.${path}`));
      expect(await counts()).toEqual(before);
    },
  );

  it('leaves nothing behind when the database fails part-way, not even the staged jobs', async () => {
    await eventually('the outbox is drained', async () => {
      const { rows } = await worker.db.execute('SELECT count(*) AS n FROM outbox');
      return Number(rows[0]?.n) === 0 ? true : undefined;
    });
    const before = await counts();
    // The database refuses item 57 as it refuses a row that breaks a constraint.
    await worker.db.execute(`CREATE TRIGGER e2e_refuse_item AFTER INSERT ON products
      WHEN new.name = 'Refused by the database'
      BEGIN SELECT RAISE(ABORT, 'refused by an e2e trigger'); END`);
    try {
      const sent = items(100, 'Doomed');
      sent[57] = { ...sent[57], name: 'Refused by the database' };
      const response = await bulk({ items: sent });
      const raw = await response.clone().text();
      await expectErrorEnvelope(response, 500, 'INTERNAL_ERROR');
      expect(raw).not.toMatch(/trigger|insert|products|sqlite/i);
      expect(await counts()).toEqual(before);
      const { rows } = await worker.db.execute('SELECT count(*) AS n FROM outbox');
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await worker.db.execute('DROP TRIGGER e2e_refuse_item');
    }
    const created = await dataOf<ProductView[]>(await bulk({ items: items(100, 'Retried') }), 201);
    expect(created).toHaveLength(100);
  });
});
