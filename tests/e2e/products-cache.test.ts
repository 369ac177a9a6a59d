// The catalogue's cache as clients see it on the real Worker: a repeated read is answered from
// Redis (the request's log line says `cache: "hit"`), and a change to a product is seen at once by
// the next read of the product, of a list and of a search, however warm their entries were: the
// write forgets them before it answers.
import { Redis } from '@upstash/redis';
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ProductView,
  productBody,
  queryOf,
  readPage,
  uniqueWord,
} from '../support/product-fixtures.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let owner: { id: string; token: string; ip: string; password: string };
const readerIp = newClientIp();

beforeAll(async () => {
  worker = await startIdentityWorker();
  const account = await register(worker, 'fresh');
  owner = {
    id: account.id,
    token: account.session.accessToken,
    ip: account.ip,
    password: account.password,
  };
});

afterAll(async () => {
  await worker?.close();
});

const asOwner = (method: string, path: string, body?: unknown) =>
  call(worker, method, path, {
    token: owner.token,
    ip: owner.ip,
    ...(body !== undefined && { body }),
  });

let readCount = 0;

/** An anonymous GET with a request id of its own: its body and its log line's cache outcome. */
async function read(path: string): Promise<{ response: Response; text: string; cache: unknown }> {
  readCount += 1;
  const requestId = `e2e-products-cache-${readCount}`;
  const response = await call(worker, 'GET', path, {
    ip: readerIp,
    headers: { 'x-request-id': requestId },
  });
  const text = await response.clone().text();
  const { cache } = await worker.logs.requestLine(requestId);
  return { response, text, cache };
}

async function readData<T>(path: string): Promise<{ data: T; cache: unknown }> {
  const { response, text, cache } = await read(path);
  expect(response.status, text).toBe(200);
  return { data: (JSON.parse(text) as { data: T }).data, cache };
}

/** Reads `path` until its answer comes from the cache (the fill lands after the response). */
async function untilHit<T>(path: string): Promise<T> {
  for (let attempt = 0; attempt < 30; attempt += 1) {
    const { data, cache } = await readData<T>(path);
    if (cache === 'hit') return data;
    expect(cache).toBe('miss');
  }
  throw new Error(`${path} never came from the cache`);
}

const byId = (id: string) => `/v1/products/${id}`;
const ownersList = () => `/v1/products?${queryOf({ ownerId: owner.id, limit: 100 })}`;
const ownersPage = () => `/v1/products?${queryOf({ ownerId: owner.id, page: 1, limit: 100 })}`;
const search = (q: string) => `/v1/products/search?${queryOf({ q })}`;

function withoutSnippet({ snippet: _snippet, ...product }: ProductView & { snippet?: unknown }) {
  return product;
}

describe('freshness', () => {
  it('shows each of 30 changes at once to the next read by id, list and search', async () => {
    let current = await dataOf<ProductView>(
      await asOwner('POST', '/v1/products', productBody({ name: `Lamp ${uniqueWord('fresh')}` })),
      201,
    );
    const [firstWord] = current.name.split(' ').slice(-1);
    let previousWord = firstWord ?? '';

    for (let round = 0; round < 30; round += 1) {
      // Every entry this round checks is in the cache before the change.
      expect(await untilHit<ProductView>(byId(current.id))).toEqual(current);
      await untilHit(ownersList());
      await untilHit(search(previousWord));

      const word = uniqueWord('fresh');
      const changes = {
        name: `Lamp ${word}`,
        price: { amount: 1_000 + round, currency: round % 2 === 0 ? 'USD' : 'EUR' },
        stock: round,
      };
      const changed = await dataOf<ProductView>(
        await asOwner('PATCH', byId(current.id), changes),
        200,
      );
      expect(changed).toMatchObject(changes);

      const one = await readData<ProductView>(byId(current.id));
      expect(one.cache, `round ${round}`).toBe('miss');
      expect(one.data, `round ${round}`).toEqual(changed);

      const list = await readData<ProductView[]>(ownersList());
      expect(list.cache).toBe('miss');
      expect(list.data.find((item) => item.id === current.id)).toEqual(changed);
      const page = await readData<ProductView[]>(ownersPage());
      expect(page.data.find((item) => item.id === current.id)).toEqual(changed);

      const found = await readData<(ProductView & { snippet: string })[]>(search(word));
      expect(found.data.map(withoutSnippet)).toEqual([changed]);
      expect(found.data[0]?.snippet).toContain(`<mark>${word}</mark>`);
      const gone = await readData<ProductView[]>(search(previousWord));
      expect(gone.cache).toBe('miss');
      expect(gone.data, `round ${round}: the old name still finds it`).toEqual([]);

      // And again, whatever the cache answers now.
      expect((await readData<ProductView>(byId(current.id))).data).toEqual(changed);
      current = changed;
      previousWord = word;
    }
  });

  it('answers a repeated read from the cache, and the read after a write from the database', async () => {
    const product = await dataOf<ProductView>(
      await asOwner('POST', '/v1/products', productBody()),
      201,
    );
    const first = await readData<ProductView>(byId(product.id));
    expect(first).toEqual({ data: product, cache: 'miss' });
    expect(await untilHit<ProductView>(byId(product.id))).toEqual(product);
    // Hits stay hits while nothing changes.
    for (let again = 0; again < 3; again += 1) {
      expect(await readData<ProductView>(byId(product.id))).toEqual({
        data: product,
        cache: 'hit',
      });
    }

    const changed = await dataOf<ProductView>(
      await asOwner('PATCH', byId(product.id), { stock: 99 }),
      200,
    );
    expect(await readData<ProductView>(byId(product.id))).toEqual({ data: changed, cache: 'miss' });
    expect(await untilHit<ProductView>(byId(product.id))).toEqual(changed);

    // A delete and a restore are changes too.
    await dataOf(await asOwner('DELETE', byId(product.id)), 200);
    const hidden = await read(byId(product.id));
    expect(hidden.cache).toBe('miss');
    expect(hidden.response.status).toBe(404);
    const restored = await dataOf<ProductView>(
      await asOwner('POST', `${byId(product.id)}/restore`),
      200,
    );
    expect(await readData<ProductView>(byId(product.id))).toEqual({
      data: restored,
      cache: 'miss',
    });
  });

  it('forgets every list and search page on a write, a new product included', async () => {
    const word = uniqueWord('newcomer');
    const listed = await untilHit<ProductView[]>(ownersList());
    expect(await untilHit<ProductView[]>(search(word))).toEqual([]);

    const added = await dataOf<ProductView>(
      await asOwner('POST', '/v1/products', productBody({ name: `Lamp ${word}` })),
      201,
    );
    const list = await readData<ProductView[]>(ownersList());
    expect(list.cache).toBe('miss');
    expect(list.data.map((item) => item.id)).toEqual([added.id, ...listed.map((item) => item.id)]);
    const found = await readData<ProductView[]>(search(word));
    expect(found.data.map((item) => item.id)).toEqual([added.id]);
  });

  it('reads every unknown id as 404, cached or not', async () => {
    const unknown = byId(crypto.randomUUID());
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await expectErrorEnvelope((await read(unknown)).response, 404, 'NOT_FOUND');
    }
  });
});

// A product shows its owner's public profile, and a deleted account's products are hidden with it.
// Lists and searches forget their pages when an account changes; a product's own entry is not
// forgotten (that would mean finding each of the owner's products) and shows the change once it
// expires, within a minute (products.service.ts). The tests check that bound on the entry in Redis
// and stand for the minute passing by removing the entry.
describe("the owner's profile on their products", () => {
  let product: ProductView;
  let redis: Redis;
  const anyone = (path: string) => call(worker, 'GET', path, { ip: readerIp });
  const entryKey = () => `cache:{product:${product.id}}:e:${product.id}`;

  /** The product entry's time to live, then the entry gone as if that time had passed. */
  async function expireEntry(): Promise<number> {
    const ttl = await redis.ttl(entryKey());
    await redis.del(entryKey());
    return ttl;
  }

  beforeAll(async () => {
    redis = new Redis({
      url: worker.stackEnv.UPSTASH_REDIS_REST_URL,
      token: worker.stackEnv.UPSTASH_REDIS_REST_TOKEN,
    });
    product = await dataOf<ProductView>(await asOwner('POST', '/v1/products', productBody()), 201);
  });

  it("shows the owner's new name on lists and searches at once, on the product within a minute", async () => {
    await untilHit(byId(product.id));
    await untilHit(ownersList());
    await untilHit(search(product.name));

    const renamed = await dataOf<{ name: string }>(
      await asOwner('PATCH', '/v1/me', { name: 'Renamed Seller' }),
      200,
    );
    expect(renamed.name).toBe('Renamed Seller');
    const owners = async (path: string) =>
      new Set((await readData<ProductView[]>(path)).data.map((item) => item.owner.name));
    expect(await owners(ownersList())).toEqual(new Set(['Renamed Seller']));
    expect(await owners(search(product.name))).toEqual(new Set(['Renamed Seller']));

    const ttl = await expireEntry();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    const one = await readData<ProductView>(byId(product.id));
    expect(one).toMatchObject({ cache: 'miss', data: { owner: { name: 'Renamed Seller' } } });
  });

  it("hides a deleted account's products from lists and searches at once, from its id within a minute", async () => {
    await untilHit(byId(product.id));
    await untilHit(ownersList());
    await untilHit(search(product.name));

    const deleted = await asOwner('DELETE', '/v1/auth/account', { password: owner.password });
    expect(deleted.status, await deleted.text()).toBe(204);

    expect((await readData<ProductView[]>(ownersList())).data).toEqual([]);
    expect((await readData<ProductView[]>(search(product.name))).data).toEqual([]);
    const page = await readPage(anyone, `/v1/products?${queryOf({ ownerId: owner.id, page: 1 })}`);
    expect(page.data).toEqual([]);

    const ttl = await expireEntry();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await expectErrorEnvelope(await anyone(byId(product.id)), 404, 'NOT_FOUND');
  });
});
