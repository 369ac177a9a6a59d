// The transactional outbox: a job that must follow a database change is inserted in the same
// batch as the change, so either both happen or neither does. After the commit the request hands
// the rows to QStash off the response's path and deletes them; whatever is left (QStash down, the
// isolate gone) is published by the sweep that housekeeping runs. The row's id is QStash's
// deduplication id and the job's key, so a row published twice still runs once.
import { asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client.ts';
import { type OutboxRow, outbox } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Queue } from '../lib/queue.ts';
import { type JobMessage, jobMessageSchema } from './catalogue.ts';
import { type EnqueueDeps, type PreparedJob, publishRequest } from './enqueue.ts';

/**
 * The insert to put in the same `db.batch([...])` as the change the job follows. With
 * `ifAbsent`, a job whose deterministic id is already staged is left as it is instead of failing
 * the batch: the change it follows may be written idempotently too.
 */
export function stageJob(
  db: Database,
  job: PreparedJob,
  options: { ifAbsent?: boolean } = {},
): BatchItem<'sqlite'> {
  const insert = db.insert(outbox).values({
    id: job.id,
    type: job.type,
    message: job.message,
    priority: job.priority,
    notBefore: job.notBefore ?? null,
  });
  return options.ifAbsent === true ? insert.onConflictDoNothing() : insert;
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
  logger: Logger;
  clock: Clock;
  queue: Queue;
}

type Publishable = Pick<PreparedJob, 'id' | 'type' | 'message' | 'priority' | 'notBefore'>;

function fromRow(row: OutboxRow): Publishable | undefined {
  const message = jobMessageSchema.safeParse(row.message);
  if (!message.success || message.data.id === undefined) return undefined;
  return {
    id: row.id,
    type: message.data.type,
    message: message.data as JobMessage & { id: string },
    priority: row.priority as PreparedJob['priority'],
    ...(row.notBefore !== null && { notBefore: row.notBefore }),
  };
}

/**
 * Publishes the jobs, then deletes the rows QStash accepted in one statement. A job that fails
 * to publish stays with its error for the sweep; the returned counts say what happened.
 */
export async function publishStaged(
  deps: OutboxDeps,
  jobs: Publishable[],
): Promise<{ published: number; failed: number }> {
  const outcomes = await Promise.allSettled(
    jobs.map((job) => deps.queue.publish(publishRequest(deps.config, job))),
  );
  const published = jobs.filter((_, index) => outcomes[index]?.status === 'fulfilled');
  const failures = jobs
    .map((job, index) => ({ job, outcome: outcomes[index] }))
    .filter((entry) => entry.outcome?.status === 'rejected');
  const statements: BatchItem<'sqlite'>[] = [];
  if (published.length > 0) {
    statements.push(
      deps.db.delete(outbox).where(
        inArray(
          outbox.id,
          published.map((job) => job.id),
        ),
      ),
    );
  }
  for (const { job, outcome } of failures) {
    const reason = outcome?.status === 'rejected' ? String(outcome.reason) : 'unknown';
    deps.logger.warn('outbox publish failed; the sweep retries it', {
      jobId: job.id,
      type: job.type,
      error: reason,
    });
    statements.push(
      deps.db
        .update(outbox)
        .set({ attempts: sql`${outbox.attempts} + 1`, lastError: reason.slice(0, 500) })
        .where(eq(outbox.id, job.id)),
    );
  }
  const [first, ...rest] = statements;
  if (first !== undefined) await deps.db.batch([first, ...rest]);
  return { published: published.length, failed: failures.length };
}

/** Rows younger than this are still being published by their own request. */
const sweepGraceMs = 30_000;
const sweepBatchSize = 100;

/** Publishes what requests left behind, oldest first, a bounded batch per run. */
export async function sweepOutbox(
  deps: OutboxDeps,
): Promise<{ published: number; failed: number; unreadable: number }> {
  const before = new Date(deps.clock.now().getTime() - sweepGraceMs);
  const rows = await deps.db
    .select()
    .from(outbox)
    .where(lt(outbox.createdAt, before))
    .orderBy(asc(outbox.createdAt))
    .limit(sweepBatchSize);
  const jobs = rows.map(fromRow);
  const unreadable = rows.filter((_, index) => jobs[index] === undefined);
  for (const row of unreadable) {
    deps.logger.error('outbox row is not a job message; left for an operator', { jobId: row.id });
  }
  const counts = await publishStaged(
    deps,
    jobs.filter((job): job is Publishable => job !== undefined),
  );
  return { ...counts, unreadable: unreadable.length };
}
