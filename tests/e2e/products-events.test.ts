// Product events end to end, on the real Worker with the local QStash broker: a product created,
// changed and deleted through the API reaches a subscribed partner as product.created,
// product.updated and product.deleted, each exactly once and signed with the partner's secret,
// through the outbox, partner.broadcast and partner.notify; and each event's cache warm-up leaves
// the product's entry filled, so the first read after a change is a cache hit with the new values.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyPartnerHmac } from '../../src/lib/signatures/partner-hmac.ts';
import { eventually, holdsFor } from './harness/eventually.ts';
import { call, dataOf } from './harness/identity.ts';
import { adminSession, type JobsSystem, startJobsSystem } from './harness/jobs-system.ts';

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

interface PartnerEvent {
  id: string;
  type: string;
  data: { id: string; name: string; stock: number; deletedAt: string | null; ownerId: string };
}

let system: JobsSystem;
let admin: { token: string; ip: string };
let receiver: Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  system = await startJobsSystem({ vars: { PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' } });
  admin = await adminSession(system);
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      deliveries.push({ headers: request.headers, body: new Uint8Array(Buffer.concat(chunks)) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
}, 60_000);

afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise<void>((closed) => (receiver ? receiver.close(() => closed()) : closed()));
  await system?.close();
}, 60_000);

const asAdmin = (method: string, path: string, body?: unknown, requestId?: string) =>
  call(system, method, path, {
    token: admin.token,
    ip: admin.ip,
    body,
    ...(requestId !== undefined && { headers: { 'x-request-id': requestId } }),
  });

async function verifiedEvents(secret: string): Promise<PartnerEvent[]> {
  return Promise.all(
    deliveries.map(async (delivery) => {
      const header = (name: string) => {
        const value = delivery.headers[name];
        return typeof value === 'string' ? value : null;
      };
      await verifyPartnerHmac({
        timestamp: header('x-timestamp'),
        signature: header('x-signature'),
        body: delivery.body,
        secrets: [secret],
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      return JSON.parse(new TextDecoder().decode(delivery.body)) as PartnerEvent;
    }),
  );
}

async function jobCompleted(id: string): Promise<boolean> {
  const res = await asAdmin('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return false;
  }
  return (await dataOf<{ status: string }>(res, 200)).status === 'completed';
}

let readCount = 0;

/** GET /v1/products/{id} with the cache outcome its log line records. */
async function readProduct(id: string) {
  readCount += 1;
  const requestId = `e2e-product-events-read-${readCount}`;
  const res = await asAdmin('GET', `/v1/products/${id}`, undefined, requestId);
  const product = await dataOf<{ name: string; stock: number }>(res, 200);
  const { cache } = await system.logs.requestLine(requestId);
  return { product, cache };
}

it('delivers each product event once to a subscribed partner, and warms the cache after each', async () => {
  const created = await dataOf<{ partner: { id: string }; secret: { secret: string } }>(
    await asAdmin('POST', '/v1/admin/partners', {
      name: `Catalogue feed ${crypto.randomUUID()}`,
      scheme: 'hmac-sha256',
    }),
    201,
  );
  await dataOf(
    await asAdmin('PUT', `/v1/admin/partners/${created.partner.id}/subscription`, {
      webhookUrl: receiverUrl,
      events: ['product.created', 'product.updated', 'product.deleted'],
    }),
    200,
  );

  const product = await dataOf<{ id: string }>(
    await asAdmin('POST', '/v1/products', {
      name: 'Event lamp',
      category: 'home',
      price: { amount: 2500, currency: 'EUR' },
      stock: 4,
    }),
    201,
  );
  const eventsNamed = async (type: string) =>
    (await verifiedEvents(created.secret.secret)).filter((event) => event.type === type);

  const [createdEvent] = await eventually('product.created reached the partner', async () => {
    const found = await eventsNamed('product.created');
    return found.length > 0 ? found : undefined;
  });
  expect(createdEvent?.data).toMatchObject({ id: product.id, name: 'Event lamp', stock: 4 });
  await eventually('the created event’s warm-up ran', () =>
    jobCompleted(`${createdEvent?.id}:product.cache-warm`),
  );
  expect(await readProduct(product.id)).toEqual({
    product: expect.objectContaining({ name: 'Event lamp', stock: 4 }),
    cache: 'hit',
  });

  await dataOf(await asAdmin('PATCH', `/v1/products/${product.id}`, { stock: 9 }), 200);
  const [updatedEvent] = await eventually('product.updated reached the partner', async () => {
    const found = await eventsNamed('product.updated');
    return found.length > 0 ? found : undefined;
  });
  expect(updatedEvent?.data).toMatchObject({ id: product.id, stock: 9, deletedAt: null });
  await eventually('the updated event’s warm-up ran', () =>
    jobCompleted(`${updatedEvent?.id}:product.cache-warm`),
  );
  // The warm-up refilled the entry the change made stale: a hit, with the new stock.
  expect(await readProduct(product.id)).toEqual({
    product: expect.objectContaining({ stock: 9 }),
    cache: 'hit',
  });

  await dataOf(await asAdmin('DELETE', `/v1/products/${product.id}`), 200);
  const [deletedEvent] = await eventually('product.deleted reached the partner', async () => {
    const found = await eventsNamed('product.deleted');
    return found.length > 0 ? found : undefined;
  });
  expect(deletedEvent?.data.deletedAt).not.toBeNull();

  // Given every chance to repeat (retries, the outbox sweep), nothing arrives twice.
  await holdsFor('no event is delivered twice', () => deliveries.length === 3, 2_000);
  const events = await verifiedEvents(created.secret.secret);
  expect(events.map((event) => event.type).sort()).toEqual([
    'product.created',
    'product.deleted',
    'product.updated',
  ]);
  expect(new Set(events.map((event) => event.id)).size).toBe(3);
  expect(events.every((event) => event.data.id === product.id)).toBe(true);
}, 60_000);
