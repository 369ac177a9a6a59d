// Which backend let a request down. An error no code path expected is our bug (500), unless its
// cause is a backend that could not be reached or was overloaded: then the client hears 503, as
// for a rate-limit check that Redis could not answer, and may try again.

import { QueueError } from './queue.ts';
import { RedisError } from './redis.ts';

export type Backend = 'database' | 'redis' | 'queue';

/** The database could not be reached: what the libSQL client's fetch throws instead of a TypeError. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

// libSQL's codes for a server that failed or was busy, as opposed to a statement that was wrong
// (SQLITE_CONSTRAINT, SQLITE_ERROR), which is ours to fix and stays a 500.
const transientDatabaseCodes = new Set([
  'SERVER_ERROR',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'HRANA_CLOSED_ERROR',
  'STREAM_EXPIRED',
]);

function isTransientDatabaseError(error: Error): boolean {
  if (error instanceof DatabaseUnreachableError) return true;
  const code = (error as { code?: unknown }).code;
  return (
    error.name === 'LibsqlError' && typeof code === 'string' && transientDatabaseCodes.has(code)
  );
}

/** The backend whose failure `error` is, through any wrapping (drizzle's, the clients'), if any. */
export function faultyBackend(error: unknown): Backend | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof RedisError) return 'redis';
    if (cause instanceof QueueError) return 'queue';
    if (isTransientDatabaseError(cause)) return 'database';
  }
  return undefined;
}

/** fetch for the libSQL client: a request that never reached the server says so by its type. */
export async function databaseFetch(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseUnreachableError(`libSQL unreachable: ${reason}`, { cause: error });
  }
}
