// The Node worker unreachable under a mixed load (its proxy answers every delivery 500 without
// passing it on), then reachable again. The edge answers every request as before; QStash retries
// the email deliveries with their backoff, and once the worker is back each email is sent once.
import { expect, it } from 'vitest';
import { jobsSystemForFile } from './harness/jobs-system.ts';
import {
  expectEveryJobHandedOver,
  expectEveryJobOnce,
  expectNoAcceptedWriteLost,
  expectReadiness,
  startMixedLoad,
  summaryLine,
  unexpectedAnswers,
} from './harness/mixed-load.ts';

// Email retries back off from 100 ms to 26 s here (10 s to an hour in production): an outage of
// seconds costs a few of the five retries an email gets.
const system = jobsSystemForFile({ retryDelayScale: 0.01 });

it('keeps the edge answering, and sends each email once the worker is back', {
  timeout: 120_000,
}, async () => {
  const load = await startMixedLoad(system());
  await load.everyOperation();

  load.phase('outage');
  system().workerProxy.setRules([{ kind: 'fail-before', rate: 1 }]);
  await load.everyOperation();
  // The edge's readiness does not depend on the Node worker.
  await expectReadiness(system(), []);
  system().workerProxy.setRules([]);

  load.phase('after');
  await load.everyOperation();
  await load.stop();

  expect(unexpectedAnswers(load)).toEqual([]);
  const refusedDeliveries = system().workerProxy.counts['fail-before'];
  expect(refusedDeliveries).toBeGreaterThan(0);
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const jobs = await expectEveryJobOnce(system());
  await expectEveryJobHandedOver(system());
  console.log(summaryLine('worker-down', load, writes, jobs, { refusedDeliveries }));
});
