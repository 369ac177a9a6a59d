// `npm run db:migrate`: applies the migrations in drizzle/ that a libSQL database has not had yet,
// to whatever TURSO_DATABASE_URL names (the local server, Turso, or a file: path). Running it again
// applies nothing: drizzle records each applied migration in __drizzle_migrations.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';

export const migrationsFolder = fileURLToPath(new URL('../../drizzle/', import.meta.url));
const migrationsTable = '__drizzle_migrations';

interface JournalEntry {
  tag: string;
  when: number;
}

async function journal(): Promise<JournalEntry[]> {
  const text = await readFile(`${migrationsFolder}meta/_journal.json`, 'utf8');
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

/**
 * The database the db:* commands work on, from the variables the app reads; exits with a message
 * naming what is missing, since these commands run by hand and in CI.
 */
export function databaseFromEnv(command: string): { url: string; authToken?: string } {
  const url = process.env.TURSO_DATABASE_URL;
  if (url === undefined || url === '') {
    console.error(
      `${command}: TURSO_DATABASE_URL is not set. Set it to the database to use, e.g.\n` +
        '  TURSO_DATABASE_URL=http://127.0.0.1:8080 TURSO_AUTH_TOKEN=local-turso-token ' +
        `(the local stack's libSQL server, \`npm run stack\`), libsql://<db>.turso.io with ` +
        'TURSO_AUTH_TOKEN, or file:local.db',
    );
    process.exit(1);
  }
  const authToken = process.env.TURSO_AUTH_TOKEN;
  return { url, ...(authToken !== undefined && authToken !== '' && { authToken }) };
}

/** For messages: a libsql URL may carry ?authToken=..., which must not reach a terminal or CI log. */
export function printable(url: string): string {
  return url.split('?')[0] ?? url;
}

export interface MigrationReport {
  /** Tags of the migrations this run applied, oldest first; empty when the database was current. */
  applied: string[];
}

export async function migrateDatabase(url: string, authToken?: string): Promise<MigrationReport> {
  const client = createClient({ url, ...(authToken !== undefined && { authToken }) });
  try {
    const db = drizzle(client);
    // drizzle applies every migration newer than the newest one recorded; the same rule, read
    // beforehand, names them.
    const recorded = await client.execute(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${migrationsTable}'`,
    );
    const newest =
      recorded.rows.length === 0
        ? undefined
        : await db.get<{ newest: number | null }>(
            sql`SELECT max(created_at) AS newest FROM ${sql.identifier(migrationsTable)}`,
          );
    const since = Number(newest?.newest ?? Number.NEGATIVE_INFINITY);
    const pending = (await journal()).filter((entry) => entry.when > since);
    await migrate(db, { migrationsFolder, migrationsTable });
    return { applied: pending.map((entry) => entry.tag) };
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  const { url, authToken } = databaseFromEnv('db:migrate');
  try {
    const { applied } = await migrateDatabase(url, authToken);
    if (applied.length === 0) console.log(`database is up to date (${printable(url)})`);
    for (const tag of applied) console.log(`applied ${tag}`);
    if (applied.length > 0)
      console.log(`applied ${applied.length} migration(s) to ${printable(url)}`);
  } catch (error) {
    console.error(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
