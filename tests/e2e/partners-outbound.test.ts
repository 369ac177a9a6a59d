// Our events, delivered to the partners subscribed to them, by the real Worker in workerd: an
// admin registers partners (one per scheme) and subscribes them to a receiver of their own on
// 127.0.0.1 (PARTNER_WEBHOOK_ALLOW_PRIVATE on, as in local development), a partner.broadcast job
// goes to the local QStash broker, and each receiver is checked for what a partner would get: one
// POST per event, whose signature our own verifiers accept with the partner's secret. A receiver
// that fails gets the same event id again; one answering 410 is dead-lettered; partners not
// subscribed to the event, unsubscribed or revoked get nothing.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JobPayload } from '../../src/jobs/catalogue.ts';
import { prepareJob, publishRequest } from '../../src/jobs/enqueue.ts';
import { verifyPartnerHmac } from '../../src/lib/signatures/partner-hmac.ts';
import { verifyStandardWebhook } from '../../src/lib/signatures/standard-webhooks.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { createQueue } from '../../src/platform/queue.ts';
import { eventually, holdsFor } from './harness/eventually.ts';
import { call, dataOf } from './harness/identity.ts';
import { adminSession, type JobsSystem, startJobsSystem } from './harness/jobs-system.ts';

let system: JobsSystem;
let admin: { token: string; ip: string };
const receivers: Receiver[] = [];

beforeAll(async () => {
  system = await startJobsSystem({ vars: { PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' } });
  admin = await adminSession(system);
}, 60_000);

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await system?.close();
}, 60_000);

interface Received {
  headers: IncomingHttpHeaders;
  /** The raw bytes, as the signature covers them. */
  body: Uint8Array;
  receivedAtSeconds: number;
}

interface Receiver {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A partner's endpoint: records every request and answers the status `answer` gives for it. */
async function startReceiver(
  answer: (index: number) => number = () => 204,
  headers: Record<string, string> = {},
): Promise<Receiver> {
  const requests: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      requests.push({
        headers: request.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
        receivedAtSeconds: Math.floor(Date.now() / 1000),
      });
      response.writeHead(answer(index), { 'content-type': 'text/plain', ...headers });
      response.end(`receiver answer ${index}`);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  const receiver = {
    url: `http://127.0.0.1:${port}/hooks/nexus`,
    requests,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
  receivers.push(receiver);
  return receiver;
}

type Scheme = 'hmac-sha256' | 'standard-webhooks';

interface Partner {
  id: string;
  scheme: Scheme;
  /** Every secret it was given, oldest first. */
  secrets: string[];
}

const asAdmin = (method: string, path: string, body?: unknown) =>
  call(system, method, path, { token: admin.token, ip: admin.ip, body });

async function createPartner(scheme: Scheme): Promise<Partner> {
  const data = await dataOf<{ partner: { id: string }; secret: { secret: string } }>(
    await asAdmin('POST', '/v1/admin/partners', {
      name: `Outbound ${scheme} ${crypto.randomUUID()}`,
      scheme,
    }),
    201,
  );
  return { id: data.partner.id, scheme, secrets: [data.secret.secret] };
}

/** Rotates with a grace period, so the old secret stays active beside the new one. */
async function rotate(partner: Partner): Promise<void> {
  const data = await dataOf<{ secret: string }>(
    await asAdmin('POST', `/v1/admin/partners/${partner.id}/secrets`, { graceHours: 24 }),
    201,
  );
  partner.secrets.push(data.secret);
}

/** Subscriptions a test made, ended after it so the next test's broadcasts reach only its own. */
const subscribed = new Set<string>();

afterEach(async () => {
  for (const id of subscribed) {
    const res = await asAdmin('DELETE', `/v1/admin/partners/${id}/subscription`);
    expect([200, 404]).toContain(res.status);
    await res.arrayBuffer();
  }
  subscribed.clear();
});

async function subscribe(
  partner: Partner,
  webhookUrl: string,
  events: JobPayload<'partner.broadcast'>['event'][],
) {
  const data = await dataOf<{ webhookUrl: string; subscribedEvents: string[] }>(
    await asAdmin('PUT', `/v1/admin/partners/${partner.id}/subscription`, { webhookUrl, events }),
    200,
  );
  subscribed.add(partner.id);
  return data;
}

const publishConfig = () => ({ JOBS_BASE_URL: system.workerUrl, API_PUBLIC_URL: system.edgeUrl });

/** Publishes partner.broadcast to the broker as the outbox would, under the given job id. */
async function broadcast(payload: JobPayload<'partner.broadcast'>, jobId = crypto.randomUUID()) {
  const queue = createQueue({ QSTASH_URL: system.broker.url, QSTASH_TOKEN: system.broker.token });
  const job = prepareJob({ clock: systemClock }, 'partner.broadcast', payload, { id: jobId });
  await queue.publish(publishRequest(publishConfig(), job));
  return job.id;
}

function productEvent(
  event: JobPayload<'partner.broadcast'>['event'],
): JobPayload<'partner.broadcast'> {
  return {
    eventId: crypto.randomUUID(),
    event,
    occurredAt: new Date().toISOString(),
    data: {
      id: crypto.randomUUID(),
      name: 'Walnut desk lamp',
      price: { amount: 4999, currency: 'EUR' },
      stock: 12,
    },
  };
}

interface JobStatus {
  status: string;
  result?: unknown;
  error?: string;
}

async function jobStatus(id: string): Promise<JobStatus | undefined> {
  const res = await asAdmin('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  return dataOf<JobStatus>(res, 200);
}

async function settled(id: string, status: 'completed' | 'failed'): Promise<JobStatus> {
  return eventually(
    `job ${id} is ${status}`,
    async () => {
      const job = await jobStatus(id);
      return job?.status === status ? job : undefined;
    },
    30_000,
  );
}

/** Checks the request the way the partner would, with its secrets, and returns the parsed body. */
async function verified(partner: Partner, request: Received, secrets = partner.secrets) {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : null;
  };
  const nowSeconds = request.receivedAtSeconds;
  if (partner.scheme === 'hmac-sha256') {
    await verifyPartnerHmac({
      timestamp: header('x-timestamp'),
      signature: header('x-signature'),
      body: request.body,
      secrets,
      nowSeconds,
    });
  } else {
    await verifyStandardWebhook({
      id: header('webhook-id'),
      timestamp: header('webhook-timestamp'),
      signature: header('webhook-signature'),
      body: request.body,
      secrets,
      nowSeconds,
    });
  }
  return JSON.parse(new TextDecoder().decode(request.body)) as {
    id: string;
    type: string;
    occurredAt: string;
    data: unknown;
  };
}

describe('partner.broadcast and partner.notify', () => {
  it('sends each subscribed partner one POST, signed in its scheme; nobody else gets one', {
    timeout: 60_000,
  }, async () => {
    const hmac = await createPartner('hmac-sha256');
    const standard = await createPartner('standard-webhooks');
    const otherEvents = await createPartner('hmac-sha256');
    const unsubscribed = await createPartner('standard-webhooks');
    const revoked = await createPartner('hmac-sha256');
    const [hmacHook, standardHook, otherHook, unsubscribedHook, revokedHook] = await Promise.all([
      startReceiver(),
      startReceiver(),
      startReceiver(),
      startReceiver(),
      startReceiver(),
    ]);
    // Both rotated, with grace: two active secrets each.
    await rotate(hmac);
    await rotate(standard);

    const shown = await subscribe(hmac, hmacHook.url, ['product.created', 'product.updated']);
    expect(shown).toMatchObject({
      webhookUrl: hmacHook.url,
      subscribedEvents: ['product.created', 'product.updated'],
    });
    await subscribe(standard, standardHook.url, ['product.created']);
    await subscribe(otherEvents, otherHook.url, ['product.deleted']);
    await subscribe(unsubscribed, unsubscribedHook.url, ['product.created']);
    await subscribe(revoked, revokedHook.url, ['product.created']);
    const ended = await dataOf<{ webhookUrl: unknown; subscribedEvents: unknown }>(
      await asAdmin('DELETE', `/v1/admin/partners/${unsubscribed.id}/subscription`),
      200,
    );
    expect(ended).toMatchObject({ webhookUrl: null, subscribedEvents: [] });
    await dataOf(await asAdmin('DELETE', `/v1/admin/partners/${revoked.id}`), 200);

    const event = productEvent('product.created');
    const broadcastId = await broadcast(event);
    expect((await settled(broadcastId, 'completed')).result).toEqual({ partners: 2 });
    await eventually(
      'both subscribed partners received the event',
      () => (hmacHook.requests.length > 0 && standardHook.requests.length > 0) || undefined,
      30_000,
    );
    for (const partner of [hmac, standard]) {
      await settled(`${event.eventId}:${partner.id}`, 'completed');
    }

    // The broadcast delivered again (an outbox re-publish, a requeue): same notify job ids.
    const again = await broadcast(event);
    expect((await settled(again, 'completed')).result).toEqual({ partners: 2 });
    await holdsFor(
      'one POST per subscribed partner, none to the others',
      () =>
        hmacHook.requests.length === 1 &&
        standardHook.requests.length === 1 &&
        otherHook.requests.length === 0 &&
        unsubscribedHook.requests.length === 0 &&
        revokedHook.requests.length === 0,
      1_500,
    );

    const [hmacRequest] = hmacHook.requests as [Received];
    const [standardRequest] = standardHook.requests as [Received];
    const expectedBody = {
      id: event.eventId,
      type: 'product.created',
      occurredAt: event.occurredAt,
      data: event.data,
    };
    expect(await verified(hmac, hmacRequest)).toEqual(expectedBody);
    expect(await verified(standard, standardRequest)).toEqual(expectedBody);

    // hmac-sha256 carries one signature: the old secret's while its grace period lasts, so a
    // partner that has not switched yet still verifies.
    const [hmacOld, hmacNew] = hmac.secrets as [string, string];
    await verified(hmac, hmacRequest, [hmacOld]);
    await expect(verified(hmac, hmacRequest, [hmacNew])).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
    // Standard Webhooks lists one v1 entry per active secret: either one verifies alone.
    expect(String(standardRequest.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of standard.secrets) await verified(standard, standardRequest, [secret]);
    expect(standardRequest.headers['webhook-id']).toBe(event.eventId);

    for (const request of [hmacRequest, standardRequest]) {
      expect(request.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'nexus-edge-webhooks/1',
        'x-event-type': 'product.created',
      });
    }
  });

  it('sends the same event again, with the same id, after the partner answers 500', {
    timeout: 60_000,
  }, async () => {
    const partner = await createPartner('hmac-sha256');
    const hook = await startReceiver((index) => (index === 0 ? 500 : 200));
    await subscribe(partner, hook.url, ['product.updated']);

    const event = productEvent('product.updated');
    await broadcast(event);
    const notify = await settled(`${event.eventId}:${partner.id}`, 'completed');
    expect(notify.result).toEqual({ delivered: true, status: 200 });
    await holdsFor(
      'two POSTs: the failed one and its retry',
      () => hook.requests.length === 2,
      1_000,
    );

    const [first, retry] = await Promise.all(
      hook.requests.map((request) => verified(partner, request)),
    );
    expect(first?.id).toBe(event.eventId);
    expect(retry).toEqual(first);
    // Signed anew for the retry: its timestamp is not older than the first one's.
    const timestamps = hook.requests.map((request) => Number(request.headers['x-timestamp']));
    expect(timestamps[1]).toBeGreaterThanOrEqual(timestamps[0] ?? Number.POSITIVE_INFINITY);
  });

  it('follows no redirect: a 3xx is a failure, retried at the partner’s own URL', {
    timeout: 60_000,
  }, async () => {
    const partner = await createPartner('standard-webhooks');
    const elsewhere = await startReceiver();
    const hook = await startReceiver((index) => (index === 0 ? 307 : 202), {
      location: elsewhere.url,
    });
    await subscribe(partner, hook.url, ['product.updated']);

    const event = productEvent('product.updated');
    await broadcast(event);
    await settled(`${event.eventId}:${partner.id}`, 'completed');
    await holdsFor(
      'the redirect and the retry at the same URL; nothing where it pointed',
      () => hook.requests.length === 2 && elsewhere.requests.length === 0,
      1_000,
    );
    const ids = hook.requests.map((request) => request.headers['webhook-id']);
    expect(ids).toEqual([event.eventId, event.eventId]);
  });

  it('dead-letters the event at once when the partner answers 410 Gone', {
    timeout: 60_000,
  }, async () => {
    const partner = await createPartner('standard-webhooks');
    const hook = await startReceiver(() => 410);
    await subscribe(partner, hook.url, ['product.deleted']);

    const event = productEvent('product.deleted');
    await broadcast(event);
    const jobId = `${event.eventId}:${partner.id}`;
    await settled(jobId, 'failed');
    const dead = await eventually(
      'the notify job is in the dead-job list',
      async () => {
        const res = await asAdmin('GET', `/v1/admin/jobs/dead/${encodeURIComponent(jobId)}`);
        if (res.status !== 200) {
          await res.arrayBuffer();
          return undefined;
        }
        return dataOf<{ type: string; retried: number; lastStatus: number; lastResponse: string }>(
          res,
          200,
        );
      },
      30_000,
    );
    // Our 489 told QStash not to retry; its body says why.
    expect(dead).toMatchObject({ type: 'partner.notify', retried: 0, lastStatus: 489 });
    expect(dead.lastResponse).toMatch(/answered 410 Gone/);
    await holdsFor('one POST, no retry', () => hook.requests.length === 1, 1_000);
  });

  it('refuses, even with PARTNER_WEBHOOK_ALLOW_PRIVATE, a link-local or metadata URL', async () => {
    const partner = await createPartner('hmac-sha256');
    for (const webhookUrl of [
      'http://169.254.169.254/latest/meta-data',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://user:secret@hooks.acme.example/',
    ]) {
      const res = await asAdmin('PUT', `/v1/admin/partners/${partner.id}/subscription`, {
        webhookUrl,
        events: ['product.created'],
      });
      const text = await res.text();
      expect(res.status, text).toBe(422);
      expect(JSON.parse(text)).toMatchObject({
        success: false,
        error: { code: 'VALIDATION_FAILED', details: { fields: [{ path: 'webhookUrl' }] } },
      });
    }
    const listed = await dataOf<{ id: string; webhookUrl: unknown }[]>(
      await asAdmin('GET', '/v1/admin/partners'),
      200,
    );
    expect(listed.find((shown) => shown.id === partner.id)?.webhookUrl).toBeNull();
  });
});
