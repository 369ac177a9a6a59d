// The transactional outbox: a job that must follow a database change is inserted in the same
// batch as the change, so either both happen or neither does. After the commit the request hands
// the rows to QStash off the response's path and deletes them; whatever is left (QStash down, the
// isolate gone) is published by the sweep that housekeeping runs. The row's id is QStash's
// deduplication id and the job's key, so a row published twice still runs once.
import { and, asc, eq, gt, inArray, lt, or, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client.ts';
import { type OutboxRow, outbox } from '../db/schema.ts';
import { isRefusedByQueue } from '../lib/queue.ts';
import { type JobMessage, type JobPriority, jobMessageSchema, jobPriorities } from './catalogue.ts';
import { type EnqueueDeps, type PreparedJob, type Publishable, publishJobs } from './enqueue.ts';

/** The insert to put in the same `db.batch([...])` as the change the job follows. */
export function stageJob(db: Database, job: PreparedJob): BatchItem<'sqlite'> {
  return db.insert(outbox).values({
    id: job.id,
    type: job.type,
    message: job.message,
    priority: job.priority,
    notBefore: job.notBefore ?? null,
  });
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

/** Publishes the jobs in one request and deletes their rows; a failure is noted on the rows. */
async function publishBatchOf(
  deps: OutboxDeps,
  jobs: Publishable[],
): Promise<PublishCounts & { error?: unknown }> {
  const ids = jobs.map((job) => job.id);
  try {
    await publishJobs(deps, jobs);
  } catch (error) {
    const reason = String(error);
    deps.logger.warn('outbox publish failed; the sweep retries it', {
      jobIds: ids,
      types: [...new Set(jobs.map((job) => job.type))],
      error: reason,
    });
    await deps.db
      .update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1`, lastError: reason.slice(0, 500) })
      .where(inArray(outbox.id, ids));
    return { published: 0, failed: jobs.length, error };
  }
  await deps.db.delete(outbox).where(inArray(outbox.id, ids));
  return { published: jobs.length, failed: 0 };
}

/**
 * Publishes the jobs in one request, then deletes their rows in one statement. When QStash does
 * not take them, the rows stay with the error for the sweep; when it refuses what it was sent, each
 * job is sent on its own, so one it will never take does not hold back the others.
 */
export async function publishStaged(deps: OutboxDeps, jobs: Publishable[]): Promise<PublishCounts> {
  if (jobs.length === 0) return { published: 0, failed: 0 };
  const together = await publishBatchOf(deps, jobs);
  if (jobs.length === 1 || !isRefusedByQueue(together.error)) {
    return { published: together.published, failed: together.failed };
  }
  const alone = await Promise.all(jobs.map((job) => publishBatchOf(deps, [job])));
  return {
    published: alone.reduce((sum, counts) => sum + counts.published, 0),
    failed: alone.reduce((sum, counts) => sum + counts.failed, 0),
  };
}

/** Rows younger than this are still being published by their own request. */
const sweepGraceMs = 30_000;
const sweepPageSize = 100;
/** Bounds one run's time; what is left waits for the next run. */
const sweepMaxPages = 20;

/**
 * Publishes what requests left behind, oldest first, a page at a time until none is left (or
 * sweepMaxPages), and stops early when QStash takes none of a page. Pages follow on from the last
 * row read, so rows that are no job message, and are left for an operator, never block the rest.
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
    if (last === undefined || rows.length < sweepPageSize) break;
    if (counts.failed > 0 && counts.published === 0) break;
  }
  return totals;
}
