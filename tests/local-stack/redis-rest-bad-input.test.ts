// Raw HTTP against the local Upstash REST server: malformed and refused requests get Upstash's
// status codes and `{ error }` bodies, and the server keeps answering the official client after
// each. Stateless on purpose: the contract tests share database 9 and flush it.
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import type { RedisBackend } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

const token = 'bad-input-test-token';
const maxBodyBytes = 64 * 1024;
let backend: RedisBackend;
let server: RunningHttpServer;
let redis: Redis;

beforeAll(async () => {
  backend = await connectRespBackend('redis://127.0.0.1:6379/9');
  server = await startRedisRestServer({ port: 0, token, backend, maxBodyBytes });
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
