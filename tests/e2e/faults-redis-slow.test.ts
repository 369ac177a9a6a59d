// Upstash answering every request 5 s late under a mixed load (a fault proxy in front of the REST
// server, for the Worker and the Node worker alike): slow, not down, so the Redis client's own
// bound (REDIS_TIMEOUT_MS) is above the delay here, and the request path is held to its own,
// shorter bounds on waiting for Redis: RATE_LIMIT_TIMEOUT_MS for the rate limits and the
// deny-list, CACHE_TIMEOUT_MS for the cache. No request waits for the late replies: reads fail open
// and are served from the database, an authenticated write is refused 503 naming redis, a
// registration 503 naming the signup policy, and every answer comes long before
// REQUEST_TIMEOUT_MS. Readiness names redis while it is slow. Job deliveries wait for Redis and
// finish late. Afterwards every accepted write is stored, and every stored account's jobs ran once.
//
// Why REDIS_TIMEOUT_MS is above the delay: at or below it, a job's claim can time out at the client
// and still land in Redis, and its lease (5 minutes) then holds the job back. QStash waits that
// out in production (the 429's Retry-After); the broker's shrunk retries here cannot.
import { expect, it } from 'vitest';
import { eventually } from './harness/eventually.ts';
import { jobsSystemForFile } from './harness/jobs-system.ts';
import {
  during,
  expectEveryJobHandedOver,
  expectEveryJobOnce,
  expectNoAcceptedWriteLost,
  expectReadiness,
  type LoadAnswer,
  startMixedLoad,
  summaryLine,
  unavailable,
  unexpectedAnswers,
} from './harness/mixed-load.ts';

const requestTimeoutMs = 10_000;
const redisTimeout = { REDIS_TIMEOUT_MS: '8000' };
const system = jobsSystemForFile({
  // The jobs' retries outlast the slow spell, as in production they outlast minutes of it.
  retryDelayScale: 0.05,
  vars: {
    ...redisTimeout,
    // Twice the production bounds: far below the delay, and above what a loaded test machine
    // takes to answer when Redis is not slow.
    RATE_LIMIT_TIMEOUT_MS: '2000',
    CACHE_TIMEOUT_MS: '1000',
    REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
  },
  nodeVars: redisTimeout,
});

const refusedWhileSlow = (answer: LoadAnswer) =>
  during(answer, 'slow') &&
  ((answer.operation === 'create' && unavailable({ backend: 'redis' })(answer)) ||
    (answer.operation === 'register' && unavailable({ policy: 'signup' })(answer)));

it('answers within the deadline, serves reads, and loses nothing', {
  timeout: 120_000,
}, async () => {
  const load = await startMixedLoad(system());
  await load.everyOperation();

  load.phase('slow');
  system().redisProxy.setRules([{ kind: 'delay', delayMs: 5_000, rate: 1 }]);
  await expectReadiness(system(), ['redis']);
  await load.everyOperation();
  system().redisProxy.setRules([]);
  // Requests already held reach Upstash late still; the spell is over once the last has gone on.
  await eventually(
    'the held requests sent on',
    () => (system().redisProxy.delayed === 0 ? true : undefined),
    15_000,
  );
  await expectReadiness(system(), []);

  load.phase('after');
  await load.everyOperation();
  await load.stop();

  expect(unexpectedAnswers(load, refusedWhileSlow)).toEqual([]);
  const refused = load.answers.filter(refusedWhileSlow);
  expect(new Set(refused.map((answer) => answer.operation))).toEqual(
    new Set(['create', 'register']),
  );
  const slowestMs = Math.max(...load.answers.map((answer) => answer.durationMs));
  expect(slowestMs).toBeLessThan(requestTimeoutMs);
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const jobs = await expectEveryJobOnce(system());
  await expectEveryJobHandedOver(system());
  console.log(summaryLine('redis-slow', load, writes, jobs, { slowestMs }));
});
