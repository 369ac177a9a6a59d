// QStash's failure callback: once a job's last retry failed (or it answered 489 with
// Upstash-NonRetryable-Error) QStash moves it to its DLQ and posts the outcome here, signed like
// any delivery. The job is recorded as dead, and its status turns failed, so it is never lost:
// even a message that is no job is kept, as type "unknown", for an administrator to look at.

import { z } from '@hono/zod-openapi';
import { fromBase64 } from '../lib/base64.ts';
import { AppError } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { Clock } from '../platform/clock.ts';
import { type JobMessage, jobMessageSchema } from './catalogue.ts';
import type { DeadJobRecord, DeadJobsRepository } from './dead-jobs.repository.ts';
import { nonRetryable, parseJson } from './job-delivery.ts';
import type { JobStateStore } from './job-state.ts';

/**
 * The fields of QStash's failure callback that recordFailureCallback reads;
 * QStash sends more, e.g. the destination's headers. Bodies are base64.
 */
export const failureCallbackSchema = z.looseObject({
  status: z.int().optional().openapi({ description: "The destination's last HTTP status." }),
  body: z.string().optional().openapi({ description: 'Its last answer, base64.' }),
  retried: z.int().min(0).default(0).openapi({ description: 'How many retries QStash made.' }),
  dlqId: z.string().min(1).optional().openapi({ description: "The message's id in the DLQ." }),
  sourceMessageId: z.string().min(1).openapi({ description: 'The message that died.' }),
  sourceBody: z.string().default('').openapi({ description: 'Its body, the job, base64.' }),
});

type Callback = z.infer<typeof failureCallbackSchema>;

export interface FailureCallbackDeps {
  deadJobs: DeadJobsRepository;
  jobState: JobStateStore;
  clock: Clock;
  logger: Logger;
}

const lastResponseChars = 1000;

function base64Text(text: string | undefined): string {
  if (text === undefined || text === '') return '';
  try {
    return new TextDecoder().decode(fromBase64(text));
  } catch {
    return text;
  }
}

/** The error a dead job's status shows, from what QStash last heard. */
export function deadJobError(job: Pick<DeadJobRecord, 'retried' | 'lastStatus'>): string {
  return `QStash gave up after ${job.retried} retries: ${job.lastStatus ?? 'no answer'}`;
}

/** The dead job to record, and the user who may read its failed status. */
function deadJobOf(
  callback: Callback,
  now: Date,
): { deadJob: DeadJobRecord; ownerId: string | undefined } {
  const sourceText = base64Text(callback.sourceBody);
  const sourceJson = parseJson(sourceText);
  const message = jobMessageSchema.safeParse(sourceJson);
  const fallbackKey = `msg:${callback.sourceMessageId}`;
  const known: { id: string; type: string; message: JobMessage | Record<string, unknown> } =
    message.success
      ? { id: message.data.id ?? fallbackKey, type: message.data.type, message: message.data }
      : {
          id: fallbackKey,
          type: 'unknown',
          message:
            typeof sourceJson === 'object' && sourceJson !== null && !Array.isArray(sourceJson)
              ? (sourceJson as Record<string, unknown>)
              : { body: sourceText },
        };
  return {
    deadJob: {
      ...known,
      messageId: callback.sourceMessageId,
      dlqId: callback.dlqId ?? null,
      lastStatus: callback.status ?? null,
      lastResponse: base64Text(callback.body).slice(0, lastResponseChars),
      retried: callback.retried,
      failedAt: now,
    },
    ownerId: message.data?.ownerId,
  };
}

/**
 * Parses and records one failure callback, whose signature the middleware in front of the route
 * checked; repeating it changes nothing more.
 */
export async function recordFailureCallback(
  deps: FailureCallbackDeps,
  body: Uint8Array,
): Promise<DeadJobRecord> {
  const callback = failureCallbackSchema.safeParse(parseJson(new TextDecoder().decode(body)));
  if (!callback.success) {
    deps.logger.error('failure callback refused: not a QStash callback body', {
      fields: callback.error.issues.map((issue) => issue.path.join('.')),
    });
    throw new AppError('JOB_PAYLOAD_INVALID', 'The body is not a QStash failure callback', {
      headers: nonRetryable,
    });
  }
  const { deadJob, ownerId } = deadJobOf(callback.data, deps.clock.now());
  // The owner goes with the failure: a job that never reached a handler has no record to hold it.
  await Promise.all([
    deps.deadJobs.record(deadJob),
    deps.jobState.fail(deadJob.id, deadJob.type, deadJobError(deadJob), ownerId),
  ]);
  deps.logger.warn('job dead: QStash gave up on it', {
    key: deadJob.id,
    type: deadJob.type,
    messageId: deadJob.messageId,
    lastStatus: deadJob.lastStatus,
    retried: deadJob.retried,
  });
  return deadJob;
}
