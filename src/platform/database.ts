// drizzle over @libsql/client's HTTP-only build: Hrana over HTTP is what Workers and Deno can
// speak, what Turso and the local libSQL server serve, and the smallest build (no WebSocket code).
import { createClient } from '@libsql/client/http';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
// Plain drizzle-orm/libsql imports @libsql/client, whose Deno build is the native one.
import { drizzle } from 'drizzle-orm/libsql/http';
import { databaseFetch } from './backend-faults.ts';

// Without drizzle's relational schema: queries name their tables, and drizzle would otherwise
// rebuild the relations of every table for each client, that is for each request.
export type Database = LibSQLDatabase;

export interface DatabaseOptions {
  /** How long one request to the database may take before it counts as unreachable. */
  timeoutMs: number;
}

export function createDatabase(
  url: string,
  authToken: string | undefined,
  { timeoutMs }: DatabaseOptions,
): Database {
  const client = createClient({
    url,
    fetch: (request: Request) => databaseFetch(request, timeoutMs),
    ...(authToken !== undefined && { authToken }),
  });
  return drizzle(client);
}

/** A write refused by a UNIQUE constraint (a taken email or name), however the driver wraps it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.message.includes('UNIQUE constraint failed')) return true;
  }
  return false;
}
