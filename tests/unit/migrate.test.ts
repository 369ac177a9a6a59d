// The database commands: migrate and seed against a fresh local libSQL server, each run twice, and
// the `npm run db:*` entries as a developer meets them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { startTempLibsqlServer } from '../../local-stack/libsql/temp-server.ts';
import { migrateDatabase } from '../../src/entries/migrate.ts';
import { developmentPassword, seedDatabase, seedUsers } from '../../src/entries/seed.ts';
import { verifyPassword } from '../../src/modules/auth/passwords.ts';

const authToken = 'migrate-test-token';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let server: RunningHttpServer;
let scratch: string;

beforeAll(async () => {
  server = await startTempLibsqlServer({ authToken });
  scratch = mkdtempSync(join(tmpdir(), 'nexus-migrate-'));
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function query(sql: string) {
  const client = createClient({ url: server.url, authToken });
  try {
    return (await client.execute(sql)).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

/** Runs an entry as `npm run db:*` does, with only the given database variables set. */
function runEntry(entry: 'migrate' | 'seed', env: Record<string, string>) {
  const { TURSO_DATABASE_URL: _url, TURSO_AUTH_TOKEN: _token, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [`src/entries/${entry}.ts`], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('migrateDatabase and seedDatabase', () => {
  it('migrates once, then finds nothing to apply', async () => {
    expect(await migrateDatabase(server.url, authToken)).toEqual({
      applied: [
        '0000_users',
        '0001_identity',
        '0002_jobs_and_partners',
        '0003_catalogue',
        '0004_products_search',
        '0005_users_created_index',
        '0006_search_index_listed_only',
        '0007_products_search_filters_index',
        '0008_files',
      ],
    });
    expect(await migrateDatabase(server.url, authToken)).toEqual({ applied: [] });

    const tables = await query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    expect(tables.map((table) => table.name)).toEqual([
      '__drizzle_migrations',
      'api_key_usage',
      'api_keys',
      'audit_logs',
      'dead_jobs',
      'files',
      'one_time_tokens',
      'outbox',
      'partner_events',
      'partner_secrets',
      'partners',
      'password_history',
      'products',
      'products_fts',
      'products_fts_config',
      'products_fts_content',
      'products_fts_data',
      'products_fts_docsize',
      'products_fts_idx',
      'refresh_tokens',
      'users',
    ]);
    expect(await query('SELECT count(*) AS n FROM __drizzle_migrations')).toEqual([{ n: 9 }]);
  });

  it('seeds the fixed users once; a second run leaves the very same rows', async () => {
    await migrateDatabase(server.url, authToken);
    const lines: string[] = [];

    const first = await seedDatabase(server.url, authToken, {
      password: developmentPassword,
      progress: (line) => lines.push(line),
    });
    const rowsAfterFirst = await query('SELECT * FROM users ORDER BY id');
    const second = await seedDatabase(server.url, authToken);
    const rowsAfterSecond = await query('SELECT * FROM users ORDER BY id');

    const emails = seedUsers.map((user) => user.email);
    expect(first).toEqual({ created: emails, alreadyPresent: [] });
    expect(second).toEqual({ created: [], alreadyPresent: emails });
    expect(rowsAfterSecond).toEqual(rowsAfterFirst);
    expect(rowsAfterFirst).toHaveLength(seedUsers.length);
    expect(rowsAfterFirst.filter((row) => row.role === 'admin')).toHaveLength(1);
    expect(lines).toContain(`created admin admin@example.com ${seedUsers[0].id}`);
    // The seeded admin can sign in with the development password.
    const [admin] = await query(
      `SELECT password_hash FROM users WHERE email = 'admin@example.com'`,
    );
    expect(await verifyPassword(developmentPassword, String(admin?.password_hash))).toMatchObject({
      ok: true,
    });
  });
});

// Each run starts a Node process (about two seconds here), so these are few and given time.
describe('npm run db:migrate and db:seed', { timeout: 60_000 }, () => {
  it('stop with exit code 1 and name the variable when TURSO_DATABASE_URL is missing', () => {
    const { status, stderr } = runEntry('migrate', {});
    expect(status).toBe(1);
    expect(stderr).toContain('db:migrate: TURSO_DATABASE_URL is not set');
  });

  it('migrate and seed a file: database, printing what they did', () => {
    const env = { TURSO_DATABASE_URL: `file:${join(scratch, 'dev.db')}` };

    expect(runEntry('migrate', env)).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('applied 0000_users'),
    });
    expect(runEntry('migrate', env)).toMatchObject({
      status: 0,
      stdout: expect.stringContaining('database is up to date'),
    });
    expect(runEntry('seed', env)).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(
        new RegExp(
          `created admin admin@example\\.com[\\s\\S]*seeded: 4 created[\\s\\S]*${developmentPassword}`,
        ),
      ),
    });
  });
});
