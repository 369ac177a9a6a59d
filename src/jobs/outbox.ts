// The transactional outbox: a job that must follow a database change is inserted in the same
// batch as the change, so either both happen or neither does. After the commit the request hands
// the rows to QStash off the response's path and deletes them; whatever is left (QStash down, the
// isolate gone) is published by the sweep that housekeeping runs. The row's id is QStash's
// deduplication id and the job's key, so a row published twice still runs once.
import { and, asc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { type OutboxRow, outbox } from '../db/schema.ts';
import type { Database } from '../platform/database.ts';
import { isRefusedByQueue } from '../platform/queue.ts';
import { type JobMessage, type JobPriority, jobMessageSchema, jobPriorities } from './catalogue.ts';
import {
  type EnqueueDeps,
  type PreparedJob,
  type Publishable,
  publishJobs,
  publishRequest,
} from './enqueue.ts';

/** The insert to put in the same `db.batch([...])` as the change the jobs follow: one statement. */
export function stageJobs(db: Database, jobs: PreparedJob[]): BatchItem<'sqlite'> {
  return db.insert(outbox).values(
    jobs.map((job) => ({
      id: job.id,
      type: job.type,
      message: job.message,
      priority: job.priority,
      notBefore: job.notBefore ?? null,
    })),
  );
}

export function stageJob(db: Database, job: PreparedJob): BatchItem<'sqlite'> {
  return stageJobs(db, [job]);
}

/**
 * stageJob for a batch whose change may turn out to change nothing (a token already spent): the
 * row goes in only if the statement before it changed exactly one row. It changes one row itself,
 * so several staged this way one after another share that condition.
 */
export function stageJobIfChanged(db: Database, job: PreparedJob): BatchItem<'sqlite'> {
  return db.run(
    sql`INSERT INTO ${outbox} (id, type, message, priority, not_before)
      SELECT ${job.id}, ${job.type}, ${JSON.stringify(job.message)}, ${job.priority},
        ${job.notBefore ?? null}
      WHERE changes() = 1`,
  );
}

export interface OutboxDeps extends EnqueueDeps {
  db: Database;
}

const isPriority = (text: string): text is JobPriority =>
  (jobPriorities as readonly string[]).includes(text);

function fromRow(row: OutboxRow): Publishable | undefined {
  const message = jobMessageSchema.safeParse(row.message);
  if (!message.success || message.data.id === undefined || !isPriority(row.priority)) {
    return undefined;
  }
  return {
    id: row.id,
    type: message.data.type,
    message: message.data as JobMessage & { id: string },
    priority: row.priority,
    ...(row.notBefore !== null && { notBefore: row.notBefore }),
  };
}

interface PublishCounts {
  published: number;
  failed: number;
}

interface Failure {
  job: Publishable;
  error: unknown;
}

/** How many jobs of a refused batch are sent on their own at once. */
const aloneInFlight = 6;

/** Sends each job in its own request, a few at a time; resolves with those QStash did not take. */
async function publishEachAlone(deps: OutboxDeps, jobs: Publishable[]): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (let start = 0; start < jobs.length; start += aloneInFlight) {
    const chunk = jobs.slice(start, start + aloneInFlight);
    const errors = await Promise.all(
      chunk.map((job) =>
        deps.queue.publish(publishRequest(deps.config, job)).then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    chunk.forEach((job, index) => {
      if (errors[index] !== undefined) failures.push({ job, error: errors[index] });
    });
  }
  return failures;
}

/**
 * Publishes the jobs in one request, then deletes their rows in one statement. When QStash does
 * not take them, the rows stay with the error for the sweep; when it refuses what it was sent, each
 * job is sent on its own, so one it will never take does not hold back the others. `queueDown`
 * says QStash took nothing for a reason of its own (unreachable, failing, a refused token).
 */
export async function publishStaged(
  deps: OutboxDeps,
  jobs: Publishable[],
): Promise<PublishCounts & { queueDown: boolean }> {
  if (jobs.length === 0) return { published: 0, failed: 0, queueDown: false };
  let failures: Failure[] = [];
  try {
    await publishJobs(deps, jobs);
  } catch (error) {
    failures =
      jobs.length > 1 && isRefusedByQueue(error)
        ? await publishEachAlone(deps, jobs)
        : jobs.map((job) => ({ job, error }));
  }
  const failed = new Set(failures.map(({ job }) => job.id));
  const published = jobs.filter((job) => !failed.has(job.id)).map((job) => job.id);
  if (failures.length > 0) {
    deps.logger.warn('outbox publish failed; the sweep retries it', {
      jobIds: [...failed],
      types: [...new Set(failures.map(({ job }) => job.type))],
      error: String(failures[0]?.error),
    });
  }
  // One round trip for the lot: the published rows go, the others keep their error.
  await deps.db.batch([
    deps.db.delete(outbox).where(inArray(outbox.id, published)),
    ...failures.map(({ job, error }) =>
      deps.db
        .update(outbox)
        .set({ attempts: sql`${outbox.attempts} + 1`, lastError: String(error).slice(0, 500) })
        .where(eq(outbox.id, job.id)),
    ),
  ]);
  return {
    published: published.length,
    failed: failures.length,
    queueDown: failures.some(({ error }) => !isRefusedByQueue(error)),
  };
}

/** Rows younger than this are still being published by their own request. */
const sweepGraceMs = 30_000;
const sweepPageSize = 100;
/**
 * Bounds one run's time and a Worker's subrequests (about four a page); what is left waits for
 * the next run.
 */
const sweepMaxPages = 10;

/**
 * Publishes what requests left behind, oldest first, a page at a time until none is left (or
 * sweepMaxPages), and stops early when QStash is down. Pages follow on from the last row read, so
 * rows QStash refuses and rows that are no job message, left for an operator, never block the rest.
 */
export async function sweepOutbox(
  deps: OutboxDeps,
): Promise<PublishCounts & { unreadable: number }> {
  const before = new Date(deps.clock.now().getTime() - sweepGraceMs);
  const totals = { published: 0, failed: 0, unreadable: 0 };
  let last: Pick<OutboxRow, 'createdAt' | 'id'> | undefined;
  for (let page = 0; page < sweepMaxPages; page += 1) {
    const rows = await deps.db
      .select()
      .from(outbox)
      .where(
        and(
          lt(outbox.createdAt, before),
          last &&
            or(
              gt(outbox.createdAt, last.createdAt),
              and(eq(outbox.createdAt, last.createdAt), gt(outbox.id, last.id)),
            ),
        ),
      )
      .orderBy(asc(outbox.createdAt), asc(outbox.id))
      .limit(sweepPageSize);
    const jobs = rows.map(fromRow);
    for (const [index, row] of rows.entries()) {
      if (jobs[index] !== undefined) continue;
      totals.unreadable += 1;
      deps.logger.error('outbox row is not a job message; left for an operator', { jobId: row.id });
    }
    const counts = await publishStaged(
      deps,
      jobs.filter((job): job is Publishable => job !== undefined),
    );
    totals.published += counts.published;
    totals.failed += counts.failed;
    last = rows.at(-1);
    if (last === undefined || rows.length < sweepPageSize || counts.queueDown) break;
  }
  return totals;
}
