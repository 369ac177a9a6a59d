// Raw HTTP against the local Upstash REST server: malformed and refused requests get Upstash's
// status codes and `{ error }` bodies, and the server keeps answering the official client after
// each; subscriptions' event streams byte for byte. Stateless on purpose: the contract tests share
// database 9 and flush it.
import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { type RedisBackend, RedisErrorReply } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

const token = 'bad-input-test-token';
const maxBodyBytes = 64 * 1024;
const sseHeartbeatMs = 50;
let backend: RedisBackend;
let server: RunningHttpServer;
let redis: Redis;

beforeAll(async () => {
  backend = await connectRespBackend('redis://127.0.0.1:6379/9');
  server = await startRedisRestServer({ port: 0, token, backend, maxBodyBytes, sseHeartbeatMs });
  redis = new Redis({ url: server.url, token });
});

afterAll(async () => {
  await server?.close();
  await backend?.close();
});

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: response.status, json: await response.json() };
}

async function expectStillServing(): Promise<void> {
  expect(await redis.echo('still here')).toBe('still here');
}

describe('malformed requests', () => {
  it('answers 400 to malformed JSON', async () => {
    const { status, json } = await post('/', '["SET", "k"');
    expect(status).toBe(400);
    expect(json).toEqual({
      error: expect.stringMatching(/^ERR failed to parse request body as JSON/),
    });
    await expectStillServing();
  });

  it('answers 400 to a body that is not a command array', async () => {
    for (const body of ['{"command":"GET"}', '"GET"', '[]', '["GET", {"k": 1}]', '[null]']) {
      const { status, json } = await post('/', body);
      expect(status, body).toBe(400);
      expect(json, body).toEqual({ error: expect.stringMatching(/^ERR /) });
    }
    const pipeline = await post('/pipeline', '["GET", "k"]');
    expect(pipeline.status).toBe(400);
    expect(pipeline.json).toEqual({ error: expect.stringMatching(/^ERR /) });
    await expectStillServing();
  });

  it("answers 400 with Redis's message to an unknown command or wrong arity", async () => {
    const unknown = await post('/', '["NOSUCHCOMMAND", "x"]');
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      error: expect.stringMatching(/^ERR unknown command 'NOSUCHCOMMAND'/),
    });
    const arity = await post('/', '["GET"]');
    expect(arity).toEqual({
      status: 400,
      json: { error: "ERR wrong number of arguments for 'get' command" },
    });
    await expectStillServing();
  });

  it('answers 413 to an oversized body without reaching Redis', async () => {
    const huge = JSON.stringify(['SET', 'bad-input:huge', 'x'.repeat(maxBodyBytes)]);
    const { status, json } = await post('/', huge);
    expect(status).toBe(413);
    expect(json).toEqual({ error: 'ERR max request size exceeded' });
    await expectStillServing();
  });

  it('refuses commands that would change the shared connection', async () => {
    const select = await post('/', '["SELECT", "0"]');
    expect(select).toEqual({
      status: 400,
      json: { error: "ERR Command is not available: 'SELECT'" },
    });
    // Subscriptions have their own endpoints, never a command in a body.
    expect(await post('/pipeline', '[["SUBSCRIBE", "chat"]]')).toEqual({
      status: 200,
      json: [{ error: "ERR Command is not available: 'SUBSCRIBE'" }],
    });
    await expectStillServing();
  });

  it('answers 405 to methods Upstash does not accept', async () => {
    const response = await fetch(`${server.url}/get/k`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(405);
    await expectStillServing();
  });
});

describe('authentication', () => {
  it('answers 401 Unauthorized to a missing or wrong token', async () => {
    const missing = await fetch(server.url, { method: 'POST', body: '["PING"]' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: 'Unauthorized' });

    const wrong = await post('/', '["PING"]', { authorization: 'Bearer not-the-token' });
    expect(wrong).toEqual({ status: 401, json: { error: 'Unauthorized' } });

    const wrongClient = new Redis({ url: server.url, token: 'not-the-token' });
    await expect(wrongClient.get('k')).rejects.toThrow('Unauthorized');
    await expectStillServing();
  });

  it('accepts the token as the _token query parameter', async () => {
    const response = await fetch(`${server.url}/echo/hi?_token=${token}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ result: 'hi' });
  });
});

describe('pipelines and transactions with failing commands', () => {
  it('answers 200 to a pipeline, with an error entry for each failing command', async () => {
    const { status, json } = await post(
      '/pipeline',
      '[["ECHO", "a"], ["NOSUCHCOMMAND"], ["ECHO", 42]]',
    );
    expect(status).toBe(200);
    expect(json).toEqual([
      { result: 'a' },
      { error: expect.stringMatching(/^ERR unknown command 'NOSUCHCOMMAND'/) },
      { result: '42' },
    ]);
  });

  it('discards a whole transaction with a queue-time error', async () => {
    const key = `bad-input:tx:${process.pid}`;
    const { status, json } = await post(
      '/multi-exec',
      JSON.stringify([['SET', key, 'v'], ['NOSUCHCOMMAND']]),
    );
    expect(status).toBe(400);
    expect(json).toEqual({ error: expect.stringMatching(/^ERR unknown command 'NOSUCHCOMMAND'/) });
    expect(await redis.exists(key)).toBe(0);
  });

  it('keeps run-time errors per command inside a transaction', async () => {
    const key = `bad-input:tx-run:${process.pid}`;
    const { status, json } = await post(
      '/multi-exec',
      JSON.stringify([
        ['SET', key, 'text'],
        ['INCR', key],
        ['DEL', key],
      ]),
    );
    expect(status).toBe(200);
    expect(json).toEqual([
      { result: 'OK' },
      { error: 'ERR value is not an integer or out of range' },
      { result: 1 },
    ]);
  });
});

describe('wire format', () => {
  it('base64-encodes every string but OK, leaving numbers, null and errors plain', async () => {
    const script = "return {'bar', 7, false, {'nested'}, redis.status_reply('PONG')}";
    const base64 = { 'upstash-encoding': 'base64' };
    expect(await post('/', JSON.stringify(['EVAL', script, 0]), base64)).toEqual({
      status: 200,
      json: { result: ['YmFy', 7, null, ['bmVzdGVk'], 'UE9ORw=='] },
    });
    expect(await post('/', '["SET", "bad-input:ok", "v", "PX", 1000]', base64)).toEqual({
      status: 200,
      json: { result: 'OK' },
    });
    expect(await post('/', '["GET"]', base64)).toEqual({
      status: 400,
      json: { error: "ERR wrong number of arguments for 'get' command" },
    });
    expect(await post('/', JSON.stringify(['EVAL', script, 0]))).toEqual({
      status: 200,
      json: { result: ['bar', 7, null, ['nested'], 'PONG'] },
    });
  });

  it('runs the path form, with a POST body as the value and query parameters after it', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const call = async (path: string, init: RequestInit = {}) =>
      (await fetch(`${server.url}${path}`, { headers, ...init })).json();
    expect(await call('/echo/a%2Fb%20c')).toEqual({ result: 'a/b c' });
    expect(await call('/echo', { method: 'POST', body: 'posted/value' })).toEqual({
      result: 'posted/value',
    });
    const script = encodeURIComponent('return ARGV[1] .. ARGV[2] .. ARGV[3]');
    expect(await call(`/eval/${script}/0?EX=100`, { method: 'POST', body: 'v:' })).toEqual({
      result: 'v:EX100',
    });
  });
});

describe('subscriptions as Server-Sent Events', () => {
  const authorization = `Bearer ${token}`;

  function subscribe(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization, accept: 'text/event-stream' },
      body: '[]',
      ...init,
    });
  }

  /** The stream's text, read until `enough` holds for it. */
  async function readUntil(response: Response, enough: (text: string) => boolean) {
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    while (!enough(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    return { text, reader };
  }

  const HEARTBEAT = ': keep-alive\n\n';
  const events = (text: string) => text.replaceAll(HEARTBEAT, '');
  const subscribers = async (channel: string) =>
    (await redis.exec<[string, number]>(['PUBSUB', 'NUMSUB', channel]))[1];

  it('streams SUBSCRIBE as one data line per push, a payload line break starting a new one', async () => {
    const channel = `sse:${randomUUID()}`;
    const second = `${channel}:second`;
    const response = await subscribe(`/subscribe/${channel}/${encodeURIComponent(second)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');

    expect(await redis.publish(channel, 'a,b\nc')).toBe(1);
    expect(await redis.publish(second, { json: 'as sent' })).toBe(1);
    const { text, reader } = await readUntil(response, (seen) => seen.includes('as sent'));
    await reader.cancel();
    expect(events(text)).toBe(
      [
        `data: subscribe,${channel},1\n\n`,
        `data: subscribe,${second},2\n\n`,
        `data: message,${channel},a,b\ndata: c\n\n`,
        `data: message,${second},{"json":"as sent"}\n\n`,
      ].join(''),
    );
  });

  it('streams PSUBSCRIBE with the pattern and the channel that matched, payloads never base64', async () => {
    const room = `sse-room:${randomUUID()}`;
    const response = await subscribe(`/psubscribe/${room}:*`, {
      headers: { authorization, 'upstash-encoding': 'base64' },
    });
    expect(await redis.publish(`${room}:7`, 'hello')).toBe(1);
    const { text, reader } = await readUntil(response, (seen) => seen.includes('hello'));
    await reader.cancel();
    expect(events(text)).toBe(
      `data: psubscribe,${room}:*,1\n\ndata: pmessage,${room}:*,${room}:7,hello\n\n`,
    );
  });

  it('keeps a quiet stream alive with comment lines', async () => {
    const response = await subscribe(`/subscribe/sse-quiet:${randomUUID()}`);
    const { text, reader } = await readUntil(response, (seen) => seen.includes(HEARTBEAT));
    await reader.cancel();
    expect(text).toMatch(/^data: subscribe,sse-quiet:[^,]+,1\n\n: keep-alive\n\n/);
  });

  it("releases the subscription's Redis connection when the client goes away", async () => {
    const channel = `sse-leave:${randomUUID()}`;
    const response = await subscribe(`/subscribe/${channel}`);
    expect(await subscribers(channel)).toBe(1);
    await response.body?.cancel();
    await vi.waitFor(async () => expect(await subscribers(channel)).toBe(0));
    await expectStillServing();
  });

  it('releases a subscription whose client left before Redis confirmed it', async () => {
    const channel = `sse-early:${randomUUID()}`;
    let released = 0;
    const slow: RedisBackend = {
      description: 'slow to subscribe',
      call: (command) => backend.call(command),
      transaction: (commands) => backend.transaction(commands),
      close: async () => {},
      subscribe: async (mode, names, listener) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const subscription = await backend.subscribe?.(mode, names, listener);
        if (subscription === undefined || subscription instanceof RedisErrorReply) {
          throw new Error(`no subscription: ${subscription?.message}`);
        }
        return {
          close: () => {
            released++;
            subscription.close();
          },
        };
      },
    };
    const slowServer = await startRedisRestServer({ port: 0, token, backend: slow });
    try {
      const leaving = new AbortController();
      const request = fetch(`${slowServer.url}/subscribe/${channel}`, {
        method: 'POST',
        headers: { authorization },
        signal: leaving.signal,
      });
      setTimeout(() => leaving.abort(), 20);
      await expect(request).rejects.toThrow(/abort/i);
      await vi.waitFor(() => expect(released).toBe(1));
      await vi.waitFor(async () => expect(await subscribers(channel)).toBe(0));
    } finally {
      await slowServer.close();
    }
  });

  it('refuses a subscription without a name or a token, and over HEAD', async () => {
    expect(await subscribe('/subscribe').then((r) => r.json())).toEqual({
      error: "ERR wrong number of arguments for 'subscribe' command",
    });
    const noPattern = await subscribe('/psubscribe/');
    expect(noPattern.status).toBe(400);
    expect(await noPattern.json()).toEqual({
      error: "ERR wrong number of arguments for 'psubscribe' command",
    });
    const anonymous = await subscribe('/subscribe/chat', { headers: {} });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'Unauthorized' });
    const head = await subscribe('/subscribe/chat', { method: 'HEAD', body: null });
    expect(head.status).toBe(405);
    await expectStillServing();
  });
});

describe('what Upstash answers and Redis 7.0 does not, refused', () => {
  it("answers HGETDEL's argument errors with Redis 8's messages", async () => {
    const hgetdel = (...args: (string | number)[]) =>
      post('/', JSON.stringify(['HGETDEL', `bad-input:${randomUUID()}`, ...args]));
    expect(await hgetdel('FIELDS', 1)).toEqual({
      status: 400,
      json: { error: "ERR wrong number of arguments for 'hgetdel' command" },
    });
    expect(await hgetdel('FIELD', 1, 'f')).toEqual({
      status: 400,
      json: { error: 'ERR Mandatory argument FIELDS is missing or not at the right position' },
    });
    for (const count of [0, -1, '01', 'x', '99999999999999999999']) {
      expect(await hgetdel('FIELDS', count, 'f'), String(count)).toEqual({
        status: 400,
        json: { error: 'ERR Number of fields must be a positive integer' },
      });
    }
    expect(await hgetdel('FIELDS', 2, 'f')).toEqual({
      status: 400,
      json: { error: 'ERR The `numfields` parameter must match the number of arguments' },
    });
  });

  it('discards a transaction with a short HGETDEL as Redis does a wrong arity, and keeps WRONGTYPE per command', async () => {
    const key = `bad-input:hgetdel:${randomUUID()}`;
    expect(
      await post(
        '/multi-exec',
        JSON.stringify([
          ['SET', key, 'v'],
          ['HGETDEL', key],
        ]),
      ),
    ).toEqual({
      status: 400,
      json: { error: "ERR wrong number of arguments for 'hgetdel' command" },
    });
    expect(await redis.exists(key)).toBe(0);
    expect(
      await post(
        '/multi-exec',
        JSON.stringify([
          ['SET', key, 'v'],
          ['HGETDEL', key, 'FIELDS', 1, 'f'],
          ['DEL', key],
        ]),
      ),
    ).toEqual({
      status: 200,
      json: [
        { result: 'OK' },
        { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
        { result: 1 },
      ],
    });
  });

  it("answers SCAN WITHTYPE's errors as SCAN's own", async () => {
    expect(await post('/', '["SCAN", "nope", "WITHTYPE"]')).toEqual({
      status: 400,
      json: { error: 'ERR invalid cursor' },
    });
    expect(await post('/', '["SCAN", "0", "COUNT", "x", "WITHTYPE"]')).toEqual({
      status: 400,
      json: { error: 'ERR value is not an integer or out of range' },
    });
    expect(await post('/', '["SCAN", "0", "WITHTYPE", "SIDEWAYS"]')).toEqual({
      status: 400,
      json: { error: 'ERR syntax error' },
    });
  });
});
