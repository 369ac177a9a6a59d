// A job's lease in Redis as two deliveries see it: while one holds the job, the other is told to
// come back later, and a long job's progress reports keep it held. The store on the local Upstash
// REST server in front of the real Redis (database 7, shared with the jobs tests, which never
// flush it; every key here is new), with a clock the test moves.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { createJobStateStore } from '../../src/jobs/job-state.ts';
import { UpstashRedis } from '../../src/lib/redis.ts';
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
  const store = createJobStateStore(new UpstashRedis({ url: server.url, token }), () => now);
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
