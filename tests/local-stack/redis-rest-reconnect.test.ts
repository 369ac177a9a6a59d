// The RESP backend against a Redis of our own: it authenticates and selects the database from the
// URL, fails promptly while that Redis is gone, and reconnects by itself once it is back; a
// subscription's event stream ends with its Redis connection.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import type { RedisBackend } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

const password = 'reconnect-secret';
const token = 'reconnect-test-token';
let dir: string;
let port: number;
let redisProcess: ChildProcess | undefined;
const opened: { close(): Promise<void> }[] = [];

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function startRedis(): Promise<void> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  redisProcess = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  // Password set at run time so it never appears on the command line of a shared machine.
  const admin = await connectRespBackend(`redis://127.0.0.1:${port}`);
  await admin.call(['CONFIG', 'SET', 'requirepass', password].map((part) => Buffer.from(part)));
  await admin.close();
}

async function stopRedis(): Promise<void> {
  const child = redisProcess;
  redisProcess = undefined;
  if (child === undefined || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'redis-rest-reconnect-'));
  port = await freePort();
  await startRedis();
});

afterAll(async () => {
  for (const resource of opened.reverse()) await resource.close();
  await stopRedis();
  await rm(dir, { recursive: true, force: true });
});

async function connect(url: string): Promise<RedisBackend> {
  const backend = await connectRespBackend(url);
  opened.push(backend);
  return backend;
}

it('authenticates and selects the database named in the URL, and refuses a wrong password', async () => {
  const db3 = await connect(`redis://:${password}@127.0.0.1:${port}/3`);
  const db0 = await connect(`redis://default:${password}@127.0.0.1:${port}`);
  expect(db3.description).toBe(`redis redis://127.0.0.1:${port}/3`);
  await db3.call(['SET', 'where', 'three'].map((part) => Buffer.from(part)));
  expect(await db0.call([Buffer.from('GET'), Buffer.from('where')])).toBeNull();
  expect(await db3.call([Buffer.from('GET'), Buffer.from('where')])).toEqual(Buffer.from('three'));
  await expect(connectRespBackend(`redis://:wrong@127.0.0.1:${port}`)).rejects.toThrow(/WRONGPASS/);
});

it('rejects promptly when no Redis listens', async () => {
  const closedPort = await freePort();
  await expect(connectRespBackend(`redis://127.0.0.1:${closedPort}`)).rejects.toThrow(
    /cannot reach Redis/,
  );
});

it('errors while Redis is down and answers again, in the same database, once it is back', async () => {
  const backend = await connect(`redis://:${password}@127.0.0.1:${port}/5`);
  const server: RunningHttpServer = await startRedisRestServer({ port: 0, token, backend });
  opened.push(server);
  const redis = new Redis({ url: server.url, token, retry: false });

  expect(await redis.set('k', 'before')).toBe('OK');
  expect(await redis.get('k')).toBe('before');

  await stopRedis();
  await expect(redis.get('k')).rejects.toThrow(/backend unavailable/);
  const down = await fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: '["PING"]',
  });
  expect(down.status).toBe(500);
  expect(await down.json()).toEqual({ error: expect.stringMatching(/^ERR backend unavailable/) });

  await startRedis();
  expect(await redis.set('k', 'after')).toBe('OK');
  expect(await redis.get('k')).toBe('after');
  const db5 = await connect(`redis://:${password}@127.0.0.1:${port}/5`);
  expect(await db5.call([Buffer.from('GET'), Buffer.from('k')])).toEqual(Buffer.from('after'));
});

it('fails commands to a frozen Redis after the reply timeout, and recovers when it thaws', async () => {
  const backend = await connectRespBackend(`redis://:${password}@127.0.0.1:${port}`, {
    replyTimeoutMs: 300,
  });
  opened.push(backend);
  const server = await startRedisRestServer({ port: 0, token, backend });
  opened.push(server);
  const redis = new Redis({ url: server.url, token, retry: false });
  expect(await redis.incr('frozen')).toBe(1);

  redisProcess?.kill('SIGSTOP');
  try {
    await expect(redis.incr('frozen')).rejects.toThrow(/no reply from Redis within 300 ms/);
  } finally {
    redisProcess?.kill('SIGCONT');
  }
  expect(await redis.get('frozen')).toBeGreaterThanOrEqual(1);
});

it('ends a subscription stream when Redis goes away, and subscribes again once it is back', async () => {
  const backend = await connect(`redis://:${password}@127.0.0.1:${port}`);
  const server = await startRedisRestServer({ port: 0, token, backend });
  opened.push(server);
  const redis = new Redis({ url: server.url, token, retry: false });
  const subscribe = () =>
    fetch(`${server.url}/subscribe/news`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  const readAll = async (response: Response) => {
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of response.body ?? []) text += decoder.decode(chunk, { stream: true });
    return text;
  };

  const before = await subscribe();
  expect(before.status).toBe(200);
  await stopRedis();
  // The subscription's own connection, authenticated with the URL's password, dropped: the stream ends.
  expect(await readAll(before)).toBe('data: subscribe,news,1\n\n');
  const down = await subscribe();
  expect(down.status).toBe(500);
  expect(await down.json()).toEqual({ error: expect.stringMatching(/^ERR backend unavailable/) });

  await startRedis();
  const after = await subscribe();
  expect(after.status).toBe(200);
  expect(await redis.publish('news', 'back')).toBe(1);
  const reader = after.body?.getReader();
  let text = '';
  while (!text.includes('back')) {
    const chunk = await reader?.read();
    if (chunk === undefined || chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
  }
  await reader?.cancel();
  expect(text).toBe('data: subscribe,news,1\n\ndata: message,news,back\n\n');
});
