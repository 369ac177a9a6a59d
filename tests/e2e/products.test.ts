// The catalogue on the real Worker: who may create, change, delete and restore a product, what a
// soft delete hides and from whom, which fields a client can never set, and how bad input is
// refused: always in the envelope, with a stable code, never a 500.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OffsetPagination,
  type ProductView,
  productBody,
  queryOf,
  readPage,
  uniqueWord,
} from '../support/product-fixtures.ts';
import { type ErrorBody, expectErrorEnvelope } from './harness/envelope.ts';
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

interface Actor {
  id: string;
  name: string;
  token: string;
  ip: string;
}

let owner: Actor;
let other: Actor;
let admin: Actor;
const anonymous = { ip: newClientIp() };

async function newActor(label: string): Promise<Actor> {
  const account = await register(worker, label);
  return {
    id: account.id,
    name: account.name,
    token: account.session.accessToken,
    ip: account.ip,
  };
}

beforeAll(async () => {
  worker = await startIdentityWorker();
  [owner, other] = await Promise.all([newActor('owner'), newActor('other')]);
  const adminAccount = await register(worker, 'admin');
  await promoteToAdmin(worker, adminAccount.id);
  admin = {
    id: adminAccount.id,
    name: adminAccount.name,
    token: (await login(worker, adminAccount)).accessToken,
    ip: adminAccount.ip,
  };
});

afterAll(async () => {
  await worker?.close();
});

type Caller = Actor | { ip: string; token?: undefined };

function send(caller: Caller, method: string, path: string, body?: unknown): Promise<Response> {
  return call(worker, method, path, {
    ip: caller.ip,
    ...(caller.token !== undefined && { token: caller.token }),
    ...(body !== undefined && { body }),
  });
}

const getAs = (caller: Caller) => (path: string) => send(caller, 'GET', path);

async function create(caller: Actor, overrides: Record<string, unknown> = {}) {
  return dataOf<ProductView>(
    await send(caller, 'POST', '/v1/products', productBody(overrides)),
    201,
  );
}

async function productCount(): Promise<number> {
  const { rows } = await worker.db.execute('SELECT count(*) AS n FROM products');
  return Number(rows[0]?.n);
}

const isoInstant = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

describe('ownership', () => {
  it('lets the owner create, read, change, delete and restore a product', async () => {
    const body = productBody({ name: 'Oak reading lamp', tags: ['oak', 'lighting'] });
    const response = await send(owner, 'POST', '/v1/products', body);
    const created = await dataOf<ProductView>(response, 201);
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Oak reading lamp',
      description: body.description,
      category: 'home',
      price: { amount: 4999, currency: 'EUR' },
      stock: 12,
      tags: ['oak', 'lighting'],
      owner: { id: owner.id, name: owner.name, avatar: null, createdAt: isoInstant },
      createdAt: isoInstant,
      updatedAt: created.createdAt,
      deletedAt: null,
    });
    expect(response.headers.get('location')).toBe(`/v1/products/${created.id}`);
    const path = `/v1/products/${created.id}`;
    expect(await dataOf(await send(owner, 'GET', path), 200)).toEqual(created);

    const changed = await dataOf<ProductView>(
      await send(owner, 'PATCH', path, { price: { amount: 3999, currency: 'EUR' }, stock: 40 }),
      200,
    );
    expect(changed).toMatchObject({ price: { amount: 3999, currency: 'EUR' }, stock: 40 });
    expect(Date.parse(changed.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(changed.createdAt).toBe(created.createdAt);
    expect(await dataOf(await send(owner, 'GET', path), 200)).toEqual(changed);

    const deleted = await dataOf<ProductView>(await send(owner, 'DELETE', path), 200);
    expect(deleted.deletedAt).toEqual(isoInstant);
    await expectErrorEnvelope(await send(owner, 'GET', path), 404, 'NOT_FOUND');

    const restored = await dataOf<ProductView>(await send(owner, 'POST', `${path}/restore`), 200);
    expect(restored).toMatchObject({ id: created.id, deletedAt: null, stock: 40 });
    expect(await dataOf(await send(owner, 'GET', path), 200)).toEqual(restored);
  });

  it("refuses someone else's changes with 403 while listed and 404 once deleted", async () => {
    const product = await create(owner);
    const path = `/v1/products/${product.id}`;

    const refusals = [
      await send(other, 'PATCH', path, { name: 'Taken over' }),
      await send(other, 'DELETE', path),
      await send(other, 'POST', `${path}/restore`),
    ];
    for (const refusal of refusals) await expectErrorEnvelope(refusal, 403, 'FORBIDDEN');
    expect(await dataOf(await send(anonymous, 'GET', path), 200)).toEqual(product);

    await dataOf(await send(owner, 'DELETE', path), 200);
    const hidden = [
      await send(other, 'PATCH', path, { name: 'Taken over' }),
      await send(other, 'DELETE', path),
      await send(other, 'POST', `${path}/restore`),
    ];
    for (const refusal of hidden) await expectErrorEnvelope(refusal, 404, 'NOT_FOUND');
    // Still deleted, and still the owner's to restore.
    await dataOf(await send(owner, 'POST', `${path}/restore`), 200);
  });

  it('answers 404, not 403, for a listed product of a deleted owner, as reading it does', async () => {
    const seller = await newActor('leaving');
    const product = await create(seller);
    const path = `/v1/products/${product.id}`;
    await dataOf(await send(admin, 'DELETE', `/v1/admin/users/${seller.id}`), 200);

    await expectErrorEnvelope(await send(anonymous, 'GET', path), 404, 'NOT_FOUND');
    for (const refusal of [
      await send(other, 'PATCH', path, { name: 'Taken over' }),
      await send(other, 'DELETE', path),
      await send(other, 'POST', `${path}/restore`),
    ]) {
      await expectErrorEnvelope(refusal, 404, 'NOT_FOUND');
    }
  });

  it("lets an administrator change, delete and restore anyone's product, which stays its owner's", async () => {
    const product = await create(owner);
    const path = `/v1/products/${product.id}`;
    const changed = await dataOf<ProductView>(
      await send(admin, 'PATCH', path, { name: 'Moderated name', category: 'office' }),
      200,
    );
    expect(changed).toMatchObject({ name: 'Moderated name', category: 'office' });
    expect(changed.owner.id).toBe(owner.id);
    expect((await dataOf<ProductView>(await send(admin, 'DELETE', path), 200)).deletedAt).toEqual(
      isoInstant,
    );
    const restored = await dataOf<ProductView>(await send(admin, 'POST', `${path}/restore`), 200);
    expect(restored).toMatchObject({ deletedAt: null, owner: { id: owner.id } });
  });

  it('answers anonymous reads and refuses anonymous writes with 401', async () => {
    const product = await create(owner);
    const path = `/v1/products/${product.id}`;
    expect(await dataOf(await send(anonymous, 'GET', path), 200)).toEqual(product);
    await readPage(getAs(anonymous), `/v1/products?${queryOf({ ownerId: owner.id })}`);
    await readPage(getAs(anonymous), '/v1/products/search?q=walnut');

    const writes = [
      await send(anonymous, 'POST', '/v1/products', productBody()),
      await send(anonymous, 'POST', '/v1/products/bulk', { items: [productBody()] }),
      await send(anonymous, 'PATCH', path, { name: 'Anonymous' }),
      await send(anonymous, 'DELETE', path),
      await send(anonymous, 'POST', `${path}/restore`),
    ];
    for (const write of writes) await expectErrorEnvelope(write, 401, 'UNAUTHORIZED');
    expect(await dataOf(await send(anonymous, 'GET', path), 200)).toEqual(product);
  });

  it('refuses an API key without products:write with 403 SCOPE_MISSING, and takes one with it', async () => {
    const keyOwner = await newActor('key-owner');
    // An operator's shortcut for following the verification link: keys need a verified email.
    await worker.db.execute({
      sql: 'UPDATE users SET email_verified_at = ? WHERE id = ?',
      args: [Date.now(), keyOwner.id],
    });
    const keyWith = async (scopes: string[]) =>
      (
        await dataOf<{ key: string }>(
          await send(keyOwner, 'POST', '/v1/api-keys', { name: scopes.join(' '), scopes }),
          201,
        )
      ).key;
    const readOnly = await keyWith(['products:read']);
    const writer = await keyWith(['products:write']);
    const own = await create(keyOwner);
    const path = `/v1/products/${own.id}`;
    const withKey = (apiKey: string, method: string, target: string, body?: unknown) =>
      call(worker, method, target, {
        apiKey,
        ip: keyOwner.ip,
        ...(body !== undefined && { body }),
      });

    const refused = [
      await withKey(readOnly, 'POST', '/v1/products', productBody()),
      await withKey(readOnly, 'POST', '/v1/products/bulk', { items: [productBody()] }),
      await withKey(readOnly, 'PATCH', path, { stock: 1 }),
      await withKey(readOnly, 'DELETE', path),
      await withKey(readOnly, 'POST', `${path}/restore`),
    ];
    for (const refusal of refused) {
      const body = await expectErrorEnvelope(refusal, 403, 'SCOPE_MISSING');
      expect(body.error.details).toMatchObject({ permission: 'products:write' });
    }
    expect(await dataOf(await withKey(readOnly, 'GET', path), 200)).toEqual(own);

    const made = await dataOf<ProductView>(
      await withKey(writer, 'POST', '/v1/products', productBody({ name: 'Made with a key' })),
      201,
    );
    expect(made.owner.id).toBe(keyOwner.id);
    expect(
      (await dataOf<ProductView>(await withKey(writer, 'PATCH', path, { stock: 1 }), 200)).stock,
    ).toBe(1);
  });
});

describe('soft delete', () => {
  it('hides a deleted product from the id, the list and the search', async () => {
    const word = uniqueWord('gone');
    const product = await create(owner, { name: `Lamp ${word}` });
    const path = `/v1/products/${product.id}`;
    const listed = `/v1/products?${queryOf({ ownerId: owner.id, limit: 100 })}`;
    const listedByOffset = `/v1/products?${queryOf({ ownerId: owner.id, page: 1, limit: 100 })}`;
    const searched = `/v1/products/search?${queryOf({ q: word })}`;
    const ids = async (target: string) =>
      (await readPage(getAs(anonymous), target)).data.map((item) => item.id);

    expect(await ids(listed)).toContain(product.id);
    expect(await ids(searched)).toEqual([product.id]);
    const totalBefore = (await readPage<OffsetPagination>(getAs(anonymous), listedByOffset))
      .pagination.total;

    await dataOf(await send(owner, 'DELETE', path), 200);
    await expectErrorEnvelope(await send(anonymous, 'GET', path), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await send(owner, 'GET', path), 404, 'NOT_FOUND');
    expect(await ids(listed)).not.toContain(product.id);
    expect(await ids(listedByOffset)).not.toContain(product.id);
    expect(await ids(searched)).toEqual([]);
    expect(
      (await readPage<OffsetPagination>(getAs(anonymous), listedByOffset)).pagination.total,
    ).toBe(totalBefore - 1);
    // Nor can its owner change it before restoring it.
    await expectErrorEnvelope(await send(owner, 'PATCH', path, { stock: 3 }), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await send(owner, 'DELETE', path), 404, 'NOT_FOUND');
  });

  it('shows deleted products only to products:admin, with deletedAt', async () => {
    const word = uniqueWord('adm');
    const product = await create(owner, { name: `Lamp ${word}` });
    const deleted = await dataOf<ProductView>(
      await send(owner, 'DELETE', `/v1/products/${product.id}`),
      200,
    );
    const targets = [
      `/v1/products/${product.id}?includeDeleted=true`,
      `/v1/products?${queryOf({ ownerId: owner.id, includeDeleted: true })}`,
      `/v1/products?${queryOf({ ownerId: owner.id, includeDeleted: true, page: 1 })}`,
    ];
    for (const target of targets) {
      const anonymousBody = await expectErrorEnvelope(
        await send(anonymous, 'GET', target),
        401,
        'UNAUTHORIZED',
      );
      expect(anonymousBody.error.message).not.toMatch(/sql|select/i);
      await expectErrorEnvelope(await send(owner, 'GET', target), 403, 'FORBIDDEN');
    }

    expect(await dataOf(await send(admin, 'GET', targets[0] ?? ''), 200)).toEqual(deleted);
    for (const target of targets.slice(1)) {
      const page = await readPage(getAs(admin), target);
      const found = page.data.find((item) => item.id === product.id);
      expect(found?.deletedAt).toBe(deleted.deletedAt);
    }
    // Without the flag, the administrator sees what everyone sees.
    await expectErrorEnvelope(
      await send(admin, 'GET', `/v1/products/${product.id}`),
      404,
      'NOT_FOUND',
    );
  });

  it('lists a restored product again; restoring a listed one, or deleting a deleted one, is 404', async () => {
    const word = uniqueWord('back');
    const product = await create(owner, { name: `Lamp ${word}` });
    const path = `/v1/products/${product.id}`;
    await expectErrorEnvelope(await send(owner, 'POST', `${path}/restore`), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await send(admin, 'POST', `${path}/restore`), 404, 'NOT_FOUND');

    await dataOf(await send(owner, 'DELETE', path), 200);
    await expectErrorEnvelope(await send(owner, 'DELETE', path), 404, 'NOT_FOUND');
    await dataOf(await send(owner, 'POST', `${path}/restore`), 200);

    expect((await dataOf<ProductView>(await send(anonymous, 'GET', path), 200)).deletedAt).toBe(
      null,
    );
    const searched = await readPage(getAs(anonymous), `/v1/products/search?q=${word}`);
    expect(searched.data.map((item) => item.id)).toEqual([product.id]);
    const listed = await readPage(getAs(anonymous), `/v1/products?ownerId=${owner.id}&limit=100`);
    expect(listed.data.map((item) => item.id)).toContain(product.id);
  });
});

/** A 422 whose details name `field` (under `within`, e.g. a bulk item) as refused. */
async function expectFieldRefused(response: Response, field: string, within = ''): Promise<void> {
  const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  const fields = (body.error.details as { fields: { path: string; message: string }[] }).fields;
  const path = within === '' ? field : `${within}.${field}`;
  expect(fields).toContainEqual(
    expect.objectContaining({ path, message: expect.stringContaining(`"${field}"`) }),
  );
}

describe('mass assignment', () => {
  const serverFields: [string, unknown][] = [
    ['id', '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f'],
    ['ownerId', '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f'],
    ['owner', { id: '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f', name: 'Someone' }],
    ['createdAt', '2001-01-01T00:00:00.000Z'],
    ['updatedAt', '2001-01-01T00:00:00.000Z'],
    ['deletedAt', null],
    ['seq', 1],
  ];

  it.each(serverFields)(
    'refuses %s in a new product, a change and a bulk item with 422',
    async (field, value) => {
      const before = await productCount();
      await expectFieldRefused(
        await send(owner, 'POST', '/v1/products', productBody({ [field]: value })),
        field,
      );
      await expectFieldRefused(
        await send(owner, 'POST', '/v1/products/bulk', {
          items: [productBody(), productBody(), productBody({ [field]: value })],
        }),
        field,
        'items.2',
      );
      expect(await productCount()).toBe(before);

      const product = await create(owner);
      await expectFieldRefused(
        await send(owner, 'PATCH', `/v1/products/${product.id}`, {
          name: 'A valid change beside it',
          [field]: value,
        }),
        field,
      );
      expect(await dataOf(await send(owner, 'GET', `/v1/products/${product.id}`), 200)).toEqual(
        product,
      );
    },
  );

  it('refuses an empty change with 422', async () => {
    const product = await create(owner);
    await expectErrorEnvelope(
      await send(owner, 'PATCH', `/v1/products/${product.id}`, {}),
      422,
      'VALIDATION_FAILED',
    );
  });
});

describe('bad input', () => {
  const base = productBody();
  const bodyCases: [string, Record<string, unknown>, string][] = [
    ['a negative price', { price: { amount: -1, currency: 'EUR' } }, 'price.amount'],
    ['a price over the cap', { price: { amount: 100_000_001, currency: 'EUR' } }, 'price.amount'],
    ['a float price', { price: { amount: 19.99, currency: 'EUR' } }, 'price.amount'],
    ['a price as text', { price: { amount: '1999', currency: 'EUR' } }, 'price.amount'],
    ['an unknown currency', { price: { amount: 1999, currency: 'XYZ' } }, 'price.currency'],
    ['a lower-case currency', { price: { amount: 1999, currency: 'eur' } }, 'price.currency'],
    ['a price without currency', { price: { amount: 1999 } }, 'price.currency'],
    ['an unknown category', { category: 'weapons' }, 'category'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name with control characters', { name: 'Lamp\u0002' }, 'name'],
    ['a negative stock', { stock: -1 }, 'stock'],
    ['a fractional stock', { stock: 1.5 }, 'stock'],
    ['duplicate tags', { tags: ['oak', 'Oak'] }, 'tags'],
    ['a tag with spaces', { tags: ['two words'] }, 'tags.0'],
  ];

  it.each(bodyCases)(
    'refuses %s with 422 naming the field, on create and change',
    async (_what, change, path) => {
      const before = await productCount();
      const created = await send(owner, 'POST', '/v1/products', { ...base, ...change });
      const body = await expectErrorEnvelope(created, 422, 'VALIDATION_FAILED');
      expect(body.error.details).toMatchObject({
        target: 'json',
        fields: expect.arrayContaining([expect.objectContaining({ path })]),
      });
      expect(await productCount()).toBe(before);

      const product = await create(owner);
      const changed = await send(owner, 'PATCH', `/v1/products/${product.id}`, change);
      const changeBody = await expectErrorEnvelope(changed, 422, 'VALIDATION_FAILED');
      expect(changeBody.error.details).toMatchObject({
        fields: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    },
  );

  it('refuses a missing required field and a body that is not JSON', async () => {
    for (const field of ['name', 'category', 'price']) {
      const response = await send(
        owner,
        'POST',
        '/v1/products',
        productBody({ [field]: undefined }),
      );
      const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(body.error.details).toMatchObject({
        fields: expect.arrayContaining([expect.objectContaining({ path: field })]),
      });
    }
    const malformed = await worker.fetch('/v1/products', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${owner.token}`,
        'content-type': 'application/json',
        'cf-connecting-ip': owner.ip,
      },
      body: '{"name": "Lamp",',
    });
    await expectErrorEnvelope(malformed, 400, 'BAD_REQUEST');
    const notJson = await worker.fetch('/v1/products', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${owner.token}`,
        'content-type': 'text/plain',
        'cf-connecting-ip': owner.ip,
      },
      body: JSON.stringify(productBody()),
    });
    await expectErrorEnvelope(notJson, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  const queryCases: [string, string, string][] = [
    ['an unknown sortBy', 'sortBy=color', 'sortBy'],
    ['an unknown sortOrder', 'sortOrder=sideways', 'sortOrder'],
    ['a huge limit', 'limit=1000000000', 'limit'],
    ['limit 0', 'limit=0', 'limit'],
    ['a limit that is no number', 'limit=ten', 'limit'],
    ['page 0', 'page=0', 'page'],
    ['a page past 1,000', 'page=1001', 'page'],
    ['a fractional page', 'page=1.5', 'page'],
    ['an unknown category', 'category=weapons', 'category'],
    ['an unknown currency', 'currency=XYZ', 'currency'],
    ['a negative minPrice', 'minPrice=-1', 'minPrice'],
    ['a maxPrice over the cap', 'maxPrice=100000001', 'maxPrice'],
    ['minPrice above maxPrice', 'minPrice=500&maxPrice=100', 'minPrice'],
    ['an ownerId that is no UUID', 'ownerId=42', 'ownerId'],
    ['inStock=1', 'inStock=1', 'inStock'],
    ['includeDeleted=yes', 'includeDeleted=yes', 'includeDeleted'],
    ['cursor and page together', 'cursor=abc.def&page=2', 'cursor'],
    ['a cursor with another sort', 'cursor=abc.def&sortBy=price', 'cursor'],
    ['an empty cursor', 'cursor=', 'cursor'],
    ['an overlong cursor', `cursor=${'a'.repeat(600)}`, 'cursor'],
  ];

  it.each(queryCases)(
    'refuses a list query with %s: 422 naming the parameter',
    async (_what, query, path) => {
      const body = await expectErrorEnvelope(
        await send(anonymous, 'GET', `/v1/products?${query}`),
        422,
        'VALIDATION_FAILED',
      );
      expect(body.error.details).toMatchObject({
        target: 'query',
        fields: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    },
  );

  it('refuses bad search parameters with 422', async () => {
    const cases: [string, string][] = [
      [`q=${'a'.repeat(10_241)}`, 'q'],
      ['q=lamp&page=0', 'page'],
      ['q=lamp&page=1001', 'page'],
      ['q=lamp&limit=101', 'limit'],
      ['q=lamp&category=weapons', 'category'],
      ['q=lamp&minPrice=9&maxPrice=1', 'minPrice'],
    ];
    for (const [query, path] of cases) {
      const body = await expectErrorEnvelope(
        await send(anonymous, 'GET', `/v1/products/search?${query}`),
        422,
        'VALIDATION_FAILED',
      );
      expect(body.error.details).toMatchObject({
        fields: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    }
  });

  it('reads any search text as plain words, never as query syntax', async () => {
    const word = uniqueWord('plain');
    const product = await create(owner, { name: `Lamp ${word}` });
    const texts = [
      '"',
      '*',
      '-',
      '(',
      'NEAR(',
      'a OR',
      'name:lamp',
      '^lamp',
      `${word} AND`,
      `"${word}`,
      `${word}*`,
      'ü 🎉 \u0000',
      "'; DROP TABLE products; --",
    ];
    for (const q of texts) {
      const page = await readPage(getAs(anonymous), `/v1/products/search?${queryOf({ q })}`);
      expect(Array.isArray(page.data)).toBe(true);
    }
    const found = await readPage(
      getAs(anonymous),
      `/v1/products/search?${queryOf({ q: `"${word}` })}`,
    );
    expect(found.data.map((item) => item.id)).toEqual([product.id]);
    expect(await productCount()).toBeGreaterThan(0);
  });

  it('refuses an id that is no UUID with 422 on every product route', async () => {
    const requests: [Caller, string, string, unknown][] = [
      [anonymous, 'GET', '/v1/products/not-a-uuid', undefined],
      [owner, 'PATCH', '/v1/products/not-a-uuid', { stock: 1 }],
      [owner, 'DELETE', '/v1/products/not-a-uuid', undefined],
      [owner, 'POST', '/v1/products/not-a-uuid/restore', undefined],
      [anonymous, 'GET', `/v1/products/${'1'.repeat(36)}`, undefined],
    ];
    for (const [caller, method, path, body] of requests) {
      const refused: ErrorBody = await expectErrorEnvelope(
        await send(caller, method, path, body),
        422,
        'VALIDATION_FAILED',
      );
      expect(refused.error.details).toMatchObject({
        target: 'param',
        fields: [expect.objectContaining({ path: 'id' })],
      });
    }
    await expectErrorEnvelope(
      await send(anonymous, 'GET', `/v1/products/${crypto.randomUUID()}`),
      404,
      'NOT_FOUND',
    );
  });

  it('answers malformed percent-encoding and odd bodies with a 4xx, never a 500', async () => {
    const paths = [
      '/v1/products?category=%ZZ',
      '/v1/products?cursor=%',
      '/v1/products?limit=%ED%A0%80',
      '/v1/products/search?q=%ED%A0%80',
      '/v1/products/search?q=%',
      '/v1/products/%ZZ',
      '/v1/products?limit=5&limit=6',
      '/v1/products?minPrice=1e400',
    ];
    for (const path of paths) {
      const response = await send(anonymous, 'GET', path);
      const text = await response.text();
      expect(response.status, `${path}: ${text}`).toBeLessThan(500);
      expect(JSON.parse(text)).toHaveProperty('success');
    }
    const product = await create(owner);
    for (const body of [null, [], 'text', 42, { price: null }, { tags: 'oak' }]) {
      const response = await send(owner, 'PATCH', `/v1/products/${product.id}`, body);
      await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
    }
  });

  it('never answered a 500 in this file', async () => {
    const failures = worker.logs.lines.filter(
      (line) => line.msg === 'request' && Number(line.status) >= 500,
    );
    expect(failures).toEqual([]);
  });
});
