// `npm run db:seed`: a known set of users for development and demos, with fixed ids and emails so
// docs, scripts and tests can name them, and on request a generated catalogue with its sellers
// (seed-products.ts). Idempotent: a user already present (same id or email) is left as it is, and
// a product already present (same derived id) too, so running it again changes nothing. Given a
// password (SEED_PASSWORD, or the development one on a local database), every seeded user signs in
// with it; never a known password on a remote database unless asked.
import { parseArgs } from 'node:util';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { type NewUserRow, users } from '../db/schema.ts';
import { hashPassword } from '../modules/auth/passwords.ts';
import { databaseFromEnv, printable } from './migrate.ts';
import {
  defaultProductSeed,
  maxSeedProducts,
  type SeedProductsReport,
  seedProducts,
} from './seed-products.ts';

const seededAt = new Date('2026-01-01T00:00:00.000Z');

type SeededUser = NewUserRow & { id: string };

export const seedUsers = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    email: 'admin@example.com',
    name: 'Ada Admin',
    role: 'admin',
    emailVerifiedAt: seededAt,
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    email: 'grace@example.com',
    name: 'Grace Hopper',
    role: 'user',
    emailVerifiedAt: seededAt,
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    email: 'alan@example.com',
    name: 'Alan Turing',
    role: 'user',
    emailVerifiedAt: null,
  },
  // Soft-deleted, so "hidden everywhere by default" can be seen from the first run.
  {
    id: '00000000-0000-4000-8000-000000000004',
    email: 'deleted@example.com',
    name: 'Deleted User',
    role: 'user',
    emailVerifiedAt: seededAt,
    deletedAt: seededAt,
  },
] as const satisfies readonly NewUserRow[];

const sellerCount = 50;

// Older than any generated product, which is at most 18 months old on the day it is seeded.
const sellersJoinedAt = new Date('2024-01-01T00:00:00.000Z');
// biome-ignore format: filled word lists
const shopWords = ['Northwind', 'Harbor', 'Copper', 'Maple', 'Granite', 'Willow', 'Summit',
  'Bluebell', 'Foxglove', 'Meridian'];
const shopKinds = ['Supply', 'Goods', 'Trading', 'Outfitters', 'Market'];

/**
 * The products' sellers, seeded with the catalogue: seller-01@example.com to seller-50@example.com,
 * each id derived from its number like the fixed users' ids.
 */
export const seedSellers: readonly SeededUser[] = Array.from({ length: sellerCount }, (_, i) => {
  const number = String(i + 1).padStart(2, '0');
  return {
    id: `00000000-0000-4000-8000-0000000010${number}`,
    email: `seller-${number}@example.com`,
    name: `${shopWords[i % shopWords.length]} ${shopKinds[Math.floor(i / shopWords.length)]}`,
    role: 'user',
    emailVerifiedAt: sellersJoinedAt,
    createdAt: sellersJoinedAt,
    updatedAt: sellersJoinedAt,
  };
});

/** The seeded users' password on a local database, when SEED_PASSWORD does not name one. */
export const developmentPassword = 'Seeded-Dev#Passw0rd';

const isLocal = (url: string) =>
  url.startsWith('file:') || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url);

export interface SeedOptions {
  /** Every seeded user's password; without one they cannot sign in. */
  password?: string;
  progress?: (line: string) => void;
  /** Also seed the sellers and this many generated products, owned by them and the active users. */
  products?: {
    count: number;
    /** The generator's seed (seed-products.ts); the same seed gives the same catalogue. */
    seed?: number;
    /** The products are dated over the 18 months before it; the current time by default. */
    now?: Date;
    progress?: (done: number, total: number) => void;
  };
}

export interface SeedReport {
  /** Emails of the users this run created, the sellers' included. */
  created: string[];
  alreadyPresent: string[];
  /** Present when products were asked for. */
  products?: SeedProductsReport;
}

export async function seedDatabase(
  url: string,
  authToken?: string,
  options: SeedOptions = {},
): Promise<SeedReport> {
  const { password, progress = () => {}, products } = options;
  const passwordHash = password === undefined ? null : await hashPassword(password);
  const seeded: readonly SeededUser[] =
    products === undefined ? seedUsers : [...seedUsers, ...seedSellers];
  const client = createClient({ url, ...(authToken !== undefined && { authToken }) });
  try {
    const db = drizzle(client);
    // One batch, so the users are one round trip and all or nothing.
    const [first, ...rest] = seeded.map((user) =>
      db
        .insert(users)
        .values({
          createdAt: seededAt,
          updatedAt: seededAt,
          ...user,
          passwordHash,
        })
        .onConflictDoNothing()
        .returning({ id: users.id }),
    );
    if (first === undefined) return { created: [], alreadyPresent: [] };
    const results = await db.batch([first, ...rest]);
    const report: SeedReport = { created: [], alreadyPresent: [] };
    let sellersCreated = 0;
    seeded.forEach((user, i) => {
      const created = (results[i]?.length ?? 0) > 0;
      (created ? report.created : report.alreadyPresent).push(user.email);
      if (i < seedUsers.length) {
        progress(
          `${created ? 'created' : 'present'} ${(user.role ?? 'user').padEnd(5)} ${user.email} ${user.id}`,
        );
      } else if (created) sellersCreated += 1;
    });
    if (products === undefined) return report;

    // Fifty lines would bury the fixed users above.
    progress(
      `sellers seller-01..seller-${sellerCount}@example.com: ${sellersCreated} created, ` +
        `${sellerCount - sellersCreated} present`,
    );
    // Sellers first: the generator gives the first owners the most products.
    const candidates: readonly SeededUser[] = [...seedSellers, ...seedUsers];
    const owners = candidates.filter((user) => user.deletedAt == null).map((user) => user.id);
    report.products = await seedProducts(client, {
      count: products.count,
      owners,
      now: products.now ?? new Date(),
      ...(products.seed !== undefined && { seed: products.seed }),
      ...(products.progress !== undefined && { progress: products.progress }),
    });
    return report;
  } finally {
    client.close();
  }
}

const usage = `Usage: npm run db:seed -- [--products N [--seed S]]

Seeds the database TURSO_DATABASE_URL names (with TURSO_AUTH_TOKEN for a remote one) with the
fixed users admin@example.com, grace@example.com, alan@example.com and the soft-deleted
deleted@example.com; users already present are left as they are. Their password is SEED_PASSWORD,
or ${developmentPassword} on a local database; elsewhere they get none.

Options:
  --products N  Also seed ${sellerCount} sellers, seller-01@example.com to seller-${sellerCount}@example.com (same
                password rule), and N generated products, 1 to ${maxSeedProducts.toLocaleString('en-US')}, owned by the sellers
                and the active fixed users and dated over the last 18 months. Each product's id
                derives from the seed and its number: running again with the same N adds
                nothing, and with a larger N adds only the products missing.
  --seed S      The generator's seed, 0 to 4294967295 (default ${defaultProductSeed}). The same seed gives the same
                names, prices, owners and ids.
  -h, --help    Show this help.

Progress goes to stderr: a bar on a terminal, a line every 10% otherwise.
`;

/** Parses the command line; exits 2 with a message on stderr when it makes no sense. */
function parseCommandLine(args: string[]): { products?: number; seed?: number } {
  const fail = (message: string): never => {
    console.error(`db:seed: ${message}\nRun \`npm run db:seed -- --help\` for the options.`);
    process.exit(2);
  };
  let values: { products?: string; seed?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        products: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const wholeNumber = (option: string, text: string, max: number, min: number) => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max)) {
      fail(
        `--${option} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, not "${text}"`,
      );
    }
    return value;
  };
  if (values.seed !== undefined && values.products === undefined) {
    fail('--seed only applies with --products');
  }
  return {
    ...(values.products !== undefined && {
      products: wholeNumber('products', values.products, maxSeedProducts, 1),
    }),
    ...(values.seed !== undefined && { seed: wholeNumber('seed', values.seed, 0xffffffff, 0) }),
  };
}

const barWidth = 30;

/**
 * A bar redrawn in place on a terminal; on a pipe or a CI log, one line at every tenth, since
 * carriage returns would pile up there.
 */
function progressBar(stream: NodeJS.WriteStream): (done: number, total: number) => void {
  const started = performance.now();
  let tenthsShown = 0;
  return (done, total) => {
    const fraction = total === 0 ? 1 : done / total;
    const figures =
      `${Math.floor(fraction * 100)}% ${done.toLocaleString('en-US')}/` +
      `${total.toLocaleString('en-US')} products ${((performance.now() - started) / 1000).toFixed(1)} s`;
    if (stream.isTTY) {
      const filled = Math.floor(fraction * barWidth);
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${figures}`);
      if (done === total) stream.write('\n');
    } else if (Math.floor(fraction * 10) > tenthsShown) {
      tenthsShown = Math.floor(fraction * 10);
      stream.write(`${figures}\n`);
    }
  };
}

if (import.meta.main) {
  const { products, seed } = parseCommandLine(process.argv.slice(2));
  const { url, authToken } = databaseFromEnv('db:seed');
  const password = process.env.SEED_PASSWORD || (isLocal(url) ? developmentPassword : undefined);
  try {
    console.log(`seeding ${printable(url)}`);
    const started = performance.now();
    const report = await seedDatabase(url, authToken, {
      ...(password !== undefined && { password }),
      progress: (line) => console.log(`  ${line}`),
      ...(products !== undefined && {
        products: {
          count: products,
          ...(seed !== undefined && { seed }),
          progress: progressBar(process.stderr),
        },
      }),
    });
    console.log(
      `seeded: ${report.created.length} created, ${report.alreadyPresent.length} already present`,
    );
    if (report.products !== undefined) {
      const { inserted, alreadyPresent } = report.products;
      console.log(
        `products: ${inserted.toLocaleString('en-US')} inserted, ` +
          `${alreadyPresent.toLocaleString('en-US')} already present ` +
          `(seed ${seed ?? defaultProductSeed}, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
    console.log(
      password === undefined
        ? 'seeded users have no password (set SEED_PASSWORD to give them one)'
        : `new seeded users sign in with the password ${password === developmentPassword ? developmentPassword : 'in SEED_PASSWORD'}`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = /no such table/i.test(message) ? ' (run `npm run db:migrate` first)' : '';
    console.error(`db:seed failed: ${message}${hint}`);
    process.exit(1);
  }
}
