// The job queue: QStash, spoken to over its REST API with fetch. The official client costs about
// 9 KiB of the Worker's 150 KiB gzip budget for features the Worker does not use (workflows, LLM
// calls, URL groups); tooling and the contract tests keep using it, so the wire format the Worker
// relies on is checked by the official client against the local broker.
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

async function fetchQstash(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new QueueUnreachableError(`QStash unreachable: ${reason}`, { cause: error });
  }
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

/** The Upstash-* headers of one message, as a publish or a batch item carries them. */
function messageHeaders(options: PublishOptions): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.deduplicationId !== undefined) {
    headers['upstash-deduplication-id'] = options.deduplicationId;
  }
  if (options.delaySeconds !== undefined) headers['upstash-delay'] = `${options.delaySeconds}s`;
  if (options.notBefore !== undefined) headers['upstash-not-before'] = String(options.notBefore);
  if (options.retries !== undefined) headers['upstash-retries'] = String(options.retries);
  if (options.retryDelay !== undefined) headers['upstash-retry-delay'] = options.retryDelay;
  if (options.flowControl !== undefined) {
    headers['upstash-flow-control-key'] = options.flowControl.key;
    headers['upstash-flow-control-value'] = `parallelism=${options.flowControl.parallelism}`;
  }
  if (options.failureCallback !== undefined) {
    headers['upstash-failure-callback'] = options.failureCallback;
  }
  return headers;
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

export function createQueue(config: Pick<Config, 'QSTASH_URL' | 'QSTASH_TOKEN'>): Queue {
  const baseUrl = config.QSTASH_URL.replace(/\/+$/, '');
  const authorization = `Bearer ${config.QSTASH_TOKEN}`;

  const send = async (path: string, init: { headers: Record<string, string>; body: string }) => {
    const response = await fetchQstash(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { ...init.headers, authorization },
      body: init.body,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new QueueError(`QStash answered ${response.status} to a publish`, {
        status: response.status,
      });
    }
    return (await response.json()) as unknown;
  };

  return {
    async ping() {
      const response = await fetchQstash(`${baseUrl}/v2/queues`, { headers: { authorization } });
      await response.body?.cancel();
      if (!response.ok) throw new QueueError(`QStash answered ${response.status}`);
    },
    async publish(options) {
      // QStash takes the destination as it is, unencoded, after /v2/publish/.
      const answer = await send(`/v2/publish/${options.destination}`, {
        headers: messageHeaders(options),
        body: JSON.stringify(options.body),
      });
      return { messageId: messageIdOf(answer) };
    },
    async publishBatch(options) {
      if (options.length === 0) return [];
      const answer = await send('/v2/batch', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(
          options.map((message) => ({
            destination: message.destination,
            headers: messageHeaders(message),
            body: JSON.stringify(message.body),
          })),
        ),
      });
      if (!Array.isArray(answer) || answer.length !== options.length) {
        throw new QueueError('QStash answered a batch with another number of messages');
      }
      return answer.map((accepted) => ({ messageId: messageIdOf(accepted) }));
    },
    async deleteFromDlq(dlqId) {
      const response = await fetchQstash(`${baseUrl}/v2/dlq/${encodeURIComponent(dlqId)}`, {
        method: 'DELETE',
        headers: { authorization },
      });
      await response.body?.cancel();
      if (!response.ok && response.status !== 404) {
        throw new QueueError(`QStash answered ${response.status} to a DLQ delete`);
      }
    },
  };
}
