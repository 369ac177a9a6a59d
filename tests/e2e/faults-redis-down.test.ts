// Redis stopped under a mixed load, then started again on the same port, empty, as after a crash.
// Meanwhile reads fail open (the general rate limit and the cache step aside; the database
// answers), and what cannot run without Redis is refused 503 SERVICE_UNAVAILABLE: an authenticated
// write naming the backend, redis (without the deny-list a signed-out token cannot be told from a
// good one), and a registration naming the signup policy, which fails closed. Readiness names
// redis while it is down. Afterwards every accepted write is stored, and every stored account's
// jobs ran once.
import { expect, it } from 'vitest';
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

// The jobs' retries (a cache warm-up gets two) outlast an outage of seconds here, as in
// production they outlast one of a minute or two.
const system = jobsSystemForFile({ retryDelayScale: 0.05 });

const refusedWithoutRedis = (answer: LoadAnswer) =>
  during(answer, 'outage') &&
  ((answer.operation === 'create' && unavailable({ backend: 'redis' })(answer)) ||
    (answer.operation === 'register' && unavailable({ policy: 'signup' })(answer)));

it('serves reads, refuses writes with 503, and loses nothing', { timeout: 120_000 }, async () => {
  const load = await startMixedLoad(system());
  await load.everyOperation();

  load.phase('outage');
  await system().redis.stop();
  await expectReadiness(system(), ['redis']);
  await load.everyOperation();
  await system().redis.start();
  await expectReadiness(system(), []);

  load.phase('after');
  await load.everyOperation();
  await load.stop();

  expect(unexpectedAnswers(load, refusedWithoutRedis)).toEqual([]);
  const refused = load.answers.filter(refusedWithoutRedis);
  expect(new Set(refused.map((answer) => answer.operation))).toEqual(
    new Set(['create', 'register']),
  );
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const jobs = await expectEveryJobOnce(system());
  await expectEveryJobHandedOver(system());
  console.log(summaryLine('redis-down', load, writes, jobs));
});
