// The libSQL server closed under a mixed load, then started again on the same port over the same
// file. Meanwhile what needs the database answers 503 SERVICE_UNAVAILABLE naming it (every write,
// and the reads the cache cannot answer), and readiness names db. Afterwards every write answered
// 201 is in the database (one answered 503 may be there too: its commit may have happened before
// its answer was lost). A request whose jobs QStash took but whose outbox rows it could not then
// delete leaves them for the sweep, which hands them over again under the same ids; every stored
// account's jobs ran once.
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
  sweepOutbox,
  unavailable,
  unexpectedAnswers,
} from './harness/mixed-load.ts';

// The jobs' retries (an audit record's, a cache warm-up's) outlast an outage of seconds here, as
// in production they outlast one of a minute or two.
const system = jobsSystemForFile({ retryDelayScale: 0.05 });

const refusedWithoutDatabase = (answer: LoadAnswer) =>
  during(answer, 'outage') && unavailable({ backend: 'database' })(answer);

it('refuses what needs the database with 503, and loses no accepted write', {
  timeout: 120_000,
}, async () => {
  const load = await startMixedLoad(system());
  await load.everyOperation();

  load.phase('outage');
  await system().libsql.stop();
  await expectReadiness(system(), ['db']);
  await load.everyOperation();
  await system().libsql.start();
  await expectReadiness(system(), []);

  load.phase('after');
  await load.everyOperation();
  await load.stop();

  expect(unexpectedAnswers(load, refusedWithoutDatabase)).toEqual([]);
  const refused = load.answers.filter(refusedWithoutDatabase);
  expect(refused.map((answer) => answer.operation)).toEqual(
    expect.arrayContaining(['create', 'register']),
  );
  const writes = await expectNoAcceptedWriteLost(system(), load);
  const leftInOutbox = await sweepOutbox(system());
  await expectEveryJobHandedOver(system());
  const jobs = await expectEveryJobOnce(system());
  console.log(summaryLine('database-down', load, writes, jobs, { leftInOutbox }));
});
