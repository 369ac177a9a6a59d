// OWASP API4:2023, unrestricted resource consumption, on the real Worker: every way a client could
// make one request cost more than its share is capped before the cost is paid. Pages are at most
// 100 rows, JSON bodies at most MAX_BODY_BYTES (counted as they arrive, whatever the length
// says), uploads at most five files of 5 MiB, search texts, passwords and bulk creates at their
// documented sizes, deeply nested JSON is refused like any other wrong body, and a client over
// the general rate limit is told when to come back.
// Each refusal writes nothing and stores nothing.
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
import {
  type Actor,
  countOf,
  createPartner,
  deliverPartnerEvent,
  expectFieldRefused,
  newActor,
  pdfBytes,
  sendAs,
  serverFailures,
  storedFor,
  uploadFiles,
} from './harness/owasp.ts';

const MiB = 1024 * 1024;
/** Small enough to reach in one test, large enough for every other test's requests per address. */
const generalLimit = 40;

let worker: IdentityWorker;
let user: Actor;
let admin: Actor;

beforeAll(async () => {
  worker = await startIdentityWorker({ RATE_LIMIT_GENERAL: `${generalLimit}/1h` });
  [user, admin] = await Promise.all([
    newActor(worker, 'consumer'),
    newActor(worker, 'consumer-admin', { admin: true }),
  ]);
});

afterAll(async () => {
  await worker?.close();
});

const count = (sql: string, args: string[] = []) => countOf(worker, sql, args);

/** A JSON body sent as the bytes given, for what JSON.stringify cannot or will not write. */
function sendRaw(
  actor: Actor | undefined,
  method: string,
  path: string,
  body: string | ReadableStream<Uint8Array>,
) {
  return worker.fetch(path, {
    method,
    headers: {
      'content-type': 'application/json',
      'cf-connecting-ip': actor?.ip ?? newClientIp(),
      ...(actor !== undefined && { authorization: `Bearer ${actor.token}` }),
    },
    body,
    ...(body instanceof ReadableStream && { duplex: 'half' as const }),
  });
}

describe('a page', () => {
  it.each([
    ['products', '/v1/products?limit=1000', 'user'],
    ['products by offset', '/v1/products?sortBy=name&limit=1000', 'user'],
    ['a product search', '/v1/products/search?q=lamp&limit=1000', 'user'],
    ['files', '/v1/files?limit=1000', 'user'],
    ['API keys', '/v1/api-keys?limit=1000', 'user'],
    ['users', '/v1/admin/users?limit=1000', 'admin'],
    ['dead jobs', '/v1/admin/jobs/dead?limit=1000', 'admin'],
  ] as const)('of %s is refused above 100 rows: 422 naming limit', async (_what, path, who) => {
    await expectFieldRefused(
      await sendAs(worker, who === 'user' ? user : admin)('GET', path),
      'limit',
    );
  });

  it('by offset goes no deeper than page 1,000', async () => {
    await expectFieldRefused(
      await sendAs(worker, user)('GET', '/v1/products?sortBy=name&page=1001'),
      'page',
    );
  });

  it('of 100 rows is answered: the cap is the documented one', async () => {
    const response = await sendAs(worker, user)('GET', '/v1/products?limit=100');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { pagination: { limit: number } };
    expect(body.pagination.limit).toBe(100);
  });
});

describe('a JSON body', () => {
  const overLimit = () => JSON.stringify(productBody({ description: 'x'.repeat(MiB) }));

  it('over MAX_BODY_BYTES is refused with 413, signed in or not, and nothing is written', async () => {
    const before = await count('SELECT count(*) AS n FROM products');
    for (const response of [
      await sendRaw(user, 'POST', '/v1/products', overLimit()),
      await sendRaw(
        undefined,
        'POST',
        '/v1/auth/register',
        JSON.stringify({
          ...newAccount('huge'),
          name: 'x'.repeat(MiB),
        }),
      ),
      await sendRaw(undefined, 'POST', `/webhooks/partners/${crypto.randomUUID()}`, overLimit()),
    ]) {
      const body = await expectErrorEnvelope(response, 413, 'PAYLOAD_TOO_LARGE');
      expect(body.error.details).toEqual({ maxBytes: MiB });
    }
    expect(await count('SELECT count(*) AS n FROM products')).toBe(before);
  });

  it('over MAX_BODY_BYTES is refused when it comes without a length, counted as it arrives', async () => {
    const bytes = new TextEncoder().encode(overLimit());
    const chunk = 64 * 1024;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= bytes.byteLength) return controller.close();
        controller.enqueue(bytes.slice(sent, sent + chunk));
        sent += chunk;
      },
    });
    await expectErrorEnvelope(
      await sendRaw(user, 'POST', '/v1/products', stream),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it.each([
    ['arrays', (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`],
    ['objects', (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`],
  ])('nested 100,000 levels deep in %s is refused with 422, never a 500', async (_what, nested) => {
    const before = await count('SELECT count(*) AS n FROM products');
    const deep = nested(100_000);
    const product = JSON.stringify(productBody()).replace('"home"', deep);
    await expectFieldRefused(await sendRaw(user, 'POST', '/v1/products', product), 'category');
    const account = newAccount('nested');
    const registration = JSON.stringify(account).replace(JSON.stringify(account.name), deep);
    await expectFieldRefused(
      await sendRaw(undefined, 'POST', '/v1/auth/register', registration),
      'name',
    );
    expect(await count('SELECT count(*) AS n FROM products')).toBe(before);
    expect(await count('SELECT count(*) AS n FROM users WHERE email = ?', [account.email])).toBe(0);
  });

  it('nested deep in a partner event, whose data is any JSON, is stored like any other event', async () => {
    const created = await createPartner(worker, admin, 'Deep nesting partner');
    const body = `{"id":"evt_deep","type":"order.paid","data":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const response = await deliverPartnerEvent(
      worker,
      created.partner.id,
      created.secret.secret,
      body,
      newClientIp(),
    );
    // Within the body limit any depth is data like any other: stored once, its job queued.
    await dataOf(response, 202);
    const stored = await count('SELECT count(*) AS n FROM partner_events WHERE partner_id = ?', [
      created.partner.id,
    ]);
    expect(stored).toBe(1);
  });
});

describe('an upload', () => {
  const filesOf = (actor: Actor) =>
    count('SELECT count(*) AS n FROM files WHERE owner_id = ?', [actor.id]);

  it('of a 6 MB file is refused with 413 FILE_TOO_LARGE, and nothing is kept', async () => {
    const uploader = await newActor(worker, 'consumer-big');
    const big = pdfBytes(6 * 1000 * 1000);
    const refused = await expectErrorEnvelope(
      await uploadFiles(worker, uploader, [{ name: 'big.pdf', bytes: big }]),
      413,
      'FILE_TOO_LARGE',
    );
    expect(refused.error.details).toMatchObject({ maxBytes: 5 * MiB });
    await expectErrorEnvelope(
      await uploadFiles(
        worker,
        uploader,
        [{ name: 'big.png', bytes: big }],
        '/v1/users/me/avatar',
        'avatar',
      ),
      413,
      'FILE_TOO_LARGE',
    );
    expect(await filesOf(uploader)).toBe(0);
    expect(await storedFor(worker, uploader.id)).toEqual([]);
  });

  it('of six files is refused with 400 TOO_MANY_FILES, and none of them is kept', async () => {
    const uploader = await newActor(worker, 'consumer-many');
    const six = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.pdf`, bytes: pdfBytes() }));
    const refused = await expectErrorEnvelope(
      await uploadFiles(worker, uploader, six),
      400,
      'TOO_MANY_FILES',
    );
    expect(refused.error.details).toMatchObject({ maxFiles: 5 });
    expect(await filesOf(uploader)).toBe(0);
    // The five stored before the sixth was seen are removed after the answer.
    await expect.poll(() => storedFor(worker, uploader.id), { timeout: 10_000 }).toEqual([]);
  });

  it('announced direct is refused over 50 MiB with 413, and no file is made', async () => {
    const uploader = await newActor(worker, 'consumer-direct');
    await expectErrorEnvelope(
      await sendAs(worker, uploader)('POST', '/v1/files/uploads', {
        name: 'huge.pdf',
        size: 50 * MiB + 1,
        sha256: 'a'.repeat(64),
      }),
      413,
      'FILE_TOO_LARGE',
    );
    expect(await filesOf(uploader)).toBe(0);
  });
});

describe('a search text', () => {
  it('is refused over 10,240 characters for products and 100 for users: 422 naming q', async () => {
    const asUser = sendAs(worker, user);
    await expectFieldRefused(
      await asUser('GET', `/v1/products/search?q=${'a'.repeat(10_241)}`),
      'q',
    );
    await expectFieldRefused(await asUser('GET', `/v1/users/search?q=${'a'.repeat(101)}`), 'q');
  });

  it('of 10,240 characters in thousands of words is answered, as the first twelve words', async () => {
    const text = Array.from({ length: 2_048 }, (_, i) => `w${i}`.padEnd(4, 'x'))
      .join(' ')
      .slice(0, 10_240);
    const response = await sendAs(worker, user)('GET', `/v1/products/search?q=${text}`);
    expect(response.status, await response.clone().text()).toBe(200);
    await response.arrayBuffer();
  });
});

describe('a bulk create', () => {
  it('of 101 items is refused with 422 naming items, and none is created', async () => {
    const before = await count('SELECT count(*) AS n FROM products');
    const items = Array.from({ length: 101 }, () => productBody());
    await expectFieldRefused(
      await sendAs(worker, user)('POST', '/v1/products/bulk', { items }),
      'items',
    );
    expect(await count('SELECT count(*) AS n FROM products')).toBe(before);
  });
});

describe('a password', () => {
  it('over 1,024 characters is refused with 422 before it is hashed, and makes no account', async () => {
    const password = `Aa1!${'x'.repeat(1_021)}`;
    const account = { ...newAccount('long-password'), password };
    for (const [path, body] of [
      ['/v1/auth/login', { email: user.email, password }],
      ['/v1/auth/register', account],
    ] as const) {
      await expectFieldRefused(
        await call(worker, 'POST', path, { body, ip: newClientIp() }),
        'password',
      );
    }
    expect(await count('SELECT count(*) AS n FROM users WHERE email = ?', [account.email])).toBe(0);
  });
});

describe('the general rate limit', () => {
  it('answers 429 with Retry-After past its allowance, on the costliest reads too', async () => {
    const ip = newClientIp();
    const search = () =>
      call(worker, 'GET', '/v1/products/search?q=walnut+lamp&inStock=true&minPrice=1', { ip });
    for (let used = 1; used <= generalLimit; used += 1) {
      const response = await search();
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const refused = await search();
    const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(body.error.details).toMatchObject({ policy: 'general', retryAfterSeconds: retryAfter });
    // A signed-in client from that address is counted there too; another address is not.
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { token: user.token, ip }),
      429,
      'RATE_LIMITED',
    );
    expect((await call(worker, 'GET', '/v1/products?limit=1', { ip: newClientIp() })).status).toBe(
      200,
    );
  });
});

it('answered none of it with a 5xx, and logged no error', () => {
  expect(serverFailures(worker)).toEqual([]);
});
