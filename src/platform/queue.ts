// The job queue: QStash through the official client (@upstash/qstash), behind the few operations
// the app uses, so the outbox, the catalogue and the dead-letter queue speak of jobs, not of HTTP.
// Its failures become QueueErrors that say whether QStash was reached and what it answered: a
// message QStash refuses is not an outage, and src/platform/backend-faults.ts answers them apart.
import { Client, QstashError } from '@upstash/qstash';
import type { Config } from '../config.ts';

/** QStash answered, but not with success (a bad token, an outage page). */
export class QueueError extends Error {
  override name = 'QueueError';
  /** QStash's HTTP status, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: ErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status;
  }
}

/**
 * QStash refused the messages themselves (a 4xx other than a refused token or a rate limit):
 * sending the same again cannot help, but sending the others without it may.
 */
export function isRefusedByQueue(error: unknown): boolean {
  const status = error instanceof QueueError ? error.status : undefined;
  return status !== undefined && status >= 400 && status < 500 && ![401, 403, 429].includes(status);
}

/** QStash could not be reached at all. */
export class QueueUnreachableError extends QueueError {
  override name = 'QueueUnreachableError';
}

export interface PublishOptions {
  /** The absolute URL QStash delivers to, e.g. `${JOBS_BASE_URL}/jobs/email`. */
  destination: string;
  /** Sent as JSON, and delivered as the body of a POST. */
  body: unknown;
  /** QStash drops a second message with the same id (for 10 minutes), so a retried publish is harmless. */
  deduplicationId?: string;
  /** Deliver no earlier than this many seconds from now. */
  delaySeconds?: number;
  /** Deliver no earlier than this Unix time, in seconds; wins over `delaySeconds`. */
  notBefore?: number;
  /** How many times QStash retries a delivery that fails (its default: 3). */
  retries?: number;
  /** QStash's retry-delay expression in milliseconds, e.g. `pow(2, retried) * 1000`. */
  retryDelay?: string;
  /** Messages with the same key share this many deliveries in flight. */
  flowControl?: { key: string; parallelism: number };
  /** Where QStash posts the outcome once the last retry failed (and the message went to the DLQ). */
  failureCallback?: string;
  /** Headers QStash sends with each delivery, and with the failure callback (a traceparent). */
  headers?: Record<string, string>;
}

export interface Queue {
  /** One authenticated, read-only call: proves QStash is reachable and the token is accepted. */
  ping(): Promise<void>;
  /** Hands a job to QStash; resolves with QStash's message id once it has accepted it. */
  publish(options: PublishOptions): Promise<{ messageId: string }>;
  /**
   * Hands several jobs to QStash in one request (POST /v2/batch); resolves with their message ids
   * in order once it has accepted them all. A failed request accepted none of them.
   */
  publishBatch(options: PublishOptions[]): Promise<{ messageId: string }[]>;
  /** Removes a message from QStash's dead-letter queue; one already gone is not an error. */
  deleteFromDlq(dlqId: string): Promise<void>;
}

/**
 * What QStash is to forward: the client prefixes plain headers with Upstash-Forward- (for the
 * delivery); the failure callback's are named Upstash-Failure-Callback-Forward-.
 */
function forwardedHeaders(headers: Record<string, string>): Record<string, string> {
  const forwarded = { ...headers };
  for (const [name, value] of Object.entries(headers)) {
    forwarded[`Upstash-Failure-Callback-Forward-${name}`] = value;
  }
  return forwarded;
}

/** A message as the client takes it: JSON body, QStash's delivery options. */
function messageOf(options: PublishOptions) {
  return {
    url: options.destination,
    body: options.body,
    ...(options.deduplicationId !== undefined && { deduplicationId: options.deduplicationId }),
    ...(options.delaySeconds !== undefined && { delay: options.delaySeconds }),
    ...(options.notBefore !== undefined && { notBefore: options.notBefore }),
    ...(options.retries !== undefined && { retries: options.retries }),
    ...(options.retryDelay !== undefined && { retryDelay: options.retryDelay }),
    ...(options.flowControl !== undefined && { flowControl: options.flowControl }),
    ...(options.failureCallback !== undefined && { failureCallback: options.failureCallback }),
    ...(options.headers !== undefined && { headers: forwardedHeaders(options.headers) }),
  };
}

function messageIdOf(answer: unknown): string {
  const messageId =
    typeof answer === 'object' && answer !== null && 'messageId' in answer
      ? answer.messageId
      : undefined;
  if (typeof messageId !== 'string') {
    throw new QueueError('QStash accepted a publish without a message id');
  }
  return messageId;
}

/** What the client threw, as a QueueError: with QStash's status when it answered. */
function queueErrorOf(error: unknown, what: string): QueueError {
  if (error instanceof QueueError) return error;
  if (error instanceof QstashError) {
    return new QueueError(`QStash answered ${error.status ?? 'an error'} to ${what}`, {
      cause: error,
      ...(error.status !== undefined && { status: error.status }),
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new QueueUnreachableError(`QStash unreachable: ${reason}`, { cause: error });
}

async function calling<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw queueErrorOf(error, what);
  }
}

export function createQueue(config: Pick<Config, 'QSTASH_URL' | 'QSTASH_TOKEN'>): Queue {
  const client = new Client({
    baseUrl: config.QSTASH_URL,
    token: config.QSTASH_TOKEN,
    // A failed publish stays in the outbox and the sweep sends it again: no retry here, which
    // would hold the request (or its waitUntil work) for seconds.
    retry: false,
    enableTelemetry: false,
    // Never QStash's local development server and its public token, whatever QSTASH_DEV says.
    devMode: false,
  });
  return {
    ping: () => calling('a read', async () => void (await client.queue().list())),
    publish: (options) =>
      calling('a publish', async () => {
        const answer = await client.publishJSON(messageOf(options));
        return { messageId: messageIdOf(answer) };
      }),
    publishBatch: (options) =>
      calling('a batch', async () => {
        if (options.length === 0) return [];
        const answer: unknown = await client.batchJSON(options.map(messageOf));
        if (!Array.isArray(answer) || answer.length !== options.length) {
          throw new QueueError('QStash answered a batch with another number of messages');
        }
        return answer.map((accepted) => ({ messageId: messageIdOf(accepted) }));
      }),
    deleteFromDlq: (dlqId) =>
      calling('a DLQ delete', async () => {
        try {
          await client.dlq.delete(dlqId);
        } catch (error) {
          // Already gone: what the delete was for.
          if (!(error instanceof QstashError && error.status === 404)) throw error;
        }
      }),
  };
}
