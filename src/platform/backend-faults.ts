// Which backend let a request down. An error no code path expected is our bug (500), unless its
// cause is a backend that could not be reached, failed or was busy: then the client hears 503, as
// for a rate-limit check that Redis could not answer, and may try again. What a retry cannot fix
// (a wrong statement, a refused token, a Redis command error, a message QStash refuses) stays 500.
import { LibsqlError } from '@libsql/client/http';
import { fetchFailureReason } from '../lib/fetch-failure.ts';
import { isRefusedByQueue, QueueError } from './queue.ts';
import { RedisUnavailableError } from './redis.ts';

export type Backend = 'database' | 'redis' | 'queue';

/** The database could not be reached: what the libSQL client's fetch throws instead of a TypeError. */
class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

// libSQL's codes for a database that was busy or dropped the stream, as opposed to a statement
// that was wrong (SQLITE_CONSTRAINT, SQLITE_ERROR). Batches throw LibsqlBatchError, a subclass.
const transientDatabaseCodes = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'STREAM_EXPIRED']);

function isTransientDatabaseError(error: Error): boolean {
  if (error instanceof DatabaseUnreachableError) return true;
  if (error instanceof LibsqlError) return transientDatabaseCodes.has(error.code);
  // The libSQL client wraps a server's non-2xx answer in this (named by a string, so it survives
  // minification); a 401 or 404 means our URL or token is wrong, which a retry cannot fix.
  const status = (error as { status?: unknown }).status;
  return error.name === 'HttpServerError' && typeof status === 'number' && status >= 500;
}

/** The backend whose failure `error` is, through any wrapping (drizzle's, the clients'), if any. */
export function faultyBackend(error: unknown): Backend | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof RedisUnavailableError) return 'redis';
    if (cause instanceof QueueError) return isRefusedByQueue(cause) ? undefined : 'queue';
    if (isTransientDatabaseError(cause)) return 'database';
  }
  return undefined;
}

/**
 * fetch for the libSQL client: a request that never reached the server, or got no answer within
 * `timeoutMs`, says so by its type. Without the bound, a database that stops answering holds every
 * request that touches it until the client gives up.
 */
export async function databaseFetch(request: Request, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = fetchFailureReason(error, timeoutMs);
    throw new DatabaseUnreachableError(`libSQL unreachable: ${reason}`, { cause: error });
  }
}
