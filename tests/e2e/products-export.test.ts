// The streaming exports on the real Worker: thousands of products and users written straight into
// its database, then downloaded whole. Each export is held to the database itself: the same rows
// in (createdAt, id) order, none twice, none missing, as NDJSON lines or one JSON array, with no
// field the API never shows (seq, password hashes); a user gets their own products, an
// administrator everything; the users export is for administrators only.
import type { InStatement, InValue } from '@libsql/client';
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productCategories } from '../../src/db/schema.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  type IdentityWorker,
  login,
  promoteToAdmin,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let seller: Account & { session: Session };
let other: Account & { session: Session };
let admin: Session;

const sellerProducts = 5_000;
const otherProducts = 700;
const extraUsers = 1_100;
/** Never to be seen in an export. */
const storedHash = 'pbkdf2-sha256$100000$c2VjcmV0LXNhbHQ$c2VjcmV0LWhhc2g';
const base = Date.parse('2025-03-01T00:00:00.000Z');

/** Multi-row INSERTs of `rows`, `perStatement` rows each. */
function inserts(table: string, columns: string[], rows: InValue[][], perStatement = 250) {
  const statements: InStatement[] = [];
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    statements.push({
      sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => placeholders).join(', ')}`,
      args: chunk.flat(),
    });
  }
  return statements;
}

/**
 * Products of an owner, four to each creation instant (the id orders them), one in 25 deleted,
 * in a shuffled order so that insertion order (seq) is not export order.
 */
function productRows(ownerId: string, count: number, offset: number): InValue[][] {
  const rows = Array.from({ length: count }, (_, i): InValue[] => {
    const createdAt = base + Math.floor((i + offset) / 4) * 1_000;
    return [
      crypto.randomUUID(),
      ownerId,
      `Export product ${offset + i}`,
      'Written straight into the database.',
      String(productCategories[i % productCategories.length]),
      100 + i,
      'EUR',
      i % 7,
      JSON.stringify(['export']),
      createdAt,
      createdAt,
      i % 25 === 0 ? createdAt + 500 : null,
    ];
  });
  return rows.sort(() => Math.random() - 0.5);
}

beforeAll(async () => {
  worker = await startIdentityWorker();
  seller = await register(worker, 'seller');
  other = await register(worker, 'other');
  const operator = await register(worker, 'operator');
  await promoteToAdmin(worker, operator.id);
  admin = await login(worker, operator);

  const productColumns = [
    'id',
    'owner_id',
    'name',
    'description',
    'category',
    'price_amount',
    'price_currency',
    'stock',
    'tags',
    'created_at',
    'updated_at',
    'deleted_at',
  ];
  const users = Array.from({ length: extraUsers }, (_, i): InValue[] => [
    crypto.randomUUID(),
    `bulk-${i}-${crypto.randomUUID().slice(0, 8)}@e2e.test`,
    `Bulk user ${i}`,
    'user',
    storedHash,
    base + Math.floor(i / 3) * 60_000,
    base,
    i % 50 === 0 ? base + 1 : null,
  ]);
  await worker.db.batch(
    [
      ...inserts('products', productColumns, productRows(seller.id, sellerProducts, 0)),
      ...inserts('products', productColumns, productRows(other.id, otherProducts, 2)),
      ...inserts(
        'users',
        ['id', 'email', 'name', 'role', 'password_hash', 'created_at', 'updated_at', 'deleted_at'],
        users,
        100,
      ),
    ],
    'write',
  );
}, 120_000);

afterAll(async () => {
  await worker?.close();
});

/** Ids as the database orders them: what every export must list, in this order. */
async function idsInDatabase(sql: string, args: (string | number)[] = []): Promise<string[]> {
  const { rows } = await worker.db.execute({ sql, args });
  return rows.map((row) => String(row.id));
}

const listedProducts = (where = '1 = 1', args: string[] = []) =>
  idsInDatabase(
    `SELECT p.id FROM products p JOIN users u ON u.id = p.owner_id
     WHERE p.deleted_at IS NULL AND u.deleted_at IS NULL AND ${where}
     ORDER BY p.created_at, p.id`,
    args,
  );

async function download(
  path: string,
  token: string,
  accept?: string,
): Promise<{ response: Response; text: string }> {
  const response = await call(worker, 'GET', path, {
    token,
    headers: accept === undefined ? {} : { accept },
  });
  return { response, text: await response.text() };
}

/** Every line of an NDJSON body, parsed; the body ends with its last line's newline. */
function ndjsonItems(text: string): Record<string, unknown>[] {
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const productFields = [
  'category',
  'createdAt',
  'deletedAt',
  'description',
  'id',
  'name',
  'owner',
  'price',
  'stock',
  'tags',
  'updatedAt',
];

const idsOf = (items: Record<string, unknown>[]) => items.map((item) => item.id);

describe('GET /v1/products/export', () => {
  it('gives a user their own listed products, oldest first, one NDJSON line each', async () => {
    const { response, text } = await download('/v1/products/export', seller.session.accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="products-\d{4}-\d\d-\d\d\.ndjson"$/,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toMatch(/\bOrigin\b.*\bAccept\b|\bAccept\b.*\bOrigin\b/);

    const items = ndjsonItems(text);
    const expected = await listedProducts('p.owner_id = ?', [seller.id]);
    expect(expected).toHaveLength(sellerProducts - sellerProducts / 25);
    // Same rows, same order: none missing, none twice, none of anyone else's.
    expect(idsOf(items)).toEqual(expected);
    expect(new Set(idsOf(items)).size).toBe(items.length);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(productFields);
      expect(item.owner).toEqual({
        id: seller.id,
        name: seller.name,
        avatar: null,
        createdAt: expect.any(String),
      });
      expect(item.deletedAt).toBeNull();
    }
    expect(text).not.toContain('"seq"');
  });

  it('gives the same products as one JSON array when Accept prefers application/json', async () => {
    const ndjson = ndjsonItems(
      (await download('/v1/products/export', seller.session.accessToken)).text,
    );
    const { response, text } = await download(
      '/v1/products/export',
      seller.session.accessToken,
      'application/json, application/x-ndjson;q=0.5',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="products-\d{4}-\d\d-\d\d\.json"$/,
    );
    const items = JSON.parse(text) as Record<string, unknown>[];
    expect(Array.isArray(items)).toBe(true);
    expect(items).toEqual(ndjson);
  });

  it('gives an administrator every listed product, narrowed by owner or category', async () => {
    const everything = ndjsonItems((await download('/v1/products/export', admin.accessToken)).text);
    expect(idsOf(everything)).toEqual(await listedProducts());
    expect(new Set(everything.map((item) => (item.owner as { id: string }).id))).toEqual(
      new Set([seller.id, other.id]),
    );

    const others = ndjsonItems(
      (await download(`/v1/products/export?ownerId=${other.id}`, admin.accessToken)).text,
    );
    expect(idsOf(others)).toEqual(await listedProducts('p.owner_id = ?', [other.id]));

    const books = ndjsonItems(
      (await download('/v1/products/export?category=books', admin.accessToken)).text,
    );
    expect(books.length).toBeGreaterThan(0);
    expect(idsOf(books)).toEqual(await listedProducts("p.category = 'books'"));
  });

  it('includes deleted products for an administrator who asks', async () => {
    const items = ndjsonItems(
      (await download('/v1/products/export?includeDeleted=true', admin.accessToken)).text,
    );
    expect(idsOf(items)).toEqual(
      await idsInDatabase('SELECT id FROM products ORDER BY created_at, id'),
    );
    expect(items.filter((item) => item.deletedAt !== null)).toHaveLength(
      sellerProducts / 25 + Math.ceil(otherProducts / 25),
    );
  });

  it('refuses a user another owner’s products or deleted ones, and a caller without a session', async () => {
    const own = await download(
      `/v1/products/export?ownerId=${seller.id}`,
      seller.session.accessToken,
    );
    expect(own.response.status).toBe(200);
    await expectErrorEnvelope(
      await call(worker, 'GET', `/v1/products/export?ownerId=${other.id}`, {
        token: seller.session.accessToken,
      }),
      403,
      'FORBIDDEN',
    );
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/products/export?includeDeleted=true', {
        token: seller.session.accessToken,
      }),
      403,
      'FORBIDDEN',
    );
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/products/export'),
      401,
      'UNAUTHORIZED',
    );
  });

  it('logs how the export ended', async () => {
    const response = await call(worker, 'GET', '/v1/products/export', {
      token: other.session.accessToken,
      headers: { 'x-request-id': 'e2e-products-export' },
    });
    await response.text();
    expect(
      await worker.logs.waitFor(
        (line) => line.msg === 'export ended' && line.requestId === 'e2e-products-export',
      ),
    ).toMatchObject({
      export: 'products',
      format: 'ndjson',
      outcome: 'complete',
      items: (await listedProducts('p.owner_id = ?', [other.id])).length,
    });
  });
});

const adminUserFields = [
  'avatar',
  'createdAt',
  'deletedAt',
  'email',
  'emailVerified',
  'emailVerifiedAt',
  'id',
  'name',
  'passwordChangedAt',
  'role',
  'updatedAt',
];

describe('GET /v1/admin/users/export', () => {
  it('gives an administrator every active user, oldest first, and never a secret', async () => {
    const { response, text } = await download('/v1/admin/users/export', admin.accessToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="users-\d{4}-\d\d-\d\d\.ndjson"$/,
    );
    const items = ndjsonItems(text);
    expect(idsOf(items)).toEqual(
      await idsInDatabase('SELECT id FROM users WHERE deleted_at IS NULL ORDER BY created_at, id'),
    );
    expect(items.length).toBeGreaterThan(extraUsers - extraUsers / 50);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(adminUserFields);
    expect(text).not.toMatch(/password_?hash|pbkdf2|c2VjcmV0/i);
  });

  it('includes deleted users on request, also as one JSON array', async () => {
    const { response, text } = await download(
      '/v1/admin/users/export?includeDeleted=true',
      admin.accessToken,
      'application/json',
    );
    expect(response.headers.get('content-type')).toBe('application/json');
    const items = JSON.parse(text) as Record<string, unknown>[];
    expect(idsOf(items)).toEqual(
      await idsInDatabase('SELECT id FROM users ORDER BY created_at, id'),
    );
    expect(items.filter((item) => item.deletedAt !== null)).toHaveLength(extraUsers / 50);
    expect(text).not.toMatch(/password_?hash|pbkdf2/i);
  });

  it('refuses a user who is not an administrator', async () => {
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/admin/users/export', { token: seller.session.accessToken }),
      403,
      'FORBIDDEN',
    );
  });
});
