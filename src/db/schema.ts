// The database schema, the single source for drizzle-kit's migrations in drizzle/.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const userRoles = ['user', 'admin'] as const;
export type UserRole = (typeof userRoles)[number];

const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });
// Whole milliseconds: unixepoch('subsec') * 1000 alone can land a hair off an integer and be
// stored as REAL.
const nowMs = sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`;

export const users = sqliteTable(
  'users',
  {
    /** A UUID; the public identifier too, so it must not be guessable (never a sequence). */
    id: text('id')
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    /** Stored lower-cased, so uniqueness ignores case. */
    email: text('email').notNull().unique(),
    name: text('name').notNull(),
    role: text('role', { enum: userRoles }).notNull().default('user'),
    emailVerifiedAt: timestamp('email_verified_at'),
    createdAt: timestamp('created_at').notNull().default(nowMs),
    updatedAt: timestamp('updated_at').notNull().default(nowMs),
    /** Soft delete: set, the user is hidden everywhere by default. */
    deletedAt: timestamp('deleted_at'),
  },
  (table) => [index('users_deleted_at_idx').on(table.deletedAt)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
