// The local QStash broker against the official @upstash/qstash Client and Receiver: what a user
// of the real service would see, from publishing to signed deliveries, retries, the DLQ, queues,
// schedules, URL groups, flow control, the logs and a broker restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type Log, Receiver } from '@upstash/qstash';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type QstashBroker, startQstashBroker } from '../../local-stack/qstash/server.ts';

const token = 'local-qstash-token';
const currentSigningKey = 'sig_local_current_key';
const nextSigningKey = 'sig_local_next_key';

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Holds the answer back until this promise settles (a slow receiver). */
  hold?: Promise<void>;
}

interface TestReceiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

const openReceivers: TestReceiver[] = [];

/** A destination on a free port that records each request and answers as `reply` says. */
async function startReceiver(
  reply: (request: Received, index: number) => Reply = () => ({ status: 200 }),
): Promise<TestReceiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(request);
      const answer = reply(request, received.length - 1);
      void (answer.hold ?? Promise.resolve()).then(() => {
        res.writeHead(answer.status, answer.headers);
        res.end(`answer ${received.length}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: TestReceiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  openReceivers.push(receiver);
  return receiver;
}

/** A destination that answers each delivery 20 ms late and counts how many it held at once. */
async function startSlowReceiver() {
  let running = 0;
  let mostRunning = 0;
  const destination = await startReceiver(() => {
    running++;
    mostRunning = Math.max(mostRunning, running);
    const hold = new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => {
      running--;
    });
    return { status: 200, hold };
  });
  return { destination, mostRunning: () => mostRunning };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function header(request: Received | undefined, name: string): string {
  const value = request?.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

async function verify(request: Received | undefined, url: string, receiver: Receiver) {
  return receiver.verify({
    signature: header(request, 'upstash-signature'),
    body: request?.body ?? '',
    url,
  });
}

/** Delivered, cancelled and dead messages leave the broker: no further attempt can come. */
async function waitUntilGone(api: Client, messageId: string): Promise<void> {
  await waitFor(
    () =>
      api.messages.get(messageId).then(
        () => false,
        (error: { status?: number }) => error.status === 404,
      ),
    `message ${messageId} to be settled`,
  );
}

/** Every log entry of these messages, newest first (the client sends no cursor with ids). */
async function logsOf(api: Client, messageIds: string[]): Promise<Log[]> {
  return (await api.logs({ messageIds, count: 1000 })).logs;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const receiver = new Receiver({ currentSigningKey, nextSigningKey });

let directory: string;
let broker: QstashBroker;
let client: Client;
let clockOffsetMs = 0;

function startBroker(stateFile: string) {
  return startQstashBroker({
    port: 0,
    token,
    currentSigningKey,
    nextSigningKey,
    stateFile,
    retryDelayScale: 0.001,
    now: () => Date.now() + clockOffsetMs,
  });
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'qstash-contract-'));
  broker = await startBroker(join(directory, 'state.db'));
  client = new Client({ baseUrl: broker.url, token, retry: false });
});

afterEach(async () => {
  await Promise.all(openReceivers.splice(0).map((open) => open.close()));
});

afterAll(async () => {
  await broker.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('publishing and delivery', () => {
  it('delivers publishJSON with QStash headers and a signature Receiver.verify accepts', async () => {
    const destination = await startReceiver();
    const published = await client.publishJSON({
      url: destination.url,
      body: { order: 42 },
      headers: { 'X-Tenant': 'acme' },
    });
    expect(published).toEqual({ messageId: expect.stringMatching(/^msg_/), url: destination.url });

    await waitFor(() => destination.received.length === 1, 'the delivery');
    const delivery = destination.received[0];
    expect(delivery?.method).toBe('POST');
    expect(JSON.parse(delivery?.body ?? '')).toEqual({ order: 42 });
    expect(header(delivery, 'content-type')).toBe('application/json');
    expect(header(delivery, 'x-tenant')).toBe('acme');
    expect(header(delivery, 'user-agent')).toBe('Upstash-QStash');
    expect(header(delivery, 'upstash-message-id')).toBe(published.messageId);
    expect(header(delivery, 'upstash-retried')).toBe('0');
    await expect(verify(delivery, destination.url, receiver)).resolves.toBe(true);
    // During a key rotation receivers may hold the keys the other way round: still valid.
    const rotated = new Receiver({
      currentSigningKey: nextSigningKey,
      nextSigningKey: currentSigningKey,
    });
    await expect(verify(delivery, destination.url, rotated)).resolves.toBe(true);
    await expect(verify(delivery, `${destination.url}/other`, receiver)).rejects.toThrow(
      /invalid subject/,
    );
    const forged = new Receiver({ currentSigningKey: 'wrong', nextSigningKey: 'also-wrong' });
    await expect(verify(delivery, destination.url, forged)).rejects.toThrow();
  });

  it('delivers with the method given and no earlier than the delay', async () => {
    const destination = await startReceiver();
    const before = Date.now();
    await client.publish({ url: destination.url, body: 'late', method: 'PUT', delay: 1 });
    await waitFor(() => destination.received.length === 1, 'the delayed delivery');
    expect(destination.received[0]?.method).toBe('PUT');
    expect(destination.received[0]?.body).toBe('late');
    expect(destination.received[0]?.at).toBeGreaterThanOrEqual(before + 1000);
  });

  it('sends GET deliveries without a body, signed over the empty body', async () => {
    const destination = await startReceiver();
    await client.publish({ url: `${destination.url}?page=2`, method: 'GET', body: 'ignored' });
    await waitFor(() => destination.received.length === 1, 'the delivery');
    const delivery = destination.received[0];
    expect(delivery?.method).toBe('GET');
    expect(delivery?.body).toBe('');
    await expect(verify(delivery, `${destination.url}?page=2`, receiver)).resolves.toBe(true);
  });

  it('retries a receiver answering 500 twice, then 200: exactly three attempts', async () => {
    const destination = await startReceiver((_, index) => ({ status: index < 2 ? 500 : 200 }));
    const { messageId } = await client.publishJSON({ url: destination.url, body: { n: 1 } });
    await waitFor(() => destination.received.length === 3, 'three attempts');
    await waitUntilGone(client, messageId);
    expect(destination.received.map((request) => header(request, 'upstash-retried'))).toEqual([
      '0',
      '1',
      '2',
    ]);
    for (const attempt of destination.received) {
      await expect(verify(attempt, destination.url, receiver)).resolves.toBe(true);
    }
    expect(destination.received).toHaveLength(3);
  });

  // With retryDelayScale 0.001 the default first backoff is 12 ms; these waits are far longer.
  it('waits as Upstash-Retry-Delay says before retrying', async () => {
    const destination = await startReceiver((_, index) => ({ status: index === 0 ? 500 : 200 }));
    await client.publish({
      url: destination.url,
      body: 'x',
      retryDelay: '500000 * pow(2, retried)',
    });
    await waitFor(() => destination.received.length === 2, 'the retry');
    const [first, second] = destination.received;
    expect(header(second, 'upstash-retried')).toBe('1');
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(500);
  });

  it("waits as the receiver's Retry-After says before retrying", async () => {
    const destination = await startReceiver((_, index) =>
      index === 0 ? { status: 429, headers: { 'Retry-After': '1000' } } : { status: 200 },
    );
    await client.publish({ url: destination.url, body: 'x' });
    await waitFor(() => destination.received.length === 2, 'the retry');
    const [first, second] = destination.received;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('aborts a delivery slower than Upstash-Timeout and counts it as a failed attempt', async () => {
    let release = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const destination = await startReceiver((_, index) =>
      index === 0 ? { status: 200, hold: slow } : { status: 200 },
    );
    await client.publish({ url: destination.url, body: 'x', timeout: 1, retries: 1 });
    await waitFor(() => destination.received.length === 2, 'the attempt after the timeout');
    release();
    expect(header(destination.received[1], 'upstash-retried')).toBe('1');
  });

  it('calls Upstash-Callback after each attempt with its answer, signed', async () => {
    const destination = await startReceiver((_, index) => ({ status: index === 0 ? 500 : 200 }));
    const callback = await startReceiver();
    const { messageId } = await client.publishJSON({
      url: destination.url,
      body: { hello: 'world' },
      callback: callback.url,
    });
    await waitFor(() => callback.received.length === 2, 'a callback for each of two attempts');
    for (const notice of callback.received) {
      await expect(verify(notice, callback.url, receiver)).resolves.toBe(true);
    }
    const bodies = callback.received
      .map((notice) => JSON.parse(notice.body))
      .sort((a, b) => a.retried - b.retried);
    expect(bodies.map((body) => [body.status, body.retried])).toEqual([
      [500, 0],
      [200, 1],
    ]);
    expect(bodies[1]).toMatchObject({
      sourceMessageId: messageId,
      url: destination.url,
      method: 'POST',
      maxRetries: 3,
    });
    expect(Buffer.from(bodies[1].body, 'base64').toString()).toBe('answer 2');
    expect(Buffer.from(bodies[1].sourceBody, 'base64').toString()).toBe('{"hello":"world"}');
  });

  it('publishes a batch', async () => {
    const destination = await startReceiver();
    const responses = await client.batchJSON([
      { url: destination.url, body: { i: 1 } },
      { url: destination.url, body: { i: 2 } },
    ]);
    expect(responses).toHaveLength(2);
    await waitFor(() => destination.received.length === 2, 'both deliveries');
    expect(destination.received.map((request) => JSON.parse(request.body).i).sort()).toEqual([
      1, 2,
    ]);
  });
});

describe('dead letter queue', () => {
  it('moves a message that always fails to the DLQ and fires the failure callback', async () => {
    const destination = await startReceiver(() => ({ status: 500 }));
    const failureCallback = await startReceiver();
    const { messageId } = await client.publishJSON({
      url: destination.url,
      body: { doomed: true },
      retries: 2,
      failureCallback: failureCallback.url,
    });
    await waitFor(() => failureCallback.received.length === 1, 'the failure callback');
    expect(destination.received).toHaveLength(3);
    const notice = failureCallback.received[0];
    await expect(verify(notice, failureCallback.url, receiver)).resolves.toBe(true);
    const body = JSON.parse(notice?.body ?? '');
    expect(body).toMatchObject({
      status: 500,
      sourceMessageId: messageId,
      url: destination.url,
      retried: 2,
      maxRetries: 2,
    });

    const { messages } = await client.dlq.listMessages({ filter: { url: destination.url } });
    expect(messages).toHaveLength(1);
    const [dead] = messages;
    expect(dead).toMatchObject({
      messageId,
      url: destination.url,
      responseStatus: 500,
      responseBody: 'answer 3',
      body: '{"doomed":true}',
    });
    expect(body.dlqId).toBe(dead?.dlqId);
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });

    await client.dlq.delete(dead?.dlqId ?? '');
    const after = await client.dlq.listMessages({ filter: { url: destination.url } });
    expect(after.messages).toEqual([]);
  });

  it('deletes many, pages with a cursor and retries from the DLQ', async () => {
    let healthy = false;
    const destination = await startReceiver(() => ({ status: healthy ? 200 : 503 }));
    for (const n of [1, 2, 3]) {
      await client.publishJSON({ url: destination.url, body: { n }, retries: 0 });
    }
    const filter = { url: destination.url };
    await waitFor(() => destination.received.length === 3, 'three failed attempts');
    let listed = await client.dlq.listMessages({ filter });
    while (listed.messages.length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      listed = await client.dlq.listMessages({ filter });
    }
    const firstPage = await client.dlq.listMessages({ filter, count: 2 });
    expect(firstPage.messages).toHaveLength(2);
    expect(firstPage.cursor).toBeDefined();
    const secondPage = await client.dlq.listMessages({
      filter,
      count: 2,
      cursor: firstPage.cursor,
    });
    expect(secondPage.messages).toHaveLength(1);
    expect(secondPage.cursor).toBeUndefined();

    const [first, second, third] = listed.messages;
    healthy = true;
    const retried = await client.dlq.retry([first?.dlqId ?? '']);
    expect(retried.responses).toHaveLength(1);
    await waitFor(() => destination.received.length === 4, 'the retried delivery');
    expect(JSON.parse(destination.received[3]?.body ?? '')).toEqual({ n: 1 });

    const deleted = await client.dlq.delete({ dlqIds: [second?.dlqId ?? '', third?.dlqId ?? ''] });
    expect(deleted.deleted).toBe(2);
    expect((await client.dlq.listMessages({ filter })).messages).toEqual([]);
  });
});

describe('deduplication', () => {
  it('accepts a repeated deduplication id without delivering twice', async () => {
    const destination = await startReceiver();
    const first = await client.publishJSON({
      url: destination.url,
      body: { a: 1 },
      deduplicationId: 'order-42',
      delay: 1,
    });
    const second = await client.publishJSON({
      url: destination.url,
      body: { a: 2 },
      deduplicationId: 'order-42',
    });
    expect(second).toEqual({
      messageId: first.messageId,
      url: destination.url,
      deduplicated: true,
    });
    await waitFor(() => destination.received.length === 1, 'the delivery');
    await waitUntilGone(client, first.messageId);
    expect(destination.received.map((request) => JSON.parse(request.body))).toEqual([{ a: 1 }]);
  });

  it('deduplicates identical content when asked to', async () => {
    const destination = await startReceiver();
    const request = { url: destination.url, body: { same: true }, contentBasedDeduplication: true };
    const first = await client.publishJSON({ ...request, delay: 1 });
    const second = await client.publishJSON(request);
    const different = await client.publishJSON({ ...request, body: { same: false } });
    expect(second).toMatchObject({ messageId: first.messageId, deduplicated: true });
    expect(different.messageId).not.toBe(first.messageId);
    await waitFor(() => destination.received.length === 2, 'two deliveries');
    await waitUntilGone(client, first.messageId);
    await waitUntilGone(client, different.messageId);
    expect(destination.received).toHaveLength(2);
  });
});

describe('queues', () => {
  it('delivers in FIFO order, one at a time, with parallelism 1', async () => {
    const { destination, mostRunning } = await startSlowReceiver();
    const queue = client.queue({ queueName: 'fifo-orders' });
    await queue.upsert({ parallelism: 1 });
    for (const n of [0, 1, 2, 3, 4]) {
      await queue.enqueueJSON({ url: destination.url, body: { n } });
    }
    await waitFor(() => destination.received.length === 5, 'five deliveries');
    expect(destination.received.map((request) => JSON.parse(request.body).n)).toEqual([
      0, 1, 2, 3, 4,
    ]);
    expect(mostRunning()).toBe(1);
    expect(await queue.get()).toMatchObject({ name: 'fifo-orders', parallelism: 1, paused: false });
  });

  it('runs at most `parallelism` deliveries of one flow-control key at a time', async () => {
    const { destination, mostRunning } = await startSlowReceiver();
    const flowControl = { key: 'tenant-7', parallelism: 2 };
    for (const n of [0, 1, 2, 3, 4, 5]) {
      await client.publishJSON({ url: destination.url, body: { n }, flowControl, delay: 1 });
    }
    await waitFor(() => destination.received.length === 6, 'six deliveries');
    expect(mostRunning()).toBeLessThanOrEqual(2);
  });

  it('holds messages while paused and lists, resumes and deletes queues', async () => {
    const destination = await startReceiver();
    const queue = client.queue({ queueName: 'paused-queue' });
    await queue.upsert({ parallelism: 2, paused: true });
    await queue.enqueueJSON({ url: destination.url, body: { waiting: true } });
    expect(await queue.get()).toMatchObject({ paused: true, lag: 1, parallelism: 2 });
    expect((await queue.list()).map((listed) => listed.name)).toContain('paused-queue');
    expect(destination.received).toEqual([]);
    await queue.resume();
    await waitFor(() => destination.received.length === 1, 'the delivery after resume');
    await queue.pause();
    expect((await queue.get()).paused).toBe(true);
    await queue.delete();
    await expect(queue.get()).rejects.toMatchObject({ status: 404 });
  });
});

describe('schedules', () => {
  it('creates idempotently by id, lists, gets, pauses, resumes and deletes', async () => {
    const destination = 'https://example.com/jobs/nightly';
    const first = await client.schedules.create({
      destination,
      cron: '0 3 * * *',
      scheduleId: 'nightly-report',
      body: '{"report":"daily"}',
    });
    const again = await client.schedules.create({
      destination,
      cron: '30 4 * * *',
      scheduleId: 'nightly-report',
      body: '{"report":"daily"}',
      retries: 1,
    });
    expect(first).toEqual({ scheduleId: 'nightly-report' });
    expect(again).toEqual({ scheduleId: 'nightly-report' });
    const mine = (await client.schedules.list()).filter((s) => s.scheduleId === 'nightly-report');
    expect(mine).toHaveLength(1);

    const schedule = await client.schedules.get('nightly-report');
    expect(schedule).toMatchObject({
      scheduleId: 'nightly-report',
      cron: '30 4 * * *',
      destination,
      method: 'POST',
      body: '{"report":"daily"}',
      retries: 1,
      isPaused: false,
    });
    expect(new Date(schedule.nextScheduleTime ?? 0).toISOString()).toMatch(/T04:30:00\.000Z$/);

    await client.schedules.pause({ schedule: 'nightly-report' });
    expect((await client.schedules.get('nightly-report')).isPaused).toBe(true);
    await client.schedules.resume({ schedule: 'nightly-report' });
    expect((await client.schedules.get('nightly-report')).isPaused).toBe(false);
    await client.schedules.delete('nightly-report');
    await expect(client.schedules.get('nightly-report')).rejects.toMatchObject({ status: 404 });
  });

  it('publishes a message carrying Upstash-Schedule-Id when the cron is due', async () => {
    const destination = await startReceiver();
    const { scheduleId } = await client.schedules.create({
      destination: destination.url,
      cron: '* * * * *',
      body: '{"tick":true}',
    });
    expect(destination.received).toEqual([]);
    // Move the broker's clock past the next minute instead of waiting for it.
    clockOffsetMs += 61_000;
    broker.tick();
    await waitFor(() => destination.received.length === 1, 'the scheduled delivery');
    const delivery = destination.received[0];
    expect(header(delivery, 'upstash-schedule-id')).toBe(scheduleId);
    expect(delivery?.body).toBe('{"tick":true}');
    await expect(verify(delivery, destination.url, receiver)).resolves.toBe(true);
    expect((await client.schedules.get(scheduleId)).lastScheduleTime).toBeDefined();
    await client.schedules.delete(scheduleId);
  });

  it('shows a schedule as QStash does: no body when it has none, periods in seconds', async () => {
    const { scheduleId } = await client.schedules.create({
      destination: 'https://example.com/no-body',
      cron: '0 0 * * *',
      flowControl: { key: 'scheduled-flow', rate: 2, period: '2m' },
    });
    const schedule = await client.schedules.get(scheduleId);
    expect(schedule).not.toHaveProperty('body');
    expect(schedule).not.toHaveProperty('bodyBase64');
    expect(schedule).toMatchObject({ flowControlKey: 'scheduled-flow', rate: 2, period: 120 });
    await client.schedules.delete(scheduleId);
  });
});

describe('messages', () => {
  it('gets a pending message and cancels it', async () => {
    const destination = await startReceiver();
    const { messageId } = await client.publishJSON({
      url: destination.url,
      body: { later: true },
      delay: '1h',
      retries: 2,
      callback: `${destination.url}/done`,
    });
    const message = await client.messages.get(messageId);
    expect(message).toMatchObject({
      messageId,
      url: destination.url,
      method: 'POST',
      body: '{"later":true}',
      maxRetries: 2,
      callback: `${destination.url}/done`,
    });
    expect(message.notBefore ?? 0).toBeGreaterThanOrEqual(message.createdAt + 3_600_000);
    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    await expect(client.messages.cancel(messageId)).rejects.toMatchObject({ status: 404 });
  });

  it('keeps Upstash-Not-Before as the first delivery time', async () => {
    const destination = await startReceiver();
    const notBefore = Math.floor(Date.now() / 1000) + 7200;
    const { messageId } = await client.publishJSON({ url: destination.url, body: {}, notBefore });
    expect((await client.messages.get(messageId)).notBefore).toBe(notBefore * 1000);
    await client.messages.cancel(messageId);
  });

  it('cancels several messages at once', async () => {
    const destination = await startReceiver();
    const ids = [];
    for (const n of [1, 2]) {
      ids.push(
        (await client.publishJSON({ url: destination.url, body: { n }, delay: '1h' })).messageId,
      );
    }
    expect(await client.messages.cancel(ids)).toEqual({ cancelled: 2 });
  });

  it('cancels every match of a filter in one call, whatever count says', async () => {
    const url = `${(await startReceiver()).url}/bulk`;
    const label = 'bulk-cancel';
    const kept = await client.publish({ url, body: 'kept', delay: '1h' });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      ids.push((await client.publish({ url, body: String(n), delay: '1h', label })).messageId);
    }
    expect(await client.messages.cancel({ filter: { label }, count: 1 })).toEqual({
      cancelled: 3,
    });
    for (const id of ids) {
      await expect(client.messages.get(id)).rejects.toMatchObject({ status: 404 });
    }
    expect((await client.messages.get(kept.messageId)).body).toBe('kept');
    expect(await client.messages.cancel({ filter: { path: '/hook/bulk' } })).toEqual({
      cancelled: 1,
    });
  });

  it('shows a flow-control period in seconds', async () => {
    const { messageId } = await client.publish({
      url: 'https://example.com/flow',
      body: 'x',
      delay: '10d',
      flowControl: { key: 'period-shape', parallelism: 3, rate: 5, period: '1d' },
    });
    expect(await client.messages.get(messageId)).toMatchObject({
      flowControlKey: 'period-shape',
      parallelism: 3,
      rate: 5,
      period: 86_400,
    });
    await client.messages.cancel(messageId);
  });
});

describe('URL groups', () => {
  it('creates a group by adding endpoints, adds more, gets, lists, removes some and deletes it', async () => {
    const group = 'billing-fanout';
    const invoice = { name: 'invoice', url: 'https://example.com/invoice' };
    const ledger = { name: 'ledger', url: 'https://example.com/ledger' };
    const audit = { url: 'https://example.com/audit' };
    await client.urlGroups.addEndpoints({ name: group, endpoints: [invoice, ledger] });
    const created = await client.urlGroups.get(group);
    expect(created).toEqual({
      name: group,
      endpoints: [invoice, ledger],
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });

    // Adding an endpoint the group has already changes nothing; a new one is appended.
    await client.urlGroups.addEndpoints({ name: group, endpoints: [ledger, audit] });
    expect((await client.urlGroups.get(group)).endpoints).toEqual([invoice, ledger, audit]);
    const listed = (await client.urlGroups.list()).find((g) => g.name === group);
    expect(listed?.endpoints).toHaveLength(3);

    await client.urlGroups.removeEndpoints({
      name: group,
      endpoints: [{ name: 'invoice' }, { url: audit.url }],
    });
    expect((await client.urlGroups.get(group)).endpoints).toEqual([ledger]);

    await client.urlGroups.delete(group);
    await expect(client.urlGroups.get(group)).rejects.toMatchObject({ status: 404 });
    expect((await client.urlGroups.list()).map((g) => g.name)).not.toContain(group);
  });

  it('publishes one signed message per endpoint, each retried on its own', async () => {
    const steady = await startReceiver();
    const flaky = await startReceiver((_, index) => ({ status: index === 0 ? 500 : 200 }));
    const group = 'order-events';
    await client.urlGroups.addEndpoints({
      name: group,
      endpoints: [
        { name: 'steady', url: steady.url },
        { name: 'flaky', url: flaky.url },
      ],
    });
    const published = await client.publishJSON({
      urlGroup: group,
      body: { order: 7 },
      headers: { 'X-Tenant': 'acme' },
    });
    expect(published).toEqual([
      { messageId: expect.stringMatching(/^msg_/), url: steady.url },
      { messageId: expect.stringMatching(/^msg_/), url: flaky.url },
    ]);
    const [toSteady, toFlaky] = published;
    expect(toSteady?.messageId).not.toBe(toFlaky?.messageId);

    await waitFor(() => steady.received.length === 1, 'the steady delivery');
    await waitFor(() => flaky.received.length === 2, 'the flaky delivery and its retry');
    await waitUntilGone(client, toFlaky?.messageId ?? '');
    for (const [destination, message] of [
      [steady, toSteady],
      [flaky, toFlaky],
    ] as const) {
      for (const delivery of destination.received) {
        expect(JSON.parse(delivery.body)).toEqual({ order: 7 });
        expect(header(delivery, 'x-tenant')).toBe('acme');
        expect(header(delivery, 'upstash-message-id')).toBe(message?.messageId);
        await expect(verify(delivery, destination.url, receiver)).resolves.toBe(true);
      }
    }
    expect(flaky.received.map((request) => header(request, 'upstash-retried'))).toEqual(['0', '1']);
    expect(steady.received).toHaveLength(1);
  });

  it('shows the group and endpoint on each message, in batches, queues and schedules', async () => {
    const first = await startReceiver();
    const second = await startReceiver();
    const group = 'reports';
    await client.urlGroups.addEndpoints({
      name: group,
      endpoints: [{ name: 'first', url: first.url }, { url: second.url }],
    });

    const later = await client.publish({ urlGroup: group, body: 'later', delay: '1h' });
    const pending = await client.messages.get(later[0]?.messageId ?? '');
    expect(pending).toMatchObject({
      urlGroup: group,
      topicName: group,
      endpointName: 'first',
      url: first.url,
    });
    expect(await client.messages.cancel({ filter: { urlGroup: group } })).toEqual({
      cancelled: 2,
    });

    const answers = await client.batchJSON([
      { urlGroup: group, body: { via: 'batch' } },
      { url: first.url, body: { via: 'single' } },
    ]);
    expect(answers).toEqual([
      [
        { messageId: expect.any(String), url: first.url },
        { messageId: expect.any(String), url: second.url },
      ],
      { messageId: expect.any(String), url: first.url },
    ]);
    await waitFor(() => first.received.length === 2 && second.received.length === 1, 'batch');

    await client.queue({ queueName: 'reports-queue' }).enqueueJSON({
      urlGroup: group,
      body: { via: 'queue' },
    });
    await waitFor(() => first.received.length === 3 && second.received.length === 2, 'enqueue');

    const { scheduleId } = await client.schedules.create({
      destination: group,
      cron: '* * * * *',
      body: '{"via":"schedule"}',
    });
    expect((await client.schedules.get(scheduleId)).destination).toBe(group);
    clockOffsetMs += 61_000;
    broker.tick();
    await waitFor(() => first.received.length === 4 && second.received.length === 3, 'schedule');
    for (const destination of [first, second]) {
      const delivery = destination.received.at(-1);
      expect(header(delivery, 'upstash-schedule-id')).toBe(scheduleId);
      expect(delivery?.body).toBe('{"via":"schedule"}');
    }
    await client.schedules.delete(scheduleId);
    await client.urlGroups.delete(group);
  });
});

describe('logs', () => {
  it('logs every state a retried message goes through, newest first', async () => {
    const destination = await startReceiver((_, index) => ({ status: index === 0 ? 503 : 200 }));
    const { messageId } = await client.publishJSON({
      url: destination.url,
      body: { logged: true },
      label: 'audit',
    });
    await waitFor(() => destination.received.length === 2, 'the retry');
    await waitUntilGone(client, messageId);

    const logs = await logsOf(client, [messageId]);
    expect(logs.map((log) => log.state)).toEqual([
      'DELIVERED',
      'ACTIVE',
      'RETRY',
      'ERROR',
      'ACTIVE',
      'CREATED',
    ]);
    const times = logs.map((log) => log.time);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    for (const log of logs) {
      expect(log).toMatchObject({ messageId, url: destination.url, label: 'audit' });
      expect(Buffer.from(log.body ?? '', 'base64').toString()).toBe('{"logged":true}');
    }
    const byState = Object.fromEntries(logs.map((log) => [log.state, log]));
    expect(byState.ERROR).toMatchObject({ responseStatus: 503, error: expect.any(String) });
    expect(byState.RETRY?.nextDeliveryTime).toBeGreaterThanOrEqual(byState.ERROR?.time ?? 0);
    expect(byState.DELIVERED).toMatchObject({ responseStatus: 200 });

    // The deprecated events() reads the same endpoint and answers the same entries.
    const events = await client.events({ messageIds: [messageId] });
    expect(events.events.map((event) => event.state)).toEqual(logs.map((log) => log.state));
  });

  it('logs FAILED and cancellations, and filters by state, url, group, queue and dates', async () => {
    const failing = await startReceiver(() => ({ status: 500 }));
    const idle = await startReceiver();
    const before = Date.now() + clockOffsetMs;
    const failed = await client.publish({ url: failing.url, body: 'x', retries: 0 });
    await waitUntilGone(client, failed.messageId);
    const cancelled = await client.publish({ url: idle.url, body: 'y', delay: '1h' });
    await client.messages.cancel(cancelled.messageId);
    const queued = await client
      .queue({ queueName: 'logged-queue' })
      .enqueue({ url: idle.url, body: 'z', delay: '1h' });
    await client.urlGroups.addEndpoints({ name: 'logged-group', endpoints: [{ url: idle.url }] });
    const [grouped] = await client.publish({ urlGroup: 'logged-group', body: 'g', delay: '1h' });

    expect((await logsOf(client, [failed.messageId])).map((log) => log.state)).toEqual([
      'FAILED',
      'ERROR',
      'ACTIVE',
      'CREATED',
    ]);
    expect((await logsOf(client, [cancelled.messageId])).map((log) => log.state)).toEqual([
      'CANCELLED',
      'CANCEL_REQUESTED',
      'CREATED',
    ]);

    const failedOnly = await client.logs({ filter: { state: 'FAILED', url: failing.url } });
    expect(failedOnly.logs.map((log) => [log.messageId, log.state])).toEqual([
      [failed.messageId, 'FAILED'],
    ]);
    const inQueue = await client.logs({ filter: { queueName: 'logged-queue' } });
    expect(inQueue.logs.map((log) => log.messageId)).toEqual([queued.messageId]);
    const inGroup = await client.logs({ filter: { urlGroup: 'logged-group' } });
    expect(inGroup.logs).toEqual([
      expect.objectContaining({
        messageId: grouped?.messageId,
        state: 'CREATED',
        urlGroup: 'logged-group',
        nextDeliveryTime: expect.any(Number),
      }),
    ]);
    const since = await client.logs({ filter: { url: failing.url, fromDate: before } });
    expect(since.logs).toHaveLength(4);
    const untilBefore = await client.logs({ filter: { url: failing.url, toDate: before - 1 } });
    expect(untilBefore.logs).toEqual([]);

    await client.messages.cancel([queued.messageId, grouped?.messageId ?? '']);
    await client.urlGroups.delete('logged-group');
  });

  it('pages through the logs with a cursor and ends without one', async () => {
    const url = `${(await startReceiver()).url}/paged`;
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      ids.push((await client.publish({ url, body: String(n), delay: '1h' })).messageId);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.logs({ filter: { url }, count: 2, cursor });
      expect(page.logs.length).toBeLessThanOrEqual(2);
      seen.push(...page.logs.map((log) => log.messageId));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    await client.messages.cancel(ids);
  });

  it('keeps only the newest events beyond its retention', async () => {
    const stateFile = join(directory, 'retention.db');
    const small = await startQstashBroker({
      port: 0,
      token,
      currentSigningKey,
      nextSigningKey,
      stateFile,
      logRetention: 3,
    });
    try {
      const smallClient = new Client({ baseUrl: small.url, token, retry: false });
      const ids: string[] = [];
      for (const n of [1, 2, 3, 4, 5]) {
        const { messageId } = await smallClient.publish({
          url: 'https://example.com/kept',
          body: String(n),
          delay: '1h',
        });
        ids.push(messageId);
      }
      const { logs, cursor } = await smallClient.logs();
      expect(logs.map((log) => log.messageId)).toEqual(ids.slice(2).reverse());
      expect(cursor).toBeUndefined();
    } finally {
      await small.close();
    }
  });
});

describe('flow control', () => {
  it('holds a paused key, reports its state, and delivers on resume', async () => {
    const destination = await startReceiver();
    const key = 'paused-tenant';
    await client.flowControl.pause(key);
    const flowControl = { key, parallelism: 2, rate: 10, period: '1m' as const };
    for (const n of [1, 2, 3]) {
      await client.publishJSON({ url: destination.url, body: { n }, flowControl });
    }
    await sleep(100);
    expect(destination.received).toEqual([]);
    expect(await client.flowControl.get(key)).toEqual({
      flowControlKey: key,
      waitListSize: 3,
      parallelismMax: 2,
      parallelismCount: 0,
      rateMax: 10,
      rateCount: 0,
      ratePeriod: 60,
      ratePeriodStart: expect.any(Number),
      isPaused: true,
      isPinnedParallelism: false,
      isPinnedRate: false,
    });

    await client.flowControl.resume(key);
    await waitFor(() => destination.received.length === 3, 'the deliveries after resume');
    const resumed = await client.flowControl.get(key);
    expect(resumed).toMatchObject({ isPaused: false, waitListSize: 0, rateCount: 3 });
    const nowSeconds = Math.floor((Date.now() + clockOffsetMs) / 1000);
    expect(resumed.ratePeriodStart).toBeGreaterThan(nowSeconds - 5);
    expect(resumed.ratePeriodStart).toBeLessThanOrEqual(nowSeconds);
  });

  it('starts at most `rate` deliveries per period, and resetRate opens a new period', async () => {
    const destination = await startReceiver();
    const flowControl = { key: 'rated-tenant', rate: 2, period: 60 };
    for (const n of [1, 2, 3, 4, 5]) {
      await client.publishJSON({ url: destination.url, body: { n }, flowControl });
    }
    await waitFor(() => destination.received.length === 2, 'the first period');
    await sleep(150);
    expect(destination.received).toHaveLength(2);
    expect(await client.flowControl.get('rated-tenant')).toMatchObject({
      waitListSize: 3,
      rateMax: 2,
      rateCount: 2,
      ratePeriod: 60,
    });

    clockOffsetMs += 61_000;
    broker.tick();
    await waitFor(() => destination.received.length === 4, 'the second period');
    await sleep(150);
    expect(destination.received).toHaveLength(4);

    await client.flowControl.resetRate('rated-tenant');
    await waitFor(() => destination.received.length === 5, 'the delivery after the reset');
    expect(destination.received.map((request) => JSON.parse(request.body).n)).toEqual([
      1, 2, 3, 4, 5,
    ]);
  });

  it('applies pinned limits over the messages’ own, until unpinned', async () => {
    const { destination, mostRunning } = await startSlowReceiver();
    const key = 'pinned-tenant';
    await client.flowControl.pin(key, { parallelism: 1, rate: 50, period: 120 });
    expect(await client.flowControl.get(key)).toMatchObject({
      parallelismMax: 1,
      rateMax: 50,
      ratePeriod: 120,
      isPinnedParallelism: true,
      isPinnedRate: true,
    });
    for (const n of [1, 2, 3, 4]) {
      await client.publishJSON({
        url: destination.url,
        body: { n },
        flowControl: { key, parallelism: 4 },
      });
    }
    await waitFor(() => destination.received.length === 4, 'four deliveries');
    expect(mostRunning()).toBe(1);

    await client.flowControl.unpin(key, { parallelism: true });
    expect(await client.flowControl.get(key)).toMatchObject({
      isPinnedParallelism: false,
      isPinnedRate: true,
      rateMax: 50,
    });
    await client.flowControl.unpin(key, { rate: true });
    expect((await client.flowControl.get(key)).isPinnedRate).toBe(false);

    const global = await client.flowControl.getGlobalParallelism();
    expect(global).toEqual({ parallelismMax: 32, parallelismCount: expect.any(Number) });
    await expect(client.flowControl.get('never-used-key')).rejects.toMatchObject({ status: 404 });
  });
});

describe('durability', () => {
  it('delivers a delayed message once after the broker restarts on the same state file', async () => {
    const stateFile = join(directory, 'restart.db');
    const destination = await startReceiver();
    const first = await startBroker(stateFile);
    const firstClient = new Client({ baseUrl: first.url, token, retry: false });
    const { messageId } = await firstClient.publishJSON({
      url: destination.url,
      body: { survives: true },
      delay: '10m',
    });
    await first.close();

    const second = await startBroker(stateFile);
    try {
      const secondClient = new Client({ baseUrl: second.url, token, retry: false });
      expect((await secondClient.messages.get(messageId)).body).toBe('{"survives":true}');
      clockOffsetMs += 11 * 60_000;
      second.tick();
      await waitFor(() => destination.received.length === 1, 'the delivery after restart');
      expect(header(destination.received[0], 'upstash-message-id')).toBe(messageId);
      await waitUntilGone(secondClient, messageId);
      expect(destination.received).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('keeps URL groups, flow-control settings and logs across a restart', async () => {
    const stateFile = join(directory, 'restart-state.db');
    const first = await startBroker(stateFile);
    const firstClient = new Client({ baseUrl: first.url, token, retry: false });
    const endpoint = { name: 'kept', url: 'https://example.com/kept' };
    await firstClient.urlGroups.addEndpoints({ name: 'kept-group', endpoints: [endpoint] });
    await firstClient.flowControl.pin('kept-key', { parallelism: 2 });
    await firstClient.flowControl.pause('kept-key');
    const [published] = await firstClient.publish({
      urlGroup: 'kept-group',
      body: 'x',
      delay: '1h',
    });
    await first.close();

    const second = await startBroker(stateFile);
    try {
      const secondClient = new Client({ baseUrl: second.url, token, retry: false });
      expect((await secondClient.urlGroups.get('kept-group')).endpoints).toEqual([endpoint]);
      expect(await secondClient.flowControl.get('kept-key')).toMatchObject({
        isPaused: true,
        isPinnedParallelism: true,
        parallelismMax: 2,
      });
      const logs = await logsOf(secondClient, [published?.messageId ?? '']);
      expect(logs.map((log) => [log.state, log.urlGroup, log.endpointName])).toEqual([
        ['CREATED', 'kept-group', 'kept'],
      ]);
    } finally {
      await second.close();
    }
  });
});
