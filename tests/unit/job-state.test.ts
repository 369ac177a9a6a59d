// A job's lease in Redis as two deliveries see it: while one holds the job, the other is told to
// come back later, and a long job's progress reports keep it held; a job whose completion Redis
// will not take is still done once. The store on the local Upstash REST server in front of the
// real Redis (database 7, shared with the jobs tests, which never flush it; every key here is
// new), with a clock the test moves.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { type JobHandlers, runJobDelivery } from '../../src/jobs/job-delivery.ts';
import { createJobStateStore } from '../../src/jobs/job-state.ts';
import { AppError } from '../../src/lib/errors.ts';
import { createLogger, type LogFields } from '../../src/lib/logger.ts';
import { createRedis } from '../../src/platform/redis.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'job-state-test-token';
let server: RunningHttpServer;

beforeAll(async () => {
  server = await startTestRedisRest({ redisDb: 7, token });
});

afterAll(async () => {
  await server?.close();
});

function storeAt(start: number) {
  let now = start;
  const store = createJobStateStore(
    createRedis({ url: server.url, token, timeoutMs: 10_000 }),
    () => now,
  );
  return { store, advance: (ms: number) => (now += ms) };
}

const minute = 60_000;

describe('a delivery holding a job', () => {
  it('keeps it from another delivery until its lease ends', async () => {
    const { store, advance } = storeAt(Date.now());
    const key = randomUUID();
    expect(await store.claim(key, 'digest.weekly', undefined, 5 * minute)).toMatchObject({
      outcome: 'claimed',
    });

    advance(4 * minute);
    expect(await store.claim(key, 'digest.weekly', undefined, 5 * minute)).toEqual({
      outcome: 'busy',
      retryAfterSeconds: 60,
    });
    advance(2 * minute);
    expect(await store.claim(key, 'digest.weekly', undefined, 5 * minute)).toMatchObject({
      outcome: 'claimed',
      attempts: 2,
    });
  });

  it('renews its lease by the whole lease length with each progress report', async () => {
    const { store, advance } = storeAt(Date.now());
    const key = randomUUID();
    await store.claim(key, 'digest.weekly', undefined, 5 * minute);

    advance(4 * minute);
    await store.progress(key, 'digest.weekly', 50);
    advance(4 * minute);
    expect(await store.claim(key, 'digest.weekly', undefined, 5 * minute)).toEqual({
      outcome: 'busy',
      retryAfterSeconds: 60,
    });
    expect(await store.read(key)).toMatchObject({
      state: { status: 'processing', progress: 50 },
    });
  });

  it('lets go of the job when it completes', async () => {
    const { store } = storeAt(Date.now());
    const key = randomUUID();
    await store.claim(key, 'digest.weekly', undefined, 5 * minute);
    await store.complete(key, 'digest.weekly', { sent: 3 });

    expect(await store.read(key)).not.toHaveProperty('leaseUntil');
    expect(await store.claim(key, 'digest.weekly', undefined, 5 * minute)).toEqual({
      outcome: 'completed',
    });
  });
});

describe('a delivery whose completion Redis will not take', () => {
  /**
   * A digest run delivered with one message id, on a store whose completions go through a proxy
   * that fails the first `failedCompletions` of them.
   */
  async function runOnFlakyCompletions(failedCompletions: number) {
    const proxy = await startFaultProxy({
      target: server.url,
      rules: [{ kind: 'fail-before', first: failedCompletions }],
    });
    const direct = createJobStateStore(
      createRedis({ url: server.url, token, timeoutMs: 10_000 }),
      Date.now,
    );
    const proxied = createJobStateStore(
      createRedis({ url: proxy.url, token, timeoutMs: 10_000 }),
      Date.now,
    );
    const logLines: LogFields[] = [];
    const runtime = {
      jobState: { ...direct, complete: proxied.complete },
      logger: createLogger('debug', (line) => logLines.push(JSON.parse(line))),
    };
    let runs = 0;
    const handlers: JobHandlers = {
      'digest.weekly': async () => {
        runs += 1;
        return { users: 0 };
      },
    };
    const delivery = {
      body: new TextEncoder().encode(JSON.stringify({ type: 'digest.weekly', payload: {} })),
      messageId: `msg_${randomUUID()}`,
    };
    const deliver = () => runJobDelivery(runtime, handlers, delivery, 'digest.weekly');
    return { deliver, runs: () => runs, logLines, proxy };
  }

  it('tries again and records it, so a repeated delivery runs nothing', async () => {
    const run = await runOnFlakyCompletions(2);
    try {
      expect(await run.deliver()).toMatchObject({ duplicate: false, result: { users: 0 } });
      expect(await run.deliver()).toMatchObject({ duplicate: true });
      expect(run.runs()).toBe(1);
      expect(run.proxy.counts['fail-before']).toBe(2);
    } finally {
      await run.proxy.close();
    }
  });

  it('answers success when Redis never takes it: the lease keeps a repeated delivery out', async () => {
    const run = await runOnFlakyCompletions(100);
    try {
      expect(await run.deliver()).toMatchObject({ duplicate: false, result: { users: 0 } });
      expect(run.logLines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          msg: 'job done, but its completion could not be recorded',
        }),
      );
      const again = await run.deliver().catch((error: unknown) => error);
      expect(again).toBeInstanceOf(AppError);
      expect(again).toMatchObject({ code: 'JOB_IN_PROGRESS' });
      expect(run.runs()).toBe(1);
    } finally {
      await run.proxy.close();
    }
  });
});
