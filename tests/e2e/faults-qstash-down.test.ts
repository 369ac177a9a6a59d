// The QStash broker stopped under a mixed load, then started again on the same port over the same
// state. Every request succeeds meanwhile: a change's jobs wait in the outbox when the publish
// after its commit fails, and readiness names the queue. Once QStash is back, the outbox sweep
// that hourly housekeeping runs (delivered signed, as its schedule does) hands over what was left,
// the outbox ends empty, and every stored account's jobs run exactly once.
import { expect, it } from 'vitest';
import { jobsSystemForFile } from './harness/jobs-system.ts';
import {
  expectEveryJobHandedOver,
  expectEveryJobOnce,
  expectNoAcceptedWriteLost,
  expectReadiness,
  startMixedLoad,
  summaryLine,
  sweepOutbox,
  unexpectedAnswers,
} from './harness/mixed-load.ts';

const system = jobsSystemForFile();

it('accepts every write, keeps its jobs, and delivers each once after the sweep', {
  timeout: 120_000,
}, async () => {
  const load = await startMixedLoad(system());
  await load.everyOperation();

  load.phase('outage');
  await system().broker.stop();
  await expectReadiness(system(), ['queue']);
  await load.everyOperation();
  await system().broker.start();
  await expectReadiness(system(), []);

  load.phase('after');
  await load.everyOperation();
  await load.stop();

  expect(unexpectedAnswers(load)).toEqual([]);
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const leftInOutbox = await sweepOutbox(system());
  expect(leftInOutbox).toBeGreaterThan(0);
  await expectEveryJobHandedOver(system());
  const jobs = await expectEveryJobOnce(system());
  console.log(summaryLine('qstash-down', load, writes, jobs, { leftInOutbox }));
});
