// Jobs from the command line: the dead-letter queue (src/modules/jobs/dead-jobs.service.ts) and
// the schedules sync (src/entries/schedules-sync.ts), as the API and `npm run schedules:sync` do
// them.
import { createDeadJobsRepository } from '../../jobs/dead-jobs.repository.ts';
import { scheduleRequests } from '../../jobs/schedules.ts';
import {
  type DeadJobsServiceDeps,
  deleteDeadJob,
  getDeadJob,
  listDeadJobs,
  requeueDeadJob,
} from '../../modules/jobs/dead-jobs.service.ts';
import { syncSchedules } from '../schedules-sync.ts';
import {
  type AdminContext,
  type Command,
  columns,
  orNotFound,
  pageAnswer,
  pageOf,
  pageOptions,
  pageOptionsHelp,
  shownTime,
} from './cli.ts';

function deadJobsDeps({ deps }: AdminContext): DeadJobsServiceDeps {
  const { db, jobState, queue, clock, logger, config } = deps;
  return { deadJobs: createDeadJobsRepository(db), jobState, queue, clock, logger, config };
}

const noDeadJob = (id: string) => `no dead job ${id}`;

export const listDeadJobsCommand: Command = {
  name: 'dlq list',
  arguments: [],
  options: pageOptions,
  synopsis: 'dlq list [--limit N] [--page N]',
  summary: 'List the jobs QStash gave up on, latest failure first',
  help: `Lists the dead jobs, latest failure first: the jobs whose last retry failed, recorded by
QStash's failure callback.

Options:
${pageOptionsHelp}

Examples:
  npm run admin -- dlq list
  npm run admin -- dlq list --limit 100 --json`,
  async run(input) {
    const page = pageOf(input);
    const { items, pagination } = await listDeadJobs(deadJobsDeps(await input.context()), {
      ...page,
      sortBy: 'failedAt',
      sortOrder: 'desc',
    });
    const rows = items.map((job) => [
      job.id,
      job.type,
      shownTime(job.failedAt),
      String(job.lastStatus ?? '-'),
      String(job.retried),
      job.requeueCount === 0 ? '-' : `${job.requeueCount}x, ${shownTime(job.requeuedAt)}`,
    ]);
    const headers = ['ID', 'TYPE', 'FAILED', 'STATUS', 'RETRIES', 'REQUEUED'];
    return pageAnswer({ items, pagination }, ['dead job', 'dead jobs'], headers, rows);
  },
};

export const showDeadJobCommand: Command = {
  name: 'dlq show',
  arguments: ['ID'],
  options: {},
  synopsis: 'dlq show ID',
  summary: 'Show a dead job: its message and its last answer',
  help: `Shows one dead job: the message QStash delivered (a live secret in its payload, such as a
reset link, reads [redacted]), the destination's last status and the start of its answer.

Example:
  npm run admin -- dlq show 5b0e8c1a-7f3d-4a2b-9c6e-0d1f2a3b4c5d`,
  async run(input) {
    const [id = ''] = input.args;
    const job = await orNotFound(
      getDeadJob(deadJobsDeps(await input.context()), id),
      noDeadJob(id),
    );
    const message = JSON.stringify(job.message, null, 2).replaceAll('\n', '\n  ');
    const fields = columns([
      ['id', job.id],
      ['type', job.type],
      ['failed', shownTime(job.failedAt)],
      ['last status', String(job.lastStatus ?? '-')],
      ['retries', String(job.retried)],
      ['requeued', `${job.requeueCount} time(s), last ${shownTime(job.requeuedAt)}`],
      ['QStash message', job.messageId],
      ['QStash DLQ entry', job.dlqId ?? '-'],
      ['last answer', job.lastResponse ?? '-'],
    ]);
    return { json: job, text: `${fields}\nmessage:\n  ${message}` };
  },
};

export const requeueDeadJobCommand: Command = {
  name: 'dlq requeue',
  arguments: ['ID'],
  options: {},
  synopsis: 'dlq requeue ID',
  summary: 'Publish a dead job again, at critical priority',
  help: `Publishes the dead job's message again as a new QStash message at critical priority, once
its cause is fixed, and removes it from QStash's DLQ. The job keeps its id: a handler that already
did the work does not do it twice.

Example:
  npm run admin -- dlq requeue 5b0e8c1a-7f3d-4a2b-9c6e-0d1f2a3b4c5d`,
  async run(input) {
    const [id = ''] = input.args;
    const requeued = await orNotFound(
      requeueDeadJob(deadJobsDeps(await input.context()), id),
      noDeadJob(id),
    );
    return {
      json: requeued,
      text: `requeued dead job ${requeued.id} as QStash message ${requeued.messageId}`,
    };
  },
};

export const deleteDeadJobCommand: Command = {
  name: 'dlq delete',
  arguments: ['ID'],
  options: {},
  synopsis: 'dlq delete ID',
  summary: "Delete a dead job, and its entry in QStash's DLQ",
  help: `Deletes the dead job's record and its entry in QStash's DLQ; the job is not run.

Example:
  npm run admin -- dlq delete 5b0e8c1a-7f3d-4a2b-9c6e-0d1f2a3b4c5d`,
  async run(input) {
    const [id = ''] = input.args;
    const deleted = await orNotFound(
      deleteDeadJob(deadJobsDeps(await input.context()), id),
      noDeadJob(id),
    );
    return { json: deleted, text: `deleted dead job ${deleted.id}` };
  },
};

export const syncSchedulesCommand: Command = {
  name: 'schedules sync',
  arguments: [],
  options: {},
  synopsis: 'schedules sync',
  summary: 'Make QStash hold exactly the schedules in src/jobs/schedules.ts',
  help: `Creates or updates each schedule declared in src/jobs/schedules.ts under its fixed id, and
deletes this deployment's schedules no longer declared, as npm run schedules:sync does. Running it
twice changes nothing. Reads QSTASH_URL, QSTASH_TOKEN, API_PUBLIC_URL and JOBS_BASE_URL.

Example:
  npm run admin -- schedules sync`,
  async run(input) {
    const { config } = await input.context();
    const { upserted, deleted } = await syncSchedules({
      qstashUrl: config.QSTASH_URL,
      qstashToken: config.QSTASH_TOKEN,
      apiPublicUrl: config.API_PUBLIC_URL,
      jobsBaseUrl: config.JOBS_BASE_URL,
    });
    const synced = scheduleRequests(config)
      .filter((request) => upserted.includes(request.scheduleId))
      .map(({ scheduleId, cron, destination }) => ({ scheduleId, cron, destination }));
    return {
      json: { synced, deleted },
      text: columns([
        ...synced.map((s) => ['synced', s.scheduleId, `"${s.cron}" (UTC)`, `-> ${s.destination}`]),
        ...deleted.map((id) => ['deleted', id, '(no longer declared)']),
      ]),
    };
  },
};
