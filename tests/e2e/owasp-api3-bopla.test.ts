// OWASP API3:2023, broken object property level authorization, on the real Worker. Mass
// assignment: every body that creates or changes something is sent the properties that are the
// server's (role, owner, id, timestamps, verification, storage), and money that is not an integer
// of minor units; each is refused with 422 naming the field, and nothing is written. Excessive
// data exposure: the answers of every module, to their owners and to an administrator, are
// scanned for what must never leave the server (password, token and key hashes, partner secrets
// after the answer that reveals them, storage keys), read from the database itself.
import type { Response } from 'miniflare';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productBody } from '../support/product-fixtures.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newAccount,
  newClientIp,
  startIdentityWorker,
} from './harness/identity.ts';
import { rawMultipart } from './harness/multipart.ts';
import {
  type Actor,
  type CreatedKey,
  countOf,
  expectFieldRefused,
  type FileView,
  newActor,
  pdfBytes,
  rowsOf,
  sendAs,
  serverFailures,
  sha256Hex,
  storedFor,
  uploadFiles,
} from './harness/owasp.ts';

let worker: IdentityWorker;
let user: Actor;
let admin: Actor;

beforeAll(async () => {
  worker = await startIdentityWorker();
  [user, admin] = await Promise.all([
    newActor(worker, 'bopla-user'),
    newActor(worker, 'bopla-admin', { admin: true }),
  ]);
});

afterAll(async () => {
  await worker?.close();
});

const count = (sql: string, args: string[] = []) => countOf(worker, sql, args);

describe('mass assignment', () => {
  it.each([
    ['role', 'admin'],
    ['emailVerified', true],
    ['emailVerifiedAt', new Date().toISOString()],
    ['id', '00000000-0000-4000-8000-000000000001'],
    ['createdAt', '2020-01-01T00:00:00.000Z'],
    ['passwordHash', 'pbkdf2-sha256$1$c2FsdA$aGFzaA'],
  ])('refuses %s at registration, and no account is made', async (field, value) => {
    const account = newAccount('bopla-register');
    const response = await call(worker, 'POST', '/v1/auth/register', {
      body: { ...account, [field]: value },
      ip: newClientIp(),
    });
    await expectFieldRefused(response, field);
    expect(await count('SELECT count(*) AS n FROM users WHERE email = ?', [account.email])).toBe(0);
  });

  it.each([
    ['role', 'admin'],
    ['email', 'someone-else@e2e.test'],
    ['emailVerified', true],
    ['id', '00000000-0000-4000-8000-000000000001'],
    ['createdAt', '2020-01-01T00:00:00.000Z'],
    ['avatar', { id: '00000000-0000-4000-8000-000000000001', type: 'image/jpeg', size: 1 }],
  ])('refuses %s in a profile update, and the profile is as it was', async (field, value) => {
    const before = await rowsOf(worker, 'SELECT * FROM users WHERE id = ?', [user.id]);
    await expectFieldRefused(
      await sendAs(worker, user)('PATCH', '/v1/me', { name: 'Renamed', [field]: value }),
      field,
    );
    expect(await rowsOf(worker, 'SELECT * FROM users WHERE id = ?', [user.id])).toEqual(before);
  });

  it('refuses an administrator setting a role or a verification through the profile route', async () => {
    const before = await rowsOf(worker, 'SELECT * FROM users WHERE id = ?', [user.id]);
    const path = `/v1/admin/users/${user.id}`;
    const asAdmin = sendAs(worker, admin);
    await expectFieldRefused(await asAdmin('PATCH', path, { name: 'Mod', role: 'admin' }), 'role');
    await expectFieldRefused(
      await asAdmin('PATCH', path, { name: 'Mod', emailVerifiedAt: null }),
      'emailVerifiedAt',
    );
    await expectFieldRefused(
      await asAdmin('PATCH', `${path}/role`, { role: 'admin', reason: 'because' }),
      'reason',
    );
    expect(await rowsOf(worker, 'SELECT * FROM users WHERE id = ?', [user.id])).toEqual(before);
  });

  const serverFields: [string, unknown][] = [
    ['ownerId', '00000000-0000-4000-8000-000000000001'],
    ['owner', { id: '00000000-0000-4000-8000-000000000001' }],
    ['id', '00000000-0000-4000-8000-000000000001'],
    ['createdAt', '2020-01-01T00:00:00.000Z'],
    ['updatedAt', '2020-01-01T00:00:00.000Z'],
    ['deletedAt', null],
    ['seq', 1],
  ];
  const badPrices: [string, unknown, string][] = [
    ['a float', { amount: 49.99, currency: 'EUR' }, 'price.amount'],
    ['negative', { amount: -1, currency: 'EUR' }, 'price.amount'],
    ['a string', { amount: '4999', currency: 'EUR' }, 'price.amount'],
    ['over the maximum', { amount: 100_000_001, currency: 'EUR' }, 'price.amount'],
    ['a bare number', 4999, 'price'],
    [
      'with a discount of its own',
      { amount: 4999, currency: 'EUR', discount: 100 },
      'price.discount',
    ],
  ];
  const productCount = () => count('SELECT count(*) AS n FROM products');

  it.each(serverFields)('refuses %s when a product is created', async (field, value) => {
    const before = await productCount();
    await expectFieldRefused(
      await sendAs(worker, user)('POST', '/v1/products', productBody({ [field]: value })),
      field,
    );
    expect(await productCount()).toBe(before);
  });

  it.each(badPrices)(
    'refuses a price %s when a product is created',
    async (_what, price, field) => {
      const before = await productCount();
      await expectFieldRefused(
        await sendAs(worker, user)('POST', '/v1/products', productBody({ price })),
        field,
      );
      expect(await productCount()).toBe(before);
    },
  );

  it('refuses server fields and bad prices when a product is changed, and it is as it was', async () => {
    const asUser = sendAs(worker, user);
    const product = await dataOf<{ id: string }>(
      await asUser('POST', '/v1/products', productBody()),
      201,
    );
    const path = `/v1/products/${product.id}`;
    const row = () => rowsOf(worker, 'SELECT * FROM products WHERE id = ?', [product.id]);
    const before = await row();
    for (const [field, value] of serverFields) {
      await expectFieldRefused(await asUser('PATCH', path, { stock: 1, [field]: value }), field);
    }
    for (const [, price, field] of badPrices) {
      await expectFieldRefused(await asUser('PATCH', path, { price }), field);
    }
    expect(await row()).toEqual(before);
  });

  it('names the item of a bulk create that sends a server field, and creates none of the items', async () => {
    const before = await productCount();
    const items = [productBody(), productBody({ ownerId: admin.id }), productBody()];
    await expectFieldRefused(
      await sendAs(worker, user)('POST', '/v1/products/bulk', { items }),
      'items.1.ownerId',
    );
    const floats = [
      productBody(),
      productBody(),
      productBody({ price: { amount: 0.5, currency: 'EUR' } }),
    ];
    await expectFieldRefused(
      await sendAs(worker, user)('POST', '/v1/products/bulk', { items: floats }),
      'items.2.price.amount',
    );
    expect(await productCount()).toBe(before);
  });

  it.each([
    ['ownerId', '00000000-0000-4000-8000-000000000001'],
    ['kind', 'avatar'],
    ['status', 'ready'],
    ['storageKey', 'users/00000000-0000-4000-8000-000000000001/x'],
    ['contentType', 'image/png'],
  ])('refuses %s when a direct upload is announced, and no file is made', async (field, value) => {
    const bytes = pdfBytes();
    const response = await sendAs(worker, user)('POST', '/v1/files/uploads', {
      name: 'report.pdf',
      size: bytes.byteLength,
      sha256: sha256Hex(bytes),
      [field]: value,
    });
    await expectFieldRefused(response, field);
    expect(await count('SELECT count(*) AS n FROM files WHERE owner_id = ?', [user.id])).toBe(0);
  });

  it('refuses a multipart upload with a field beside its files, and stores nothing', async () => {
    const body = rawMultipart([
      { field: 'files', filename: 'report.pdf', type: 'application/pdf', content: pdfBytes() },
      { field: 'ownerId', content: admin.id },
    ]);
    const response = await worker.fetch('/v1/files', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${user.token}`,
        'cf-connecting-ip': user.ip,
        'content-type': body.contentType,
      },
      body: body.body,
    });
    await expectErrorEnvelope(response, 400, 'UPLOAD_FIELD_INVALID');
    expect(await count('SELECT count(*) AS n FROM files WHERE owner_id = ?', [user.id])).toBe(0);
    expect(await storedFor(worker, user.id)).toEqual([]);
    expect(await storedFor(worker, admin.id)).toEqual([]);
  });

  it('refuses an API key with scopes beyond its owner’s role (403), or that the server sets (422)', async () => {
    const keys = () => count('SELECT count(*) AS n FROM api_keys WHERE user_id = ?', [user.id]);
    const create = (body: Record<string, unknown>) =>
      sendAs(worker, user)('POST', '/v1/api-keys', { name: 'escalate', ...body });
    const beyond = await expectErrorEnvelope(
      await create({ scopes: ['profile:read', 'users:admin', 'metrics:read'] }),
      403,
      'FORBIDDEN',
    );
    expect(beyond.error.details).toEqual({ scopes: ['users:admin', 'metrics:read'] });
    await expectFieldRefused(await create({ scopes: ['apikeys:manage'] }), 'scopes.0');
    for (const [field, value] of [
      ['userId', admin.id],
      ['prefix', 'sk_chosen1'],
      ['keyHash', 'a'.repeat(64)],
      ['revokedAt', null],
    ] as const) {
      await expectFieldRefused(await create({ scopes: ['profile:read'], [field]: value }), field);
    }
    expect(await keys()).toBe(0);
  });

  it('refuses a partner body that chooses its own secret or id', async () => {
    const partners = () => count('SELECT count(*) AS n FROM partners');
    const before = await partners();
    for (const [field, value] of [
      ['secret', 'pws_weak'],
      ['id', '00000000-0000-4000-8000-000000000001'],
    ] as const) {
      await expectFieldRefused(
        await sendAs(worker, admin)('POST', '/v1/admin/partners', {
          name: `Partner ${field}`,
          scheme: 'hmac-sha256',
          [field]: value,
        }),
        field,
      );
    }
    expect(await partners()).toBe(before);
  });
});

describe('the answers of every module', () => {
  /** Every answer's text, with what the request was, to name the one that leaks. */
  const seen: { what: string; text: string }[] = [];
  /** Secrets that one answer reveals by design, and no later answer may repeat. */
  const revealedOnce: { what: string; secret: string }[] = [];
  const passwords: string[] = [];

  async function keep(what: string, response: Response): Promise<string> {
    const text = await response.text();
    expect(response.status, `${what}: ${text}`).toBeLessThan(300);
    seen.push({ what, text });
    return text;
  }

  beforeAll(async () => {
    const subject = await newActor(worker, 'bopla-exposed');
    const as = sendAs(worker, subject);
    const asAdmin = sendAs(worker, admin);
    const newcomer = newAccount('bopla-newcomer');
    passwords.push(user.password, admin.password, subject.password, newcomer.password);
    await keep(
      'registration',
      await call(worker, 'POST', '/v1/auth/register', { body: newcomer, ip: newClientIp() }),
    );
    // A refusal must not echo what was sent either.
    const weak = { ...newAccount('bopla-weak'), password: 'Password1!' };
    passwords.push(weak.password);
    const refused = await call(worker, 'POST', '/v1/auth/register', {
      body: weak,
      ip: newClientIp(),
    });
    expect(refused.status).toBe(422);
    seen.push({ what: 'a refused registration', text: await refused.text() });
    await keep(
      'login',
      await call(worker, 'POST', '/v1/auth/login', {
        body: { email: subject.email, password: subject.password },
        ip: subject.ip,
      }),
    );
    await keep(
      'refresh',
      await call(worker, 'POST', '/v1/auth/refresh', {
        body: { refreshToken: subject.refreshToken },
        ip: subject.ip,
      }),
    );
    await keep('own profile', await as('GET', '/v1/me'));
    await keep('profile update', await as('PATCH', '/v1/me', { name: 'Exposed Subject' }));
    await keep('public profile', await as('GET', `/v1/users/${admin.id}`));
    await keep('user search', await as('GET', '/v1/users/search?q=Tester'));

    const key = JSON.parse(
      await keep(
        'API key creation',
        await as('POST', '/v1/api-keys', { name: 'k', scopes: ['profile:read'] }),
      ),
    ).data as CreatedKey;
    revealedOnce.push({ what: 'the API key', secret: key.key });
    await keep('API key list', await as('GET', '/v1/api-keys'));
    await keep('a request with the key', await call(worker, 'GET', '/v1/me', { apiKey: key.key }));
    await keep('API key revocation', await as('DELETE', `/v1/api-keys/${key.id}`));

    const product = JSON.parse(
      await keep('product creation', await as('POST', '/v1/products', productBody())),
    ).data as { id: string };
    await keep('bulk creation', await as('POST', '/v1/products/bulk', { items: [productBody()] }));
    await keep('product', await as('GET', `/v1/products/${product.id}`));
    await keep('product update', await as('PATCH', `/v1/products/${product.id}`, { stock: 3 }));
    await keep('product list', await as('GET', `/v1/products?ownerId=${subject.id}`));
    await keep('product search', await as('GET', '/v1/products/search?q=walnut'));
    await keep('analytics', await as('GET', '/v1/products/analytics'));
    await keep('export', await as('GET', '/v1/products/export'));

    const [file] = JSON.parse(
      await keep(
        'upload',
        await uploadFiles(worker, subject, [{ name: 'a.pdf', bytes: pdfBytes() }]),
      ),
    ).data as FileView[];
    await keep('file', await as('GET', `/v1/files/${file?.id}`));
    await keep('file list', await as('GET', '/v1/files'));
    const direct = pdfBytes(3_000);
    await keep(
      'direct upload',
      await as('POST', '/v1/files/uploads', {
        name: 'd.pdf',
        size: direct.byteLength,
        sha256: sha256Hex(direct),
      }),
    );
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#a33' } })
      .png()
      .toBuffer();
    const avatar = JSON.parse(
      await keep(
        'avatar upload',
        await uploadFiles(
          worker,
          subject,
          [{ name: 'me.png', bytes: new Uint8Array(png) }],
          '/v1/users/me/avatar',
          'avatar',
        ),
      ),
    ).data as FileView;
    await keep('avatar file', await as('GET', `/v1/files/${avatar.id}`));

    await keep('admin user list', await asAdmin('GET', '/v1/admin/users?includeDeleted=true'));
    await keep('admin user', await asAdmin('GET', `/v1/admin/users/${subject.id}`));
    await keep(
      'admin user search',
      await asAdmin('GET', `/v1/users/search?q=${encodeURIComponent(subject.email)}`),
    );
    await keep('admin user export', await asAdmin('GET', '/v1/admin/users/export'));
    await keep('admin product export', await asAdmin('GET', '/v1/products/export'));
    await keep('admin file', await asAdmin('GET', `/v1/files/${file?.id}`));
    await keep('metrics', await asAdmin('GET', '/metrics'));

    const created = JSON.parse(
      await keep(
        'partner creation',
        await asAdmin('POST', '/v1/admin/partners', {
          name: `Exposed partner ${subject.id}`,
          scheme: 'standard-webhooks',
        }),
      ),
    ).data as { partner: { id: string }; secret: { secret: string } };
    revealedOnce.push({ what: 'the first partner secret', secret: created.secret.secret });
    const rotated = JSON.parse(
      await keep(
        'partner rotation',
        await asAdmin('POST', `/v1/admin/partners/${created.partner.id}/secrets`, {
          graceHours: 1,
        }),
      ),
    ).data as { secret: string };
    revealedOnce.push({ what: 'the rotated partner secret', secret: rotated.secret });
    await keep('partner list', await asAdmin('GET', '/v1/admin/partners'));
  });

  it('never carry a password, a hash of one, or a hash of any token or key', async () => {
    const secrets = [
      ...(await rowsOf(
        worker,
        'SELECT password_hash AS v FROM users WHERE password_hash IS NOT NULL',
      )),
      ...(await rowsOf(worker, 'SELECT password_hash AS v FROM password_history')),
      ...(await rowsOf(worker, 'SELECT token_hash AS v FROM refresh_tokens')),
      ...(await rowsOf(worker, 'SELECT token_hash AS v FROM one_time_tokens')),
      ...(await rowsOf(worker, 'SELECT key_hash AS v FROM api_keys')),
    ].map(({ v }) => String(v));
    expect(secrets.length).toBeGreaterThan(5);
    for (const { what, text } of seen) {
      expect(text, what).not.toMatch(/pbkdf2|password_?hash|token_?hash|key_?hash/i);
      for (const password of passwords) expect(text, what).not.toContain(password);
      for (const secret of secrets) expect(text, what).not.toContain(secret);
    }
  });

  it('never carry a storage key', async () => {
    const keys = (
      await rowsOf(worker, 'SELECT storage_key AS a, source_key AS b FROM files')
    ).flatMap(({ a, b }) => [a, b].filter((key) => key !== null).map(String));
    expect(keys.length).toBeGreaterThan(2);
    for (const { what, text } of seen) {
      expect(text, what).not.toMatch(/storage_?key|source_?key|"users\//i);
      for (const key of keys) expect(text, what).not.toContain(key);
    }
  });

  it("show a user's email to the user and to administrators only", async () => {
    const shownToOthers = ['public profile', 'product', 'product list', 'product search'];
    for (const { what, text } of seen.filter((answer) => shownToOthers.includes(answer.what))) {
      expect(text, what).not.toMatch(/@e2e\.test/);
    }
    const anonymous = await call(worker, 'GET', `/v1/users/${user.id}`, { ip: newClientIp() });
    expect(await anonymous.text()).not.toContain(user.email);
  });

  it('reveal each secret in one answer only, and never its sealed form', async () => {
    const sealed = (await rowsOf(worker, 'SELECT encrypted_secret AS v FROM partner_secrets')).map(
      ({ v }) => String(v),
    );
    for (const { what, secret } of revealedOnce) {
      const carriers = seen
        .filter(({ text }) => text.includes(secret))
        .map((answer) => answer.what);
      expect(carriers, what).toHaveLength(1);
    }
    for (const { what, text } of seen) {
      expect(text, what).not.toMatch(/encrypted_?secret/i);
      for (const value of sealed) expect(text, what).not.toContain(value);
    }
  });
});

it('answered none of it with a 5xx, and logged no error', () => {
  expect(serverFailures(worker)).toEqual([]);
});
