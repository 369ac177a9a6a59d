// Idempotency-Key on the real Worker in workerd: twenty concurrent creates with one key make one
// product and twenty answers of it, a registration retried with its key makes one account, and a
// streamed upload sent twice with its key is stored once.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productBody } from '../support/product-fixtures.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newAccount,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';
import { multipartFiles } from './harness/multipart.ts';

let worker: IdentityWorker;

beforeAll(async () => {
  // Sign-up's own limit is not under test: a registration's retries count against it.
  worker = await startIdentityWorker({ RATE_LIMIT_SIGNUP: '1000/1h' });
});

afterAll(async () => {
  await worker?.close();
});

interface Answer {
  status: number;
  replayed: string | null;
  text: string;
}

async function answerOf(response: Response): Promise<Answer> {
  return {
    status: response.status,
    replayed: response.headers.get('Idempotent-Replayed'),
    text: await response.text(),
  };
}

async function countRows(sql: string, arg: string): Promise<number> {
  const { rows } = await worker.db.execute({ sql, args: [arg] });
  return Number(rows[0]?.n);
}

describe('POST /v1/products with one key', () => {
  it('makes one product of twenty concurrent requests, and twenty answers of it', async () => {
    const seller = await register(worker, 'idempotent-seller');
    const key = crypto.randomUUID();
    const body = productBody();

    const answers = await Promise.all(
      Array.from({ length: 20 }, async () =>
        answerOf(
          await call(worker, 'POST', '/v1/products', {
            token: seller.session.accessToken,
            ip: seller.ip,
            body,
            headers: { 'Idempotency-Key': key },
          }),
        ),
      ),
    );

    expect(answers.map(({ status }) => status)).toEqual(Array(20).fill(201));
    // One request ran; the others waited for it and answered its bytes.
    expect(answers.filter(({ replayed }) => replayed === null)).toHaveLength(1);
    expect(answers.filter(({ replayed }) => replayed === 'true')).toHaveLength(19);
    expect(new Set(answers.map(({ text }) => text)).size).toBe(1);
    const product = (JSON.parse(answers[0]?.text ?? '{}') as { data: { id: string } }).data;
    expect(
      await countRows('SELECT count(*) AS n FROM products WHERE owner_id = ?', seller.id),
    ).toBe(1);
    expect(await countRows('SELECT count(*) AS n FROM products WHERE id = ?', product.id)).toBe(1);
  });

  it('refuses the key with another body, and leaves the first product alone', async () => {
    const seller = await register(worker, 'idempotent-reuse');
    const key = crypto.randomUUID();
    const send = (body: unknown) =>
      call(worker, 'POST', '/v1/products', {
        token: seller.session.accessToken,
        ip: seller.ip,
        body,
        headers: { 'Idempotency-Key': key },
      });
    const body = productBody();
    expect((await send(body)).status).toBe(201);
    await expectErrorEnvelope(await send({ ...body, stock: 1 }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(
      await countRows('SELECT count(*) AS n FROM products WHERE owner_id = ?', seller.id),
    ).toBe(1);
  });
});

describe('POST /v1/auth/register with one key', () => {
  it('makes one account of a registration and its retries, each answered the same', async () => {
    const account = newAccount('idempotent-signup');
    const ip = newClientIp();
    const key = crypto.randomUUID();
    const send = async () =>
      answerOf(
        await call(worker, 'POST', '/v1/auth/register', {
          body: account,
          ip,
          headers: { 'Idempotency-Key': key },
        }),
      );

    const first = await send();
    expect(first.status, first.text).toBe(201);
    const retries = await Promise.all([send(), send(), send()]);
    for (const retry of retries) {
      expect(retry).toEqual({ status: 201, replayed: 'true', text: first.text });
    }
    expect(await countRows('SELECT count(*) AS n FROM users WHERE email = ?', account.email)).toBe(
      1,
    );
    // The replayed session is the one the account has: it signs in.
    const { session } = JSON.parse(first.text).data as { session: { accessToken: string } };
    const me = await call(worker, 'GET', '/v1/me', { token: session.accessToken, ip });
    expect((await dataOf<{ email: string }>(me, 200)).email).toBe(account.email);
  });
});

describe('POST /v1/files with one key', () => {
  it('stores a streamed upload once, fingerprinted by its length', async () => {
    const owner = await register(worker, 'idempotent-upload');
    const key = crypto.randomUUID();
    const pdf = (text: string) =>
      new TextEncoder().encode(`%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n${text}\n%%EOF\n`);
    const upload = async (bytes: Uint8Array) => {
      const { body, contentType } = await multipartFiles([
        { name: 'invoice.pdf', bytes, type: 'application/pdf' },
      ]);
      return worker.fetch('/v1/files', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${owner.session.accessToken}`,
          'cf-connecting-ip': owner.ip,
          'content-type': contentType,
          // As curl and browsers send a form; dispatchFetch would send these bytes chunked.
          'content-length': String(body.byteLength),
          'idempotency-key': key,
        },
        body,
      });
    };

    const first = await answerOf(await upload(pdf('first')));
    expect(first.status, first.text).toBe(201);
    const retry = await answerOf(await upload(pdf('first')));
    expect(retry).toEqual({ status: 201, replayed: 'true', text: first.text });
    // Another length is another request.
    await expectErrorEnvelope(
      await upload(pdf('a longer second file')),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(await countRows('SELECT count(*) AS n FROM files WHERE owner_id = ?', owner.id)).toBe(1);
    expect(
      (await worker.storedKeys()).filter((stored) => stored.startsWith(`users/${owner.id}/`)),
    ).toHaveLength(1);
  });
});
