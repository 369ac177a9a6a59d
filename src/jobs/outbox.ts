// The transactional outbox: a job that must follow a database change is inserted in the same
// batch as the change, so either both happen or neither does. After the commit the request hands
// the rows to QStash off the response's path and deletes them; whatever is left (QStash down, the
// isolate gone) is published by the sweep that housekeeping runs. The row's id is QStash's
// deduplication id and the job's key, so a row published twice still runs once.
import { asc, inArray, lt, sql } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Database } from '../db/client.ts';
import { type OutboxRow, outbox } from '../db/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Queue } from '../lib/queue.ts';
import { type JobMessage, jobMessageSchema } from './catalogue.ts';
import { type EnqueueDeps, type PreparedJob, publishRequest } from './enqueue.ts';

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
 * Publishes the jobs in one request, then deletes their rows in one statement. When QStash does
 * not take them, the rows stay with the error for the sweep; the returned counts say what happened.
 */
export async function publishStaged(
  deps: OutboxDeps,
  jobs: Publishable[],
): Promise<{ published: number; failed: number }> {
  if (jobs.length === 0) return { published: 0, failed: 0 };
  const ids = jobs.map((job) => job.id);
  try {
    await deps.queue.publishBatch(jobs.map((job) => publishRequest(deps.config, job)));
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
    return { published: 0, failed: jobs.length };
  }
  await deps.db.delete(outbox).where(inArray(outbox.id, ids));
  return { published: jobs.length, failed: 0 };
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
