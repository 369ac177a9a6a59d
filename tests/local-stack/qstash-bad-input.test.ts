// Bad requests to the local QStash broker, sent raw with fetch as a careless client would: each
// gets QStash's status and `{"error": "..."}` body, and the broker keeps serving afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QstashBroker, startQstashBroker } from '../../local-stack/qstash/server.ts';

const token = 'bad-input-token';
const maxBodyBytes = 4096;
const destination = 'http://127.0.0.1:9/never-called';

let directory: string;
let broker: QstashBroker;

function call(path: string, init: RequestInit = {}, auth = `Bearer ${token}`): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth) headers.set('Authorization', auth);
  return fetch(`${broker.url}${path}`, { ...init, headers });
}

async function expectError(response: Response, status: number, message: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error?: unknown };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(message);
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'qstash-bad-input-'));
  broker = await startQstashBroker({
    port: 0,
    token,
    currentSigningKey: 'sig_current',
    nextSigningKey: 'sig_next',
    stateFile: join(directory, 'state.db'),
    maxBodyBytes,
  });
});

afterAll(async () => {
  await broker.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('authentication', () => {
  it('answers 401 to a missing token', async () => {
    await expectError(await call('/v2/queues', {}, ''), 401, /unauthorized/i);
  });

  it('answers 401 to a wrong token', async () => {
    const response = await call(
      `/v2/publish/${destination}`,
      { method: 'POST', body: 'x' },
      'Bearer nope',
    );
    await expectError(response, 401, /unauthorized/i);
  });
});

describe('malformed requests', () => {
  it('rejects malformed JSON on JSON endpoints', async () => {
    const queue = await call('/v2/queues', { method: 'POST', body: '{"queueName": ' });
    await expectError(queue, 400, /invalid request body/);
    const batch = await call('/v2/batch', { method: 'POST', body: '[{"destination":' });
    await expectError(batch, 400, /invalid request body/);
  });

  it('rejects JSON of the wrong shape', async () => {
    await expectError(
      await call('/v2/batch', { method: 'POST', body: '{"destination":"x"}' }),
      400,
      /expected an array/,
    );
    await expectError(
      await call('/v2/queues', { method: 'POST', body: '{"queueName":"q","parallelism":0}' }),
      400,
      /parallelism/,
    );
  });

  it('rejects a destination that is not an http(s) URL', async () => {
    const response = await call('/v2/publish/not-a-url', { method: 'POST', body: 'x' });
    await expectError(response, 400, /^invalid destination url: endpoint has invalid scheme/);
    const ftp = await call('/v2/publish/ftp://example.com/file', { method: 'POST', body: 'x' });
    await expectError(ftp, 400, /invalid destination url/);
  });

  it('rejects bad Upstash-* headers', async () => {
    const cases: Record<string, RegExp> = {
      'Upstash-Delay': /Upstash-Delay/,
      'Upstash-Retries': /Upstash-Retries/,
      'Upstash-Retry-Delay': /Upstash-Retry-Delay/,
      'Upstash-Callback': /invalid callback url/,
    };
    for (const [name, message] of Object.entries(cases)) {
      const response = await call(`/v2/publish/${destination}`, {
        method: 'POST',
        body: 'x',
        headers: { [name]: 'ten minutes(' },
      });
      await expectError(response, 400, message);
    }
  });

  it('rejects an invalid cron expression', async () => {
    for (const cron of ['every minute', '* * * *', '61 * * * *']) {
      const response = await call(`/v2/schedules/${destination}`, {
        method: 'POST',
        headers: { 'Upstash-Cron': cron },
      });
      await expectError(response, 400, /^Invalid cron expression/);
    }
  });

  it('answers 413 to a body over the size limit', async () => {
    const response = await call(`/v2/publish/${destination}`, {
      method: 'POST',
      body: 'x'.repeat(maxBodyBytes + 1),
    });
    await expectError(response, 413, /exceeds the limit/);
  });
});

describe('unknown things', () => {
  it('answers 404 to an unknown route and 405 to a wrong method', async () => {
    await expectError(await call('/v2/nothing-here'), 404, /not found/);
    await expectError(await call('/v1/publish'), 404, /not found/);
    await expectError(await call('/v2/batch'), 405, /method not allowed/);
  });

  it('answers 404 to ids that do not exist', async () => {
    await expectError(await call('/v2/messages/msg_missing'), 404, /message not found/);
    await expectError(await call('/v2/dlq/123-456', { method: 'DELETE' }), 404, /not found/);
    await expectError(await call('/v2/queues/ghost'), 404, /queue ghost not found/);
    await expectError(await call('/v2/schedules/scd_ghost'), 404, /schedule not found/);
  });
});

describe('URL groups, flow control and logs', () => {
  const json = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

  it('rejects bad URL groups and endpoints', async () => {
    const endpoints = { endpoints: [{ url: 'https://example.com/a' }] };
    await expectError(
      await call('/v2/topics/bad%20name/endpoints', json(endpoints)),
      400,
      /invalid url group name/,
    );
    await expectError(
      await call('/v2/topics/g/endpoints', { method: 'POST', body: '{"endpoints":' }),
      400,
      /invalid request body/,
    );
    await expectError(
      await call('/v2/topics/g/endpoints', json({ endpoints: [] })),
      400,
      /endpoints must be a non-empty array/,
    );
    await expectError(
      await call('/v2/topics/g/endpoints', json({ endpoints: [{ url: 'ftp://x' }] })),
      400,
      /invalid endpoint url/,
    );
    await expectError(
      await call('/v2/topics/g/endpoints', json({ endpoints: [{ name: 'no-url' }] })),
      400,
      /needs a url/,
    );
    await expectError(
      await call('/v2/topics/ghost/endpoints', { ...json(endpoints), method: 'DELETE' }),
      404,
      /url group ghost not found/,
    );
    await expectError(await call('/v2/topics/ghost'), 404, /url group ghost not found/);
    await expectError(await call('/v2/topics/ghost', { method: 'DELETE' }), 404, /not found/);
  });

  it('refuses to publish to a URL group with no endpoints left', async () => {
    const endpoint = { endpoints: [{ url: 'https://example.com/only' }] };
    expect((await call('/v2/topics/emptied/endpoints', json(endpoint))).status).toBe(200);
    const removed = await call('/v2/topics/emptied/endpoints', {
      ...json(endpoint),
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
    await expectError(
      await call('/v2/publish/emptied', { method: 'POST', body: 'x' }),
      400,
      /url group emptied has no endpoints/,
    );
  });

  it('rejects bad flow-control values and unknown keys', async () => {
    const response = await call(`/v2/publish/${destination}`, {
      method: 'POST',
      body: 'x',
      headers: {
        'Upstash-Flow-Control-Key': 'k',
        'Upstash-Flow-Control-Value': 'rate=2, period=soon',
      },
    });
    await expectError(response, 400, /Upstash-Flow-Control-Value/);
    await expectError(await call('/v2/flowControl/unknown-key'), 404, /not found/);
    await expectError(
      await call('/v2/flowControl/k/pin?parallelism=many', { method: 'POST' }),
      400,
      /parallelism must be a positive integer/,
    );
    await expectError(
      await call('/v2/flowControl/k/explode', { method: 'POST' }),
      404,
      /not found/,
    );
    await expectError(await call('/v2/flowControl/k/pause'), 405, /method not allowed/);
  });

  it('reads the logs despite a nonsense count or cursor, and only with GET', async () => {
    const response = await call('/v2/events?count=-5&cursor=abc');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ events: expect.any(Array) });
    await expectError(await call('/v2/logs', { method: 'POST' }), 405, /method not allowed/);
  });
});

describe('after all of that', () => {
  it('still accepts and stores a good message', async () => {
    const response = await call(`/v2/publish/${destination}`, {
      method: 'POST',
      body: '{"ok":true}',
      headers: { 'Content-Type': 'application/json', 'Upstash-Delay': '1h' },
    });
    expect(response.status).toBe(201);
    const { messageId } = (await response.json()) as { messageId: string };
    const stored = await call(`/v2/messages/${messageId}`);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toMatchObject({ messageId, body: '{"ok":true}' });
  });
});
