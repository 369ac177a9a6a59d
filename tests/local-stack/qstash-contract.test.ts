// The local QStash broker against the official @upstash/qstash Client and Receiver: what a user
// of the real service would see, from publishing to signed deliveries, retries, the DLQ, queues,
// schedules and a broker restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Receiver } from '@upstash/qstash';
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
});
