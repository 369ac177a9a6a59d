// The one way to start a job: now, after a delay, or at a time, with the type's retries and retry
// delay, a priority, a deduplication id and the failure callback that records dead jobs. A job
// that must follow a database write is staged in the outbox instead (outbox.ts) and published by
// the same code after the commit. A job prepared within a request keeps that request's
// traceparent in its message, whenever it is published, and QStash hands it to the delivery (and
// to the failure callback) as a header: the job continues the trace of what caused it.
import type { Config } from '../config.ts';
import { AppError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { formatTraceparent, type TraceContext, traceparentHeader } from '../lib/trace-context.ts';
import type { Clock } from '../platform/clock.ts';
import type { PublishOptions, Queue } from '../platform/queue.ts';
import {
  type JobMessage,
  type JobPayload,
  type JobPriority,
  type JobType,
  jobDefinitions,
  jobPath,
  jobPayloads,
  priorityParallelism,
} from './catalogue.ts';
import type { JobStateStore } from './job-state.ts';

export interface EnqueueOptions {
  /** Deliver no earlier than this many seconds from now. */
  delaySeconds?: number;
  /** Deliver at this time; a time in the past is refused. */
  runAt?: Date;
  /** Defaults to the type's priority. */
  priority?: JobPriority;
  /**
   * The job's id, which is also QStash's deduplication id: enqueueing the same id twice runs the
   * job once. Defaults to a random UUID.
   */
  id?: string;
  /** The user who may read the job's status. */
  ownerId?: string;
}

/** A job ready to hand to QStash: its message and when and how to deliver it. */
export interface PreparedJob {
  id: string;
  type: JobType;
  message: JobMessage & { id: string };
  priority: JobPriority;
  /** Unix seconds. */
  notBefore?: number;
}

/** Where a job is prepared: the clock, and the trace of the request preparing it, if any. */
export interface JobOrigin {
  clock: Clock;
  trace?: TraceContext;
}

/** Validates the payload and fixes the job's id, delivery time and trace. */
export function prepareJob<T extends JobType>(
  origin: JobOrigin,
  type: T,
  payload: JobPayload<T>,
  options: EnqueueOptions = {},
): PreparedJob {
  const parsed = jobPayloads[type].safeParse(payload);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', `Invalid payload for job ${type}`, {
      details: { fields: parsed.error.issues.map((issue) => issue.path.join('.')) },
    });
  }
  const nowMs = origin.clock.now().getTime();
  let notBefore: number | undefined;
  if (options.runAt !== undefined) {
    if (Number.isNaN(options.runAt.getTime())) {
      throw new AppError('VALIDATION_FAILED', 'A job’s time must be a valid date');
    }
    if (options.runAt.getTime() < nowMs) {
      throw new AppError('VALIDATION_FAILED', 'A job cannot be scheduled in the past', {
        details: { runAt: options.runAt.toISOString() },
      });
    }
    notBefore = Math.ceil(options.runAt.getTime() / 1000);
  } else if (options.delaySeconds !== undefined) {
    if (!Number.isInteger(options.delaySeconds) || options.delaySeconds < 0) {
      throw new AppError('VALIDATION_FAILED', 'A delay is a whole, non-negative number of seconds');
    }
    if (options.delaySeconds > 0) notBefore = Math.ceil(nowMs / 1000) + options.delaySeconds;
  }
  const id = options.id ?? crypto.randomUUID();
  return {
    id,
    type,
    message: {
      id,
      type,
      payload: parsed.data,
      ...(options.ownerId !== undefined && { ownerId: options.ownerId }),
      createdAt: new Date(nowMs).toISOString(),
      ...(origin.trace !== undefined && { traceparent: formatTraceparent(origin.trace) }),
    },
    priority: options.priority ?? jobDefinitions[type].priority,
    ...(notBefore !== undefined && { notBefore }),
  };
}

type DeliveryConfig = Pick<Config, 'JOBS_BASE_URL' | 'API_PUBLIC_URL'>;

export function jobDestination(config: DeliveryConfig, type: JobType): string {
  const base =
    jobDefinitions[type].runsOn === 'node' ? config.JOBS_BASE_URL : config.API_PUBLIC_URL;
  return `${base}${jobPath(type)}`;
}

/** Where QStash reports a job it gave up on (src/modules/jobs, the dead-jobs record). */
export function failureCallbackUrl(config: DeliveryConfig): string {
  return `${config.API_PUBLIC_URL}/jobs/failed`;
}

/** The QStash flow-control key a priority's messages share, with its parallelism. */
export function flowControlOf(priority: JobPriority): { key: string; parallelism: number } {
  return { key: `jobs-${priority}`, parallelism: priorityParallelism[priority] };
}

/** QStash's publish request for a prepared job; `attempt` makes a requeue a new message. */
export function publishRequest(
  config: DeliveryConfig,
  job: Pick<PreparedJob, 'id' | 'type' | 'message' | 'priority' | 'notBefore'>,
  deduplicationId = job.id,
): PublishOptions {
  const definition = jobDefinitions[job.type];
  return {
    destination: jobDestination(config, job.type),
    body: job.message,
    deduplicationId,
    retries: definition.retries,
    retryDelay: definition.retryDelay,
    flowControl: flowControlOf(job.priority),
    failureCallback: failureCallbackUrl(config),
    ...(job.notBefore !== undefined && { notBefore: job.notBefore }),
    ...(job.message.traceparent !== undefined && {
      headers: { [traceparentHeader]: job.message.traceparent },
    }),
  };
}

export interface EnqueueDeps extends JobOrigin {
  config: DeliveryConfig;
  queue: Queue;
  jobState: JobStateStore;
  logger: Logger;
}

export type Publishable = Pick<PreparedJob, 'id' | 'type' | 'message' | 'priority' | 'notBefore'>;

/**
 * Records jobs just handed to QStash as pending, for GET /v1/jobs/{id}. A record that cannot be
 * written costs only that status until the first delivery, so it is logged, never thrown.
 */
async function markPending(deps: EnqueueDeps, jobs: Publishable[]): Promise<void> {
  try {
    await Promise.all(
      jobs.map((job) => deps.jobState.pending(job.id, job.type, job.message.ownerId)),
    );
  } catch (error) {
    deps.logger.warn('jobs published without a pending status', {
      jobIds: jobs.map((job) => job.id),
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Messages per QStash batch request: a bulk write's events may be hundreds. */
const publishBatchSize = 100;

/**
 * Hands jobs to QStash, a batch request per hundred (one for most writes), each marked pending
 * beside it. A later batch that fails leaves the earlier ones published: publishing them again
 * under the same ids delivers each once.
 */
export async function publishJobs(
  deps: EnqueueDeps,
  jobs: Publishable[],
): Promise<{ messageId: string }[]> {
  const publishing = markPending(deps, jobs);
  const accepted: { messageId: string }[] = [];
  for (let start = 0; start < jobs.length; start += publishBatchSize) {
    const batch = jobs.slice(start, start + publishBatchSize);
    accepted.push(
      ...(await deps.queue.publishBatch(batch.map((job) => publishRequest(deps.config, job)))),
    );
  }
  await publishing;
  return accepted;
}

/**
 * Publishes a job now (to run now or later); for jobs that follow a database write, see outbox.ts.
 * A publish that fails throws and leaves the job pending: enqueueing again with the same id is
 * the retry.
 */
export async function enqueueJob<T extends JobType>(
  deps: EnqueueDeps,
  type: T,
  payload: JobPayload<T>,
  options: EnqueueOptions = {},
): Promise<{ jobId: string; messageId: string }> {
  const job = prepareJob(deps, type, payload, options);
  const [{ messageId }] = await Promise.all([
    deps.queue.publish(publishRequest(deps.config, job)),
    markPending(deps, [job]),
  ]);
  return { jobId: job.id, messageId };
}
