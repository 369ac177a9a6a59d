// Job handlers whose answer is lost after they did their work (the process died between the
// effect and its answer, as QStash sees it), under a mixed load: both fault proxies pass a
// delivery on, then answer QStash 500 in its place, for half of the first two attempts of every
// job (the emails on the Node worker; the audit records, cache warm-ups and broadcasts on the
// edge). QStash delivers each such job again; its record says it is done, so the next delivery
// does nothing, and every email is sent and every audit row written exactly once.
import { expect, it } from 'vitest';
import { jobsSystemForFile } from './harness/jobs-system.ts';
import {
  expectEveryJobHandedOver,
  expectEveryJobOnce,
  expectNoAcceptedWriteLost,
  startMixedLoad,
  summaryLine,
  unexpectedAnswers,
} from './harness/mixed-load.ts';

const system = jobsSystemForFile();

it('delivers again each job whose answer was lost, and its effect happens once', {
  timeout: 120_000,
}, async () => {
  const answerLost = { kind: 'fail-after', rate: 0.5, maxRetried: 1 } as const;
  system().workerProxy.setRules([{ ...answerLost, path: /^\/jobs\/email\./ }]);
  system().edgeProxy.setRules([
    { ...answerLost, path: /^\/jobs\/(audit\.record|product\.cache-warm|partner\.broadcast)$/ },
  ]);
  const load = await startMixedLoad(system());
  await load.everyOperation(2);
  await load.stop();

  expect(unexpectedAnswers(load)).toEqual([]);
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const jobs = await expectEveryJobOnce(system());
  await expectEveryJobHandedOver(system());
  const lostWorkerAnswers = system().workerProxy.counts['fail-after'];
  const lostEdgeAnswers = system().edgeProxy.counts['fail-after'];
  expect(lostWorkerAnswers).toBeGreaterThan(0);
  expect(lostEdgeAnswers).toBeGreaterThan(0);
  // Each email was delivered once more for every answer lost on its way back.
  const emailDeliveries = system().workerProxy.counts.requests;
  expect(emailDeliveries).toBeGreaterThanOrEqual(system().smtp.messages.length + lostWorkerAnswers);
  console.log(
    summaryLine('handler-crash', load, writes, jobs, {
      lostWorkerAnswers,
      lostEdgeAnswers,
      emailDeliveries,
    }),
  );
});
