// The catalogue export on the app as Node serves it, with the database behind a fault proxy that
// counts its requests and fails them on demand: pages are read only as the client reads (with
// Node's compression too), a database down before the first byte is a 503 in the envelope, a
// failure after it cuts the body short and is logged, and a client that hangs up stops the reads.
import { gunzipSync } from 'node:zlib';
import { createClient } from '@libsql/client';
import { compress } from 'hono/compress';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { createApp } from '../../src/app.ts';
import { seedProducts } from '../../src/entries/seed-products.ts';
import { productExportPageSize } from '../../src/modules/products/products-export.service.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let database: FaultProxy;
let harness: ReturnType<typeof appOnStack>;
let seller: SignedInUser;
let listed: number;

const pages = 8;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 5, migrate: true });
  database = await startFaultProxy({ target: stack.env.TURSO_DATABASE_URL });
  harness = appOnStack(stack.env, {
    TURSO_DATABASE_URL: database.url,
    RATE_LIMIT_GENERAL: '100000/1m',
  });
  [seller] = (await signedInUsers(harness.deps, [{ name: 'Export Seller' }])) as [SignedInUser];
  const client = createClient({
    url: stack.env.TURSO_DATABASE_URL,
    authToken: stack.env.TURSO_AUTH_TOKEN,
  });
  try {
    const count = pages * productExportPageSize;
    await seedProducts(client, { count, owners: [seller.id], now: new Date() });
    const { rows } = await client.execute(
      'SELECT count(*) AS n FROM products WHERE deleted_at IS NULL',
    );
    listed = Number(rows[0]?.n);
  } finally {
    client.close();
  }
}, 60_000);

afterAll(async () => {
  await database?.close();
  await stack?.close();
});

const exportRequest = (headers: Record<string, string> = {}, app = harness.app) =>
  app.request('/v1/products/export', {
    headers: {
      Authorization: `Bearer ${seller.accessToken}`,
      'CF-Connecting-IP': '192.0.2.80',
      ...headers,
    },
  });

/** Lets every pending pull run: a read-ahead that could happen has happened after this. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

const failEveryQuery = () =>
  database.setRules([{ kind: 'fail-before', path: '/v2/pipeline', rate: 1 }]);

it('reads the database only as the client reads', async () => {
  const before = database.counts.requests;
  const res = await exportRequest();
  expect(res.status).toBe(200);
  await settle();
  // The first page, read before answering; the rest waits for the client.
  expect(database.counts.requests - before).toBe(1);

  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  await reader.read();
  await settle();
  expect(database.counts.requests - before).toBeLessThanOrEqual(3);

  let lines = 2 * productExportPageSize;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    lines += new TextDecoder().decode(chunk.value).split('\n').length - 1;
  }
  expect(lines).toBe(listed);
});

it('streams through Node’s compression without reading ahead of the client', async () => {
  const compressed = createApp(harness.deps, { compress: compress() });
  const before = database.counts.requests;
  const res = await exportRequest(
    { Accept: 'application/json', 'Accept-Encoding': 'gzip' },
    compressed,
  );
  expect(res.headers.get('Content-Encoding')).toBe('gzip');
  await settle();
  // The compressor takes a chunk or a few before it waits for its reader, depending on how fast
  // it runs; the whole export would be every page.
  expect(database.counts.requests - before).toBeLessThanOrEqual(4);

  const body = gunzipSync(Buffer.from(await res.arrayBuffer())).toString();
  const products = JSON.parse(body) as unknown[];
  expect(products).toHaveLength(listed);
});

it('outlives the request deadline: it bounds the first byte, not the download', async () => {
  const deadline = 1_000;
  const { app } = appOnStack(stack.env, {
    TURSO_DATABASE_URL: database.url,
    RATE_LIMIT_GENERAL: '100000/1m',
    REQUEST_TIMEOUT_MS: String(deadline),
  });
  const started = performance.now();
  const res = await exportRequest({}, app);
  expect(res.status).toBe(200);
  let lines = 0;
  for await (const chunk of res.body as ReadableStream<Uint8Array>) {
    lines += new TextDecoder().decode(chunk).split('\n').length - 1;
    // A slow client: the download takes longer than any request may.
    await new Promise((resolve) => setTimeout(resolve, deadline / 3));
  }
  expect(lines).toBe(listed);
  expect(performance.now() - started).toBeGreaterThan(deadline);
});

it('answers 503 in the envelope when the database fails before the first byte', async () => {
  failEveryQuery();
  try {
    const res = await exportRequest();
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', details: { backend: 'database' } },
    });
  } finally {
    database.setRules([]);
  }
});

it('cuts the body short and logs why when the database fails after the first byte', async () => {
  const res = await exportRequest({ 'X-Request-Id': 'export-cut-short' });
  expect(res.status).toBe(200);
  failEveryQuery();
  try {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).split('\n')).toHaveLength(
      productExportPageSize + 1,
    );
    await expect(reader.read()).rejects.toThrow();
  } finally {
    database.setRules([]);
  }
  expect(harness.logLines).toContainEqual(
    expect.objectContaining({
      level: 'error',
      msg: 'export failed',
      requestId: 'export-cut-short',
      export: 'products',
      outcome: 'failed',
      items: productExportPageSize,
      cause: 'HttpServerError: Server returned HTTP status 500',
    }),
  );
});

it('stops reading when the client hangs up', async () => {
  await settle();
  const before = database.counts.requests;
  const res = await exportRequest({ 'X-Request-Id': 'export-hung-up' });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  await reader.cancel();
  await settle();
  const afterCancel = database.counts.requests;
  await settle();
  expect(database.counts.requests).toBe(afterCancel);
  expect(afterCancel - before).toBeLessThanOrEqual(2);
  expect(harness.logLines).toContainEqual(
    expect.objectContaining({
      msg: 'export ended',
      requestId: 'export-hung-up',
      outcome: 'cancelled',
      items: productExportPageSize,
    }),
  );
});
