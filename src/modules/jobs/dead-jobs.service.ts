// The dead-letter queue as administrators manage it: list and inspect what QStash gave up on,
// requeue a job at critical priority once its cause is fixed, or delete it. QStash keeps its own
// DLQ entry of each; it goes with the record.
import type { DeadJobRow } from '../../db/schema.ts';
import {
  type JobMessage,
  type JobType,
  jobMessageSchema,
  secretPayloadFields,
} from '../../jobs/catalogue.ts';
import type { DeadJobSortColumn, DeadJobsRepository } from '../../jobs/dead-jobs.repository.ts';
import { publishRequest } from '../../jobs/enqueue.ts';
import { deadJobError } from '../../jobs/failure-callback.ts';
import type { JobStateStore } from '../../jobs/job-state.ts';
import type { Pagination } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { type PageRequest, paginationOf } from '../../lib/pagination.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Queue } from '../../platform/queue.ts';
import type { DeadJobView } from './jobs.schemas.ts';

export interface DeadJobsServiceDeps {
  deadJobs: DeadJobsRepository;
  jobState: JobStateStore;
  queue: Queue;
  clock: Clock;
  logger: Logger;
  config: { API_PUBLIC_URL: string; JOBS_BASE_URL: string };
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** The stored message with its secret payload fields (a reset link's token) blanked out. */
function shownMessage(row: DeadJobRow): Record<string, unknown> {
  const secrets = secretPayloadFields[row.type as JobType];
  const { payload } = row.message;
  if (secrets === undefined || typeof payload !== 'object' || payload === null) return row.message;
  const shown: Record<string, unknown> = { ...payload };
  for (const field of secrets) if (field in shown) shown[field] = '[redacted]';
  return { ...row.message, payload: shown };
}

export function toDeadJobView(row: DeadJobRow): DeadJobView {
  return {
    id: row.id,
    type: row.type,
    message: shownMessage(row),
    messageId: row.messageId,
    dlqId: row.dlqId,
    lastStatus: row.lastStatus,
    lastResponse: row.lastResponse,
    retried: row.retried,
    failedAt: row.failedAt.toISOString(),
    requeuedAt: iso(row.requeuedAt),
    requeueCount: row.requeueCount,
  };
}

const notFound = () => new AppError('NOT_FOUND', 'No dead job has this id');

export async function listDeadJobs(
  deps: DeadJobsServiceDeps,
  page: PageRequest<DeadJobSortColumn>,
): Promise<{ items: DeadJobView[]; pagination: Pagination }> {
  const { rows, total } = await deps.deadJobs.list(page);
  return { items: rows.map(toDeadJobView), pagination: paginationOf(page, total) };
}

export async function getDeadJob(deps: DeadJobsServiceDeps, id: string): Promise<DeadJobView> {
  const row = await deps.deadJobs.find(id);
  if (row === undefined) throw notFound();
  return toDeadJobView(row);
}

/** QStash's DLQ entry is only a copy of what the record holds: failing to drop it loses nothing. */
async function forgetDlqEntry(deps: DeadJobsServiceDeps, row: DeadJobRow): Promise<void> {
  if (row.dlqId === null) return;
  try {
    await deps.queue.deleteFromDlq(row.dlqId);
  } catch (error) {
    deps.logger.warn('QStash DLQ entry left behind', {
      key: row.id,
      dlqId: row.dlqId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Publishes the stored message again, as a new QStash message at critical priority. The job's key
 * stays the same (a scheduled run's `msg:` key becomes the message's id), so its status and dedupe
 * follow it. Its failure is forgotten before the publish, or the new delivery could arrive first
 * and be refused as failed; a publish QStash refuses puts the failure back and changes nothing.
 */
export async function requeueDeadJob(
  deps: DeadJobsServiceDeps,
  id: string,
): Promise<{ id: string; messageId: string }> {
  const row = await deps.deadJobs.find(id);
  if (row === undefined) throw notFound();
  const parsed = jobMessageSchema.safeParse(row.message);
  if (!parsed.success) {
    throw new AppError('CONFLICT', 'This dead job is not a job message and cannot be requeued', {
      details: { reason: 'not_a_job' },
    });
  }
  const type: JobType = parsed.data.type;
  const message: JobMessage & { id: string } = { ...parsed.data, id: row.id };
  await deps.jobState.reset(row.id, type);
  let messageId: string;
  try {
    ({ messageId } = await deps.queue.publish(
      publishRequest(
        deps.config,
        { id: row.id, type, message, priority: 'critical' },
        `${row.id}:requeue:${row.requeueCount + 1}`,
      ),
    ));
  } catch (error) {
    await deps.jobState.fail(row.id, type, deadJobError(row)).catch(() => undefined);
    throw new AppError('SERVICE_UNAVAILABLE', 'The queue is unavailable; try the requeue again', {
      cause: error,
    });
  }
  await Promise.all([
    deps.deadJobs.markRequeued(row.id, deps.clock.now()),
    forgetDlqEntry(deps, row),
  ]);
  deps.logger.info('dead job requeued', { key: row.id, type, messageId });
  return { id: row.id, messageId };
}

export async function deleteDeadJob(
  deps: DeadJobsServiceDeps,
  id: string,
): Promise<{ id: string; deleted: true }> {
  const row = await deps.deadJobs.delete(id);
  if (row === undefined) throw notFound();
  await forgetDlqEntry(deps, row);
  return { id: row.id, deleted: true };
}
