// One delivery of a job, the same on the edge and on the Node worker, once the signing middleware
// (src/middleware/qstash-signature.ts) has checked it: read the job, claim it, run its handler,
// and answer in the terms QStash acts on. 2xx: done (also for a repeated delivery of a finished
// job, which runs nothing). 489 with Upstash-NonRetryable-Error: this job can never succeed, so
// QStash moves it to the DLQ at once instead of retrying. 429 with Retry-After: another delivery
// holds the job. 503: a transient failure, retried with the type's backoff.
import { AppError } from '../lib/errors.ts';
import { loggableMessage } from '../lib/loggable-errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { TraceContext } from '../lib/trace-context.ts';
import {
  type JobMessage,
  type JobPayload,
  type JobType,
  jobMessageSchema,
  jobPayloads,
} from './catalogue.ts';
import type { JobStateStore } from './job-state.ts';

/** Thrown by a handler for a job that will fail however often it is retried. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobContext<T extends JobType> {
  /** The job's key: its id, or `msg:<QStash message id>` for a scheduled run. */
  key: string;
  type: T;
  payload: JobPayload<T>;
  message: JobMessage;
  /** QStash's message id of this delivery. */
  messageId: string;
  /** 1 on the first delivery that claimed the job. */
  attempt: number;
  /** Records progress (0–100) for GET /v1/jobs/{id}. */
  progress(percent: number): Promise<void>;
  /** The delivery's logger: its lines name the delivery's request and trace. */
  logger: Logger;
  /** The trace the delivery continues, for the requests the job makes. */
  trace?: TraceContext;
}

export type JobHandler<T extends JobType> = (job: JobContext<T>) => Promise<unknown>;
export type JobHandlers = { [T in JobType]?: JobHandler<T> };

export interface JobRuntime {
  jobState: JobStateStore;
  /** The delivery's request's logger, bound to its ids. */
  logger: Logger;
  /** The delivery's request's trace. */
  trace?: TraceContext;
  /** How long a delivery holds a job before another may take it over. */
  leaseMs?: number;
}

export interface JobDone {
  key: string;
  type: JobType;
  /** True when an earlier delivery already did the work. */
  duplicate: boolean;
  result?: unknown;
}

const defaultLeaseMs = 5 * 60_000;
/** Tells QStash to move the job to its DLQ at once rather than retry it. */
export const nonRetryable = { 'Upstash-NonRetryable-Error': 'true' };

function errorText(error: unknown): string {
  return loggableMessage(error).slice(0, 500);
}

/** The JSON in `text`, or undefined when it is none. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a delivery brings once the signing middleware has verified it. */
export interface Delivery {
  /** The raw body bytes the signature covers. */
  body: Uint8Array;
  /** QStash's Upstash-Message-Id. */
  messageId: string;
}

/**
 * Runs one delivery to `/jobs/<pathType>`, whose signature the middleware in front of the route
 * checked. Resolves with what was done; throws an AppError that the app's error handler turns into
 * the envelope QStash reads.
 */
export async function runJobDelivery(
  runtime: JobRuntime,
  handlers: JobHandlers,
  delivery: Delivery,
  pathType: string,
): Promise<JobDone> {
  const { messageId } = delivery;
  const json = parseJson(new TextDecoder().decode(delivery.body));

  const message = jobMessageSchema.safeParse(json);
  if (!message.success || message.data.type !== pathType) {
    runtime.logger.warn('job refused: not a job message for this endpoint', {
      pathType,
      messageId,
    });
    throw new AppError('JOB_PAYLOAD_INVALID', 'The body is not a job of this type', {
      headers: nonRetryable,
    });
  }
  const type = message.data.type;
  const key = message.data.id ?? `msg:${messageId}`;
  const handler = handlers[type] as JobHandler<JobType> | undefined;
  if (handler === undefined) {
    throw new AppError('JOB_PAYLOAD_INVALID', `Jobs of type ${type} do not run here`, {
      headers: nonRetryable,
    });
  }
  const payload = jobPayloads[type].safeParse(message.data.payload);
  if (!payload.success) {
    const error = `invalid payload: ${payload.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ')}`;
    await runtime.jobState.fail(key, type, error, message.data.ownerId);
    runtime.logger.warn('job refused: invalid payload', { key, type, messageId, error });
    throw new AppError('JOB_PAYLOAD_INVALID', 'The job payload is invalid', {
      headers: nonRetryable,
      details: { error },
    });
  }

  const claim = await runtime.jobState.claim(
    key,
    type,
    message.data.ownerId,
    runtime.leaseMs ?? defaultLeaseMs,
  );
  if (claim.outcome === 'completed') return { key, type, duplicate: true };
  if (claim.outcome === 'failed') {
    throw new AppError('JOB_FAILED', 'The job failed for good', {
      headers: nonRetryable,
      details: { error: claim.error },
    });
  }
  if (claim.outcome === 'busy') {
    throw new AppError('JOB_IN_PROGRESS', 'Another delivery is running this job', {
      headers: { 'Retry-After': String(claim.retryAfterSeconds) },
    });
  }

  let result: unknown;
  try {
    result = await handler({
      key,
      type,
      payload: payload.data,
      message: message.data,
      messageId,
      attempt: claim.attempts,
      progress: (percent) => runtime.jobState.progress(key, type, percent),
      logger: runtime.logger,
      trace: runtime.trace,
    });
  } catch (error) {
    if (error instanceof PermanentJobError) {
      await runtime.jobState.fail(key, type, errorText(error));
      runtime.logger.warn('job failed for good', { key, type, messageId, error: errorText(error) });
      throw new AppError('JOB_FAILED', 'The job cannot succeed', {
        headers: nonRetryable,
        details: { error: errorText(error) },
      });
    }
    await runtime.jobState.release(key, type, errorText(error)).catch(() => undefined);
    runtime.logger.warn('job failed; QStash retries it', {
      key,
      type,
      messageId,
      attempt: claim.attempts,
      error: errorText(error),
    });
    throw new AppError('SERVICE_UNAVAILABLE', 'The job failed; retry later', { cause: error });
  }
  await recordCompletion(runtime, { key, type, messageId }, result);
  return { key, type, duplicate: false, result };
}

const completionPausesMs = [100, 400, 1600];

/**
 * The effect has happened, so the delivery succeeds even when Redis will not take the record: a
 * retry answered 503 would run the effect again once the lease ran out. The lease still holds
 * off a duplicate delivery meanwhile, so a few tries and an error line are what is left to do.
 */
async function recordCompletion(
  runtime: JobRuntime,
  job: { key: string; type: JobType; messageId: string },
  result: unknown,
): Promise<void> {
  let lastError: unknown;
  for (const pauseMs of [0, ...completionPausesMs]) {
    if (pauseMs > 0) await new Promise((resume) => setTimeout(resume, pauseMs));
    try {
      await runtime.jobState.complete(job.key, job.type, result);
      return;
    } catch (error) {
      lastError = error;
    }
  }
  runtime.logger.error('job done, but its completion could not be recorded', {
    ...job,
    error: errorText(lastError),
  });
}
