// `npm run db:seed`: a known set of users for development and demos, with fixed ids and emails so
// docs, scripts and tests can name them. Idempotent: a user already present (same id or email) is
// left as it is, so running it again changes nothing. Given a password (SEED_PASSWORD, or the
// development one on a local database), every seeded user signs in with it; never a known
// password on a remote database unless asked.
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { type NewUserRow, users } from '../db/schema.ts';
import { hashPassword } from '../modules/auth/passwords.ts';
import { databaseFromEnv, printable } from './migrate.ts';

const seededAt = new Date('2026-01-01T00:00:00.000Z');

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

/** The seeded users' password on a local database, when SEED_PASSWORD does not name one. */
export const developmentPassword = 'Seeded-Dev#Passw0rd';

const isLocal = (url: string) =>
  url.startsWith('file:') || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$)/.test(url);

export interface SeedOptions {
  /** Every seeded user's password; without one they cannot sign in. */
  password?: string;
  progress?: (line: string) => void;
}

export interface SeedReport {
  created: string[];
  alreadyPresent: string[];
}

export async function seedDatabase(
  url: string,
  authToken?: string,
  options: SeedOptions = {},
): Promise<SeedReport> {
  const { password, progress = () => {} } = options;
  const passwordHash = password === undefined ? null : await hashPassword(password);
  const client = createClient({ url, ...(authToken !== undefined && { authToken }) });
  try {
    const db = drizzle(client);
    // One batch, so the seed is one round trip and all or nothing.
    const [first, ...rest] = seedUsers.map((user) =>
      db
        .insert(users)
        .values({ ...user, passwordHash, createdAt: seededAt, updatedAt: seededAt })
        .onConflictDoNothing()
        .returning({ id: users.id }),
    );
    if (first === undefined) return { created: [], alreadyPresent: [] };
    const results = await db.batch([first, ...rest]);
    const report: SeedReport = { created: [], alreadyPresent: [] };
    seedUsers.forEach((user, i) => {
      const created = (results[i]?.length ?? 0) > 0;
      (created ? report.created : report.alreadyPresent).push(user.email);
      progress(
        `${created ? 'created' : 'present'} ${user.role.padEnd(5)} ${user.email} ${user.id}`,
      );
    });
    return report;
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  const { url, authToken } = databaseFromEnv('db:seed');
  const password = process.env.SEED_PASSWORD || (isLocal(url) ? developmentPassword : undefined);
  try {
    console.log(`seeding ${printable(url)}`);
    const { created, alreadyPresent } = await seedDatabase(url, authToken, {
      ...(password !== undefined && { password }),
      progress: (line) => console.log(`  ${line}`),
    });
    console.log(`seeded: ${created.length} created, ${alreadyPresent.length} already present`);
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
