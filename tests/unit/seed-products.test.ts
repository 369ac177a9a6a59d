// The generated catalogue of `npm run db:seed -- --products N`, seeded into a fresh local libSQL
// server and read back as a developer or a benchmark meets it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { startTempLibsqlServer } from '../../local-stack/libsql/temp-server.ts';
import { currencies, productCategories } from '../../src/db/schema.ts';
import { migrateDatabase } from '../../src/entries/migrate.ts';
import { type SeedReport, seedDatabase, seedSellers, seedUsers } from '../../src/entries/seed.ts';
import { seedProducts } from '../../src/entries/seed-products.ts';

const authToken = 'seed-products-test-token';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const now = new Date('2026-06-15T12:00:00.000Z');
const count = 2_000;
let server: RunningHttpServer;
let firstRun: SeedReport;

beforeAll(async () => {
  server = await startTempLibsqlServer({ authToken });
  await migrateDatabase(server.url, authToken);
  firstRun = await seedDatabase(server.url, authToken, { products: { count, now } });
});

afterAll(async () => {
  await server?.close();
});

async function query(sql: string, args: (string | number)[] = []) {
  const client = createClient({ url: server.url, authToken });
  try {
    return (await client.execute({ sql, args })).rows.map((row) => ({ ...row }));
  } finally {
    client.close();
  }
}

async function single(sql: string, args: (string | number)[] = []) {
  const [row] = await query(sql, args);
  if (row === undefined) throw new Error(`no row from ${sql}`);
  return row;
}

describe('seedDatabase with products', () => {
  it('seeds the sellers, then 2,000 products owned by the active seeded users', async () => {
    expect(firstRun.products).toEqual({ inserted: count, alreadyPresent: 0 });
    expect(firstRun.created).toHaveLength(seedUsers.length + seedSellers.length);
    expect(firstRun.created).toContain('seller-01@example.com');
    expect(firstRun.created).toContain('seller-50@example.com');
    expect(await single('SELECT count(*) AS n FROM products')).toEqual({ n: count });

    const owners = await query(
      'SELECT u.email, u.deleted_at, count(*) AS n FROM products p JOIN users u ON u.id = p.owner_id GROUP BY u.id',
    );
    expect(owners.reduce((sum, owner) => sum + Number(owner.n), 0)).toBe(count);
    expect(owners.every((owner) => owner.deleted_at === null)).toBe(true);
    // A few sellers hold most listings, and every owner has some.
    expect(owners.length).toBeGreaterThan(40);
    const bySize = owners.map((owner) => Number(owner.n)).sort((a, b) => b - a);
    expect(bySize.slice(0, 5).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(count / 3);
  });

  it('gives every product a category, a currency and a price of the schema', async () => {
    const categories = await query('SELECT DISTINCT category FROM products');
    expect(categories.map((row) => row.category).sort()).toEqual([...productCategories].sort());
    const used = await query('SELECT price_currency, count(*) AS n FROM products GROUP BY 1');
    for (const row of used) expect(currencies).toContain(row.price_currency);
    const mostly = used
      .filter((row) => ['EUR', 'USD', 'GBP'].includes(String(row.price_currency)))
      .reduce((sum, row) => sum + Number(row.n), 0);
    expect(mostly / count).toBeGreaterThan(0.8);

    expect(
      await single(
        `SELECT count(*) AS n FROM products
         WHERE typeof(price_amount) = 'integer' AND price_amount > 0
           AND typeof(stock) = 'integer' AND stock BETWEEN 0 AND 500`,
      ),
    ).toEqual({ n: count });
    const { outOfStock, deleted } = await single(
      `SELECT avg(stock = 0) AS outOfStock, avg(deleted_at IS NOT NULL) AS deleted FROM products`,
    );
    expect(Number(outOfStock)).toBeGreaterThan(0.05);
    expect(Number(outOfStock)).toBeLessThan(0.11);
    expect(Number(deleted)).toBeGreaterThan(0.005);
    expect(Number(deleted)).toBeLessThan(0.04);
  });

  it('writes names, descriptions and 1 to 5 lowercase tags', async () => {
    const rows = await query('SELECT name, description, tags FROM products');
    for (const { name, description, tags } of rows) {
      expect(String(name)).toMatch(/^\S.{2,}\S$/);
      expect(String(description)).toMatch(/^[A-Z0-9].+\.$/);
      const list = JSON.parse(String(tags)) as unknown[];
      expect(list.length).toBeGreaterThanOrEqual(1);
      expect(list.length).toBeLessThanOrEqual(5);
      for (const tag of list) expect(tag).toMatch(/^[a-z]+$/);
    }
    expect(new Set(rows.map((row) => row.name)).size).toBeGreaterThan(count * 0.9);
  });

  it('dates products over the 18 months before now, more of them lately', async () => {
    const start = new Date(now);
    start.setUTCMonth(start.getUTCMonth() - 18);
    const span = await single(
      `SELECT min(created_at) AS first, max(created_at) AS last,
              count(DISTINCT strftime('%Y-%m', created_at / 1000, 'unixepoch')) AS months,
              sum(updated_at < created_at) AS backwards,
              sum(deleted_at IS NOT NULL AND (deleted_at > ? OR updated_at <> deleted_at)) AS oddDeletes
       FROM products`,
      [now.getTime()],
    );
    expect(Number(span.first)).toBeGreaterThanOrEqual(start.getTime());
    expect(Number(span.last)).toBeLessThanOrEqual(now.getTime());
    expect(Number(span.months)).toBeGreaterThanOrEqual(15);
    expect(span).toMatchObject({ backwards: 0, oddDeletes: 0 });

    const sixMonths = 182 * 86_400_000;
    const { oldest, newest } = await single(
      'SELECT sum(created_at < ?) AS oldest, sum(created_at >= ?) AS newest FROM products',
      [start.getTime() + sixMonths, now.getTime() - sixMonths],
    );
    expect(Number(newest)).toBeGreaterThan(Number(oldest) * 1.5);
  });

  it('fills the full-text index, which finds a product by a word of its name', async () => {
    const { seq, name } = await single('SELECT seq, name FROM products ORDER BY seq LIMIT 1');
    const word = String(name)
      .split(/[^A-Za-z]+/)
      .filter((part) => part.length >= 4)
      .at(-1);
    expect(word).toBeDefined();
    const matches = await query('SELECT rowid FROM products_fts WHERE products_fts MATCH ?', [
      `"${word}"`,
    ]);
    expect(matches.map((row) => row.rowid)).toContain(seq);
    expect(
      await single('SELECT count(*) AS n FROM products_fts WHERE products_fts MATCH ?', [
        `"${word}"`,
      ]),
    ).toEqual({ n: matches.length });
  });

  it('adds nothing when run again, a day later, and leaves every row as it was', async () => {
    const before = await query('SELECT * FROM products ORDER BY seq');
    const again = await seedDatabase(server.url, authToken, {
      products: { count, now: new Date(now.getTime() + 86_400_000) },
    });
    expect(again.products).toEqual({ inserted: 0, alreadyPresent: count });
    expect(again.created).toEqual([]);
    expect(await query('SELECT * FROM products ORDER BY seq')).toEqual(before);
  });

  it('seeds another seed next to it, for a benchmark that calls seedProducts itself', async () => {
    const grace = seedUsers[1].id;
    const owned = async () =>
      Number((await single('SELECT count(*) AS n FROM products WHERE owner_id = ?', [grace])).n);
    const before = await owned();
    const client = createClient({ url: server.url, authToken });
    const progress: [number, number][] = [];
    try {
      const options = { count: 50, owners: [grace], now, seed: 2 };
      expect(
        await seedProducts(client, { ...options, progress: (...step) => progress.push(step) }),
      ).toEqual({ inserted: 50, alreadyPresent: 0 });
      expect(await seedProducts(client, options)).toEqual({ inserted: 0, alreadyPresent: 50 });
    } finally {
      client.close();
    }
    expect(progress).toEqual([[50, 50]]);
    expect(await owned()).toBe(before + 50);
  });
});

/**
 * Runs `npm run db:seed -- <args>` as a developer would, with only the given database variables;
 * asynchronously, since the database server it talks to runs in this process.
 */
function runSeed(args: string[], env: Record<string, string> = {}) {
  const { TURSO_DATABASE_URL: _url, TURSO_AUTH_TOKEN: _token, ...inherited } = process.env;
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['src/entries/seed.ts', ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    },
  );
}

// Each run starts a Node process (about two seconds here), so these are few and given time.
describe('npm run db:seed -- --products', { timeout: 60_000 }, () => {
  it('refuses a count that is not a whole number from 1 to 1,000,000, with exit code 2', async () => {
    const { status, stdout, stderr } = await runSeed(['--products', 'abc']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--products must be a whole number from 1 to 1,000,000, not "abc"');
  });

  it('explains the option in --help', async () => {
    const { status, stdout } = await runSeed(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/--products N[\s\S]*running again with the same N adds\s+nothing/);
  });

  it('seeds the products, reporting progress on stderr', async () => {
    const { status, stdout, stderr } = await runSeed(['--products', '300', '--seed', '3'], {
      TURSO_DATABASE_URL: server.url,
      TURSO_AUTH_TOKEN: authToken,
    });
    expect(stderr).toContain('100% 300/300 products');
    expect(status).toBe(0);
    expect(stdout).toContain('products: 300 inserted, 0 already present (seed 3');
  });
});
