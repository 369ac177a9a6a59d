// Which failures are a backend's (503: retry later) and which are ours (500: a retry cannot fix
// them), as the real clients raise them: libSQL against servers that answer 503 or 401, Upstash
// Redis unreachable or refusing a command, QStash unreachable or refusing a message.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LibsqlBatchError } from '@libsql/client/http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { faultyBackend } from '../../src/platform/backend-faults.ts';
import { createDatabase } from '../../src/platform/database.ts';
import { createQueue } from '../../src/platform/queue.ts';
import { createRedis } from '../../src/platform/redis.ts';
import { closedPortUrl, startHangingServer } from '../support/dead-endpoints.ts';
import { startTestStack, testDatabase } from '../support/test-stack.ts';

let stack: LocalStack;
const answering: Server[] = [];

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 5 });
});

afterAll(async () => {
  await stack?.close();
  for (const server of answering) server.close();
});

/** A server that answers every request with `status`, as a proxy in front of a backend might. */
async function answeringWith(status: number): Promise<string> {
  const server = createServer((_, response) => {
    response.writeHead(status, { 'content-type': 'text/plain' }).end('no');
  });
  answering.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

describe('the database', () => {
  const query = (url: string) =>
    failureOf(createDatabase(url, 'token', testDatabase).run(sql`select 1`));

  it('is at fault when unreachable, answering 5xx or busy', async () => {
    expect(faultyBackend(await query(await closedPortUrl()))).toBe('database');
    expect(faultyBackend(await query(await answeringWith(503)))).toBe('database');
    const busy = new LibsqlBatchError('database is locked', 1, 'SQLITE_BUSY');
    expect(faultyBackend(new Error('Failed query', { cause: busy }))).toBe('database');
  });

  it('is not when our token is refused or a statement is wrong', async () => {
    expect(faultyBackend(await query(await answeringWith(401)))).toBeUndefined();
    const database = createDatabase(
      stack.env.TURSO_DATABASE_URL,
      stack.env.TURSO_AUTH_TOKEN,
      testDatabase,
    );
    expect(faultyBackend(await failureOf(database.run(sql`select * from no_such_table`)))).toBe(
      undefined,
    );
  });
});

describe('Upstash Redis', () => {
  it('is at fault when unreachable, not when it refuses a command', async () => {
    const down = createRedis({
      url: await closedPortUrl(),
      token: 'token',
      timeoutMs: 10_000,
    });
    expect(faultyBackend(await failureOf(down.get('key')))).toBe('redis');
    const redis = createRedis({
      url: stack.env.UPSTASH_REDIS_REST_URL,
      token: stack.env.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs: 10_000,
    });
    const key = `backend-faults:${crypto.randomUUID()}`;
    await redis.set(key, 'not a number', { ex: 60 });
    expect(faultyBackend(await failureOf(redis.incr(key)))).toBeUndefined();
  });

  it('is at fault when it takes longer than its timeout to answer, which fails at once', async () => {
    const hanging = await startHangingServer();
    try {
      const slow = createRedis({ url: hanging.url, token: 'token', timeoutMs: 200 });
      const started = Date.now();
      const error = await failureOf(slow.get('key'));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(faultyBackend(error)).toBe('redis');
      expect(String(error)).toContain('no answer within 200 ms');
    } finally {
      await hanging.close();
    }
  });
});

describe('the database, slow', () => {
  it('is at fault when it takes longer than its timeout to answer', async () => {
    const hanging = await startHangingServer();
    try {
      const slow = createDatabase(hanging.url, 'token', { timeoutMs: 200 });
      const error = await failureOf(slow.run(sql`select 1`));
      expect(faultyBackend(error)).toBe('database');
      const reasons: string[] = [];
      for (let cause = error; cause instanceof Error; cause = cause.cause)
        reasons.push(cause.message);
      expect(reasons.join(' / ')).toContain('no answer within 200 ms');
    } finally {
      await hanging.close();
    }
  });
});

describe('QStash', () => {
  const message = { destination: 'https://api.example.test/jobs/audit.record', body: {} };

  it('is at fault when unreachable, not when it refuses a message', async () => {
    const down = createQueue({ QSTASH_URL: await closedPortUrl(), QSTASH_TOKEN: 'token' });
    expect(faultyBackend(await failureOf(down.publish(message)))).toBe('queue');
    const queue = createQueue(stack.env);
    expect(faultyBackend(await failureOf(queue.publish({ ...message, retries: -1 })))).toBe(
      undefined,
    );
  });
});
