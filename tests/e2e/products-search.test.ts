// Product search on the real Worker, over products created through the API: ranking by bm25 (the
// name weighing most, ties newest first), type-ahead, escaped snippets, filters with and without
// text, hostile text answered like any other, the owner's public profile, deleted products and
// deleted owners kept out even where a page was cached, offset pagination, and the index and cache
// following a rename at once. Every test searches for words of its own: the database is shared.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxSearchTextLength } from '../../src/modules/products/products.schemas.ts';
import { hostileSearchTexts } from '../support/hostile-search-texts.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
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

interface ProductView {
  id: string;
  name: string;
  description: string;
  category: string;
  price: { amount: number; currency: string };
  stock: number;
  tags: string[];
  owner: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

interface SearchHit extends ProductView {
  snippet: string | null;
}

interface SearchPage {
  data: SearchHit[];
  pagination: {
    page: number;
    limit: number;
    total: number;
    totalPages: number;
    hasNext: boolean;
    hasPrev: boolean;
  };
}

interface NewProduct {
  name: string;
  description?: string;
  category?: string;
  price?: { amount: number; currency: string };
  stock?: number;
  tags?: string[];
}

type Seller = Account & { session: Session };
type SearchParams = Record<string, string | number | boolean>;

let worker: IdentityWorker;
let seller: Seller;
let otherSeller: Seller;
let admin: Session;

beforeAll(async () => {
  worker = await startIdentityWorker();
  seller = await register(worker, 'seller');
  otherSeller = await register(worker, 'other-seller');
  const operator = await register(worker, 'operator');
  await promoteToAdmin(worker, operator.id);
  admin = await login(worker, operator);
});

afterAll(async () => {
  await worker?.close();
});

function product(fields: NewProduct) {
  return {
    description: '',
    category: 'home',
    price: { amount: 1999, currency: 'EUR' },
    stock: 1,
    tags: [],
    ...fields,
  };
}

async function createProducts(owner: Seller, items: NewProduct[]): Promise<ProductView[]> {
  const response = await call(worker, 'POST', '/v1/products/bulk', {
    token: owner.session.accessToken,
    body: { items: items.map(product) },
  });
  return dataOf<ProductView[]>(response, 201);
}

async function createProduct(owner: Seller, item: NewProduct): Promise<ProductView> {
  const response = await call(worker, 'POST', '/v1/products', {
    token: owner.session.accessToken,
    body: product(item),
  });
  return dataOf<ProductView>(response, 201);
}

/** Every value percent-encoded: a space is `%20`, and a `+` is `%2B`, never read as a space. */
function searchPath(params: SearchParams): string {
  const query = Object.entries(params)
    .map(([name, value]) => `${name}=${encodeURIComponent(String(value))}`)
    .join('&');
  return `/v1/products/search?${query}`;
}

/** A 200 search page in the success envelope, with its request id for the log line. */
async function searchResponse(params: SearchParams): Promise<SearchPage & { requestId: string }> {
  const response: Response = await call(worker, 'GET', searchPath(params));
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const requestId = response.headers.get('x-request-id') ?? '';
  const body = JSON.parse(text) as SearchPage;
  expect(body).toEqual({
    success: true,
    data: expect.any(Array),
    pagination: {
      page: expect.any(Number),
      limit: expect.any(Number),
      total: expect.any(Number),
      totalPages: expect.any(Number),
      hasNext: expect.any(Boolean),
      hasPrev: expect.any(Boolean),
    },
    meta: expect.objectContaining({ requestId }),
  });
  return { data: body.data, pagination: body.pagination, requestId };
}

async function search(params: SearchParams): Promise<SearchPage> {
  const { data, pagination } = await searchResponse(params);
  return { data, pagination };
}

async function idsFound(params: SearchParams): Promise<string[]> {
  return (await search({ limit: 100, ...params })).data.map((hit) => hit.id);
}

/**
 * Searches until the answer comes from the cache (it is filled after the response), so a change
 * that follows meets a cached page that must be forgotten.
 */
async function searchUntilCached(params: SearchParams) {
  return eventually(`a cached answer to ${JSON.stringify(params)}`, async () => {
    const page = await searchResponse(params);
    const line = await worker.logs.requestLine(page.requestId);
    return line.cache === 'hit' ? page : undefined;
  });
}

const idsOf = (products: { id: string }[]) => products.map((found) => found.id);
const sorted = (ids: string[]) => [...ids].sort();

/** Newest first, the id breaking ties: the order of a search without text. */
const newestFirst = (products: ProductView[]) =>
  idsOf(
    [...products].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
    ),
  );

describe('ranking', () => {
  it('ranks a match in the name above one in the tags, and that above one in the description', async () => {
    const [inDescription, inTags, inName] = idsOf(
      await createProducts(seller, [
        { name: 'Quiet lamp', description: 'A zephyrine lamp for a desk.', tags: ['lamp'] },
        {
          name: 'Quiet lamp',
          description: 'A quiet lamp for a desk.',
          tags: ['lamp', 'zephyrine'],
        },
        { name: 'Zephyrine lamp', description: 'A quiet lamp for a desk.', tags: ['lamp'] },
      ]),
    );

    expect(await idsFound({ q: 'zephyrine' })).toEqual([inName, inTags, inDescription]);
  });

  it('puts the newer of two equally relevant products first', async () => {
    const older = await createProduct(seller, { name: 'Marzipan tray', description: 'Tin.' });
    const newer = await createProduct(seller, { name: 'Marzipan tray', description: 'Tin.' });
    expect(newer.createdAt > older.createdAt).toBe(true);

    expect(await idsFound({ q: 'marzipan' })).toEqual([newer.id, older.id]);
  });
});

describe('type-ahead', () => {
  let walnut: ProductView;
  let typeW: ProductView;

  beforeAll(async () => {
    [walnut, typeW] = (await createProducts(seller, [
      { name: 'Walnut stool', description: 'Oiled, three legs.' },
      { name: 'Type W plug adapter', description: 'For travel.' },
    ])) as [ProductView, ProductView];
  });

  it('finds a word from its first letters', async () => {
    expect(await idsFound({ q: 'walnu' })).toContain(walnut.id);
    expect(await idsFound({ q: 'wal' })).toContain(walnut.id);
    expect(await idsFound({ q: 'WALNU' })).toContain(walnut.id);
  });

  it('reads one or two characters as a whole word, not as a prefix', async () => {
    const found = await idsFound({ q: 'w' });
    expect(found).toContain(typeW.id);
    expect(found).not.toContain(walnut.id);
    expect(await idsFound({ q: 'wa' })).not.toContain(walnut.id);
  });

  it('completes only the last word', async () => {
    expect(await idsFound({ q: 'walnut sto' })).toContain(walnut.id);
    expect(await idsFound({ q: 'walnu stool' })).not.toContain(walnut.id);
  });

  it('finds the word whatever punctuation or operators surround it', async () => {
    for (const q of [
      '"walnut',
      'walnut*',
      '*walnut',
      '-walnut',
      'walnut:',
      '^walnut',
      '((walnut',
    ]) {
      expect(await idsFound({ q }), q).toContain(walnut.id);
    }
  });
});

describe('snippets', () => {
  it('marks the matched word in every hit, wherever it was found', async () => {
    const created = await createProducts(seller, [
      { name: 'Brass nightingale', description: 'A music box.' },
      { name: 'Music box', description: 'It plays a nightingale song when wound.' },
      { name: 'Music box', description: 'Wind it up.', tags: ['nightingale'] },
    ]);

    const { data } = await search({ q: 'nightingale' });
    expect(sorted(idsOf(data))).toEqual(sorted(idsOf(created)));
    for (const hit of data) {
      expect(hit.snippet, hit.name).toMatch(/<mark>nightingale<\/mark>/i);
    }
  });

  it('marks the whole word a prefix matched', async () => {
    const [lantern] = await createProducts(seller, [{ name: 'Paraffin lantern' }]);
    const { data } = await search({ q: 'paraf' });
    expect(data.map((hit) => [hit.id, hit.snippet])).toEqual([
      [lantern?.id, '<mark>Paraffin</mark> lantern'],
    ]);
  });

  it('escapes the product text as HTML around the marks', async () => {
    const [bold] = await createProducts(seller, [
      { name: 'Bold <b>quasar</b> lamp', description: '<script>alert(1)</script>' },
    ]);
    const { data } = await search({ q: 'quasar' });
    expect(data.map((hit) => hit.id)).toEqual([bold?.id]);
    const snippet = data[0]?.snippet ?? '';
    expect(snippet).toContain('Bold &lt;b&gt;<mark>quasar</mark>&lt;/b&gt; lamp');
    expect(snippet.replaceAll(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
  });
});

describe('filters', () => {
  // A seller of their own, so a search by owner without text answers exactly these.
  let filterSeller: Seller;
  let home1000InStock: ProductView;
  let home2500SoldOut: ProductView;
  let kitchen4000Usd: ProductView;
  let garden500UsdSoldOut: ProductView;
  let othersHome1500: ProductView;
  let theirs: ProductView[];

  beforeAll(async () => {
    filterSeller = await register(worker, 'filter-seller');
    // One request each: distinct creation times, so "newest first" has an order to show.
    home1000InStock = await createProduct(filterSeller, {
      name: 'Glimmer candle',
      category: 'home',
      price: { amount: 1000, currency: 'EUR' },
      stock: 5,
    });
    home2500SoldOut = await createProduct(filterSeller, {
      name: 'Glimmer vase',
      category: 'home',
      price: { amount: 2500, currency: 'EUR' },
      stock: 0,
    });
    kitchen4000Usd = await createProduct(filterSeller, {
      name: 'Glimmer teapot',
      category: 'kitchen',
      price: { amount: 4000, currency: 'USD' },
      stock: 3,
    });
    garden500UsdSoldOut = await createProduct(filterSeller, {
      name: 'Glimmer gnome',
      category: 'garden',
      price: { amount: 500, currency: 'USD' },
      stock: 0,
    });
    othersHome1500 = await createProduct(otherSeller, {
      name: 'Glimmer rug',
      category: 'home',
      price: { amount: 1500, currency: 'EUR' },
      stock: 2,
    });
    theirs = [home1000InStock, home2500SoldOut, kitchen4000Usd, garden500UsdSoldOut];
  });

  const sellersOwn = { ownerId: 'the filter seller' };
  const withOwner = (filter: SearchParams) =>
    filter.ownerId === sellersOwn.ownerId ? { ...filter, ownerId: filterSeller.id } : filter;

  it.each([
    ['category', { category: 'home' }, () => [home1000InStock, home2500SoldOut, othersHome1500]],
    [
      'a price range, both bounds included',
      { minPrice: 1000, maxPrice: 2500 },
      () => [home1000InStock, home2500SoldOut, othersHome1500],
    ],
    [
      'a minimum price',
      { minPrice: 1001 },
      () => [home2500SoldOut, kitchen4000Usd, othersHome1500],
    ],
    ['a maximum price', { maxPrice: 999 }, () => [garden500UsdSoldOut]],
    ['in stock', { inStock: true }, () => [home1000InStock, kitchen4000Usd, othersHome1500]],
    ['sold out', { inStock: false }, () => [home2500SoldOut, garden500UsdSoldOut]],
    ['currency', { currency: 'USD' }, () => [kitchen4000Usd, garden500UsdSoldOut]],
    ['owner', sellersOwn, () => theirs],
    [
      'all of them together',
      { category: 'home', inStock: true, currency: 'EUR', minPrice: 900, ...sellersOwn },
      () => [home1000InStock],
    ],
  ])('narrows a text search by %s', async (_label, filter, expected) => {
    const page = await search({ q: 'glimmer', limit: 100, ...withOwner(filter) });
    expect(sorted(idsOf(page.data))).toEqual(sorted(idsOf(expected())));
    expect(page.pagination.total).toBe(expected().length);
    for (const hit of page.data) expect(hit.snippet).toMatch(/<mark>Glimmer<\/mark>/);
  });

  it.each([
    ['the owner alone', sellersOwn, () => theirs],
    ['category', { ...sellersOwn, category: 'home' }, () => [home1000InStock, home2500SoldOut]],
    [
      'a price range',
      { ...sellersOwn, minPrice: 1000, maxPrice: 2500 },
      () => [home1000InStock, home2500SoldOut],
    ],
    ['stock', { ...sellersOwn, inStock: true }, () => [home1000InStock, kitchen4000Usd]],
    ['currency', { ...sellersOwn, currency: 'USD' }, () => [kitchen4000Usd, garden500UsdSoldOut]],
  ])(
    'selects by %s without text, newest first and without snippets',
    async (_label, filter, expected) => {
      const page = await search({ limit: 100, ...withOwner(filter) });
      expect(idsOf(page.data)).toEqual(newestFirst(expected()));
      expect(page.pagination.total).toBe(expected().length);
      for (const hit of page.data) expect(hit.snippet).toBeNull();
    },
  );

  it('orders a text-less search of the whole catalogue newest first', async () => {
    const { data } = await search({ category: 'home', limit: 100 });
    expect(idsOf(data)).toEqual(newestFirst(data));
    expect(idsOf(data)).toEqual(expect.arrayContaining(idsOf([othersHome1500, home1000InStock])));
  });
});

describe('hostile text', () => {
  it.each(hostileSearchTexts.map(({ label, text }) => [label, text] as const))(
    'answers %s with a page in the envelope',
    async (_label, text) => {
      const page = await search({ q: text });
      expect(page.pagination).toMatchObject({ page: 1, limit: 20 });
    },
  );

  it(`refuses text over ${maxSearchTextLength} characters with 422`, async () => {
    const response = await call(
      worker,
      'GET',
      searchPath({ q: 'x'.repeat(maxSearchTextLength + 1) }),
    );
    const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
    expect(JSON.stringify(body.error.details)).toContain('q');
  });
});

describe('owners', () => {
  it("shows each hit's owner as the public profile: id, name and createdAt, never the email", async () => {
    await createProducts(seller, [{ name: 'Heliotrope soap' }]);
    await createProducts(otherSeller, [{ name: 'Heliotrope candle' }]);

    const response = await call(worker, 'GET', searchPath({ q: 'heliotrope' }));
    const raw = await response.clone().text();
    const data = await dataOf<SearchHit[]>(response, 200);
    expect(data).toHaveLength(2);
    for (const hit of data) {
      const owner = hit.owner.id === seller.id ? seller : otherSeller;
      expect(hit.owner).toEqual({
        id: owner.id,
        name: owner.name,
        avatar: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      });
    }
    expect(raw).not.toContain(seller.email);
    expect(raw).not.toContain(otherSeller.email);
    expect(raw).not.toContain('email');
  });
});

describe('deleted products and owners', () => {
  it('never shows a soft-deleted product, with or without text', async () => {
    const [kept, deleted] = await createProducts(seller, [
      { name: 'Obelisk bookend' },
      { name: 'Obelisk bookend' },
    ]);
    if (kept === undefined || deleted === undefined) throw new Error('two products expected');
    await searchUntilCached({ q: 'obelisk' });

    await dataOf(
      await call(worker, 'DELETE', `/v1/products/${deleted.id}`, {
        token: seller.session.accessToken,
      }),
      200,
    );

    const page = await search({ q: 'obelisk' });
    expect(idsOf(page.data)).toEqual([kept.id]);
    expect(page.pagination.total).toBe(1);
    const unfiltered = await idsFound({ ownerId: seller.id });
    expect(unfiltered).toContain(kept.id);
    expect(unfiltered).not.toContain(deleted.id);
  });

  it("never shows a deleted owner's products, even where the page was cached", async () => {
    const leaving = await register(worker, 'leaving-seller');
    const [leavingsFennec] = await createProducts(leaving, [{ name: 'Fennec plush' }]);
    const [othersFennec] = await createProducts(otherSeller, [{ name: 'Fennec mug' }]);
    if (leavingsFennec === undefined || othersFennec === undefined) {
      throw new Error('the products were not created');
    }
    const before = await searchUntilCached({ q: 'fennec' });
    expect(sorted(idsOf(before.data))).toEqual(sorted([leavingsFennec.id, othersFennec.id]));
    await searchUntilCached({ ownerId: leaving.id });

    await dataOf(
      await call(worker, 'DELETE', `/v1/admin/users/${leaving.id}`, { token: admin.accessToken }),
      200,
    );

    // A query no one asked before reads the database: the owner's products are gone there.
    expect(await idsFound({ q: 'fennec', limit: 19 })).toEqual([othersFennec.id]);
    expect((await search({ ownerId: leaving.id, limit: 19 })).pagination.total).toBe(0);
    // The pages cached before the deletion must be forgotten with it.
    const page = await search({ q: 'fennec' });
    expect(idsOf(page.data)).toEqual([othersFennec.id]);
    expect(page.pagination.total).toBe(1);
    expect((await search({ ownerId: leaving.id })).pagination.total).toBe(0);
  });
});

describe('pagination', () => {
  it('pages 45 hits by 20: totals, pages, and every hit once', async () => {
    const created = await createProducts(
      seller,
      Array.from({ length: 45 }, (_, index) => ({ name: `Pagoda lantern ${index + 1}` })),
    );
    const pages = [];
    for (const page of [1, 2, 3, 4]) pages.push(await search({ q: 'pagoda', limit: 20, page }));

    expect(pages.map((page) => page.pagination)).toEqual([
      { page: 1, limit: 20, total: 45, totalPages: 3, hasNext: true, hasPrev: false },
      { page: 2, limit: 20, total: 45, totalPages: 3, hasNext: true, hasPrev: true },
      { page: 3, limit: 20, total: 45, totalPages: 3, hasNext: false, hasPrev: true },
      { page: 4, limit: 20, total: 45, totalPages: 3, hasNext: false, hasPrev: true },
    ]);
    expect(pages.map((page) => page.data.length)).toEqual([20, 20, 5, 0]);
    const seen = pages.flatMap((page) => idsOf(page.data));
    expect(new Set(seen).size).toBe(45);
    expect(sorted(seen)).toEqual(sorted(idsOf(created)));
  });
});

describe('a rename', () => {
  it('is found under the new name at once, and no longer under the old one', async () => {
    const [renamed] = await createProducts(seller, [
      { name: 'Obsidian samovar', description: 'Brass tap.' },
    ]);
    if (renamed === undefined) throw new Error('the product was not created');
    const before = await searchUntilCached({ q: 'obsidian' });
    expect(idsOf(before.data)).toEqual([renamed.id]);

    await dataOf(
      await call(worker, 'PATCH', `/v1/products/${renamed.id}`, {
        token: seller.session.accessToken,
        body: { name: 'Basalt samovar' },
      }),
      200,
    );

    const found = await search({ q: 'basalt' });
    expect(found.data.map((hit) => [hit.id, hit.name, hit.snippet])).toEqual([
      [renamed.id, 'Basalt samovar', '<mark>Basalt</mark> samovar'],
    ]);
    expect((await search({ q: 'obsidian' })).pagination.total).toBe(0);
    // The index holds the product once: its old entry went with the old name.
    expect((await search({ q: 'samovar' })).pagination.total).toBe(1);
  });
});
