// Upstash Redis through the official client (@upstash/redis), set up the way this app needs it:
// - Built for each request (src/deps.ts): its auto-pipelining then only ever batches one
//   request's commands, so the rate-limit check, the token deny-list and the cache read of a
//   request leave together (reads and writes as two concurrent requests: one round trip of
//   latency), and no request's fetch carries another's commands.
// - Every HTTP request is bounded by `timeoutMs` and retried once, 50 ms later, only when it never
//   reached Upstash; the client's default (five retries over about 4 s) would hold a request long
//   after a client gave up.
// - A request that fails (unreachable, timed out, answered 4xx or 5xx) rejects with
//   RedisUnavailableError, which names no key: the client's own message for an HTTP failure lists
//   every command of the batch with its arguments, and keys carry token ids and key hashes.
//   A command Redis refused (WRONGTYPE, a script error) stays the client's UpstashError.
import { Redis } from '@upstash/redis/cloudflare';
import { fetchFailureReason } from '../lib/fetch-failure.ts';

export type { Redis };

/** Upstash Redis could not serve a request: the backend's fault, so the client hears 503. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisOptions {
  /** The REST URL, e.g. `UPSTASH_REDIS_REST_URL`. */
  url: string;
  token: string;
  /** How long one HTTP request may take before it fails as Redis unavailable. */
  timeoutMs: number;
}

function unavailable(error: unknown, timeoutMs: number): RedisUnavailableError {
  if (error instanceof Error && error.name === 'UpstashError') {
    // "<Upstash's error>, command was: [...]": keep Upstash's words, drop the commands.
    const [reason] = error.message.split(', command was:');
    return new RedisUnavailableError(`Upstash Redis refused the request: ${reason}`);
  }
  const reason = fetchFailureReason(error, timeoutMs);
  return new RedisUnavailableError(`Upstash Redis unreachable: ${reason}`, { cause: error });
}

export function createRedis({ url, token, timeoutMs }: RedisOptions): Redis {
  const redis = new Redis({
    url,
    token,
    // A function, so each HTTP request gets its own deadline; a timeout is then thrown, where a
    // single signal would make the client answer null.
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: { retries: 1, backoff: () => 50 },
    // Plain JSON replies: every value this app stores is JSON text, so base64 only costs a
    // decode per value (base64 is there for bytes that are not UTF-8).
    responseEncoding: false,
    enableTelemetry: false,
  });
  // Wraps the HTTP request alone: a command's own error reply is raised after it, by the command.
  redis.use(async (request, next) => {
    try {
      return await next(request);
    } catch (error) {
      throw unavailable(error, timeoutMs);
    }
  });
  return redis;
}
