// SQL for users. Soft-deleted rows are filtered here, so no caller can forget to; the password
// hash is never read. Writes that administrators make carry their audit-log row in the same batch,
// which libSQL runs as one transaction in one round trip: the audit row is selected from the very
// row the update is about to change, under the same conditions, so both happen or neither does.
import {
  and,
  asc,
  count,
  desc,
  eq,
  getTableColumns,
  isNotNull,
  isNull,
  ne,
  type SQL,
  sql,
} from 'drizzle-orm';
import {
  type AuditEntry,
  auditLogs,
  oneTimeTokens,
  type UserRole,
  users,
} from '../../db/schema.ts';
import { offsetOf, type PageRequest } from '../../lib/pagination.ts';
import { type Database, isUniqueViolation } from '../../platform/database.ts';
import type { SerializableUser } from './user-serializer.ts';

const { passwordHash: _neverRead, ...userColumns } = getTableColumns(users);

export const userSortColumns = ['name', 'email', 'createdAt'] as const;
export type UserSortColumn = (typeof userSortColumns)[number];

export interface UserListFilter {
  role?: UserRole;
  verified?: boolean;
  /** Name or email contains this, ignoring ASCII case. */
  q?: string;
  includeDeleted: boolean;
}

/** Who did what to which user, written together with the change or not at all. */
export interface ProfileChanges {
  name?: string;
  email?: string;
  emailVerifiedAt?: Date | null;
}

export type UpdateOutcome =
  | { status: 'updated'; user: SerializableUser }
  | { status: 'not-found' }
  | { status: 'email-taken' };

export interface UsersRepository {
  findById(
    id: string,
    options?: { includeDeleted?: boolean },
  ): Promise<SerializableUser | undefined>;
  /** By email, lower-cased as it is stored. */
  findByEmail(
    email: string,
    options?: { includeDeleted?: boolean },
  ): Promise<SerializableUser | undefined>;
  list(
    filter: UserListFilter,
    page: PageRequest<UserSortColumn>,
  ): Promise<{ rows: SerializableUser[]; total: number }>;
  /**
   * Active users other than `excludeId` whose name, or with `byEmail` whose name or email,
   * contains `text`, by name.
   */
  search(
    text: string,
    options: { excludeId: string; byEmail: boolean; limit: number },
  ): Promise<SerializableUser[]>;
  countByRole(): Promise<{ role: UserRole; count: number }[]>;
  /**
   * Changes an active user's profile; with an audit entry, writes it in the same transaction. A new
   * email also spends every unused one-time token of the user, in that transaction too.
   */
  updateProfile(
    id: string,
    changes: ProfileChanges,
    at: Date,
    audit?: AuditEntry,
  ): Promise<UpdateOutcome>;
  /**
   * Gives an active user another role, with an audit row recording the old and new one. Nothing
   * changes (undefined) if the user is gone, already has the role, or is the last active admin.
   */
  changeRole(
    id: string,
    to: UserRole,
    at: Date,
    audit: Omit<AuditEntry, 'changes'>,
  ): Promise<SerializableUser | undefined>;
  /** Soft-deletes an active user unless they are the last active admin. */
  softDelete(id: string, at: Date, audit: AuditEntry): Promise<SerializableUser | undefined>;
  /** Brings back a soft-deleted user. */
  restore(id: string, at: Date, audit: AuditEntry): Promise<SerializableUser | undefined>;
}

/** A LIKE pattern matching `text` anywhere, with LIKE's own wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

// SQLite's LIKE ignores ASCII case; emails are stored lower-cased.
function nameContains(text: string): SQL {
  return sql`${users.name} LIKE ${containsPattern(text)} ESCAPE '\\'`;
}

function nameOrEmailContains(text: string): SQL {
  const pattern = containsPattern(text);
  return sql`(${users.name} LIKE ${pattern} ESCAPE '\\'
    OR ${users.email} LIKE ${pattern} ESCAPE '\\')`;
}

/** True while at least one other active admin would remain if this row stopped being one. */
const notLastAdmin = sql`(${users.role} <> 'admin' OR (
  SELECT count(*) FROM ${users} WHERE ${users.role} = 'admin' AND ${users.deletedAt} IS NULL
) > 1)`;

const sortColumn = {
  name: users.name,
  email: users.email,
  createdAt: users.createdAt,
} as const;

export function createUsersRepository(db: Database): UsersRepository {
  // The audit row is read from the row about to change, under the update's own conditions: it
  // exists exactly when the update that follows it in the batch changes that row.
  const auditInsert = (where: SQL, targetId: string, at: Date, entry: AuditEntry, changes: SQL) =>
    db.run(
      sql`INSERT INTO ${auditLogs}
          (id, actor_id, action, target_type, target_id, changes, created_at)
        SELECT ${crypto.randomUUID()}, ${entry.actorId}, ${entry.action}, 'user', ${targetId},
          ${changes}, ${at.getTime()}
        FROM ${users} WHERE ${where}`,
    );

  // Links already mailed (verification, password reset) went to the old address: whoever reads
  // that mailbox must not keep a way into the account. Runs right after the user's update and only
  // `WHERE changes() = 1`, so a gone user spends nothing; a taken email fails the whole batch.
  const spendUnusedTokens = (userId: string, at: Date) =>
    db
      .update(oneTimeTokens)
      .set({ usedAt: at })
      .where(
        and(eq(oneTimeTokens.userId, userId), isNull(oneTimeTokens.usedAt), sql`changes() = 1`),
      );

  const updateWithAudit = async (
    where: SQL,
    set: Partial<typeof users.$inferInsert>,
    targetId: string,
    at: Date,
    audit: AuditEntry,
    changes: SQL = sql`${JSON.stringify(audit.changes ?? {})}`,
    alsoRun: ReturnType<typeof spendUnusedTokens>[] = [],
  ) => {
    const [, rows] = await db.batch([
      auditInsert(where, targetId, at, audit, changes),
      db.update(users).set(set).where(where).returning(userColumns),
      ...alsoRun,
    ]);
    return rows[0];
  };

  const activeUser = (id: string, ...more: SQL[]): SQL =>
    sql.join([eq(users.id, id), isNull(users.deletedAt), ...more], sql` AND `);

  return {
    async findById(id, options = {}) {
      const [row] = await db
        .select(userColumns)
        .from(users)
        .where(options.includeDeleted ? eq(users.id, id) : activeUser(id))
        .limit(1);
      return row;
    },

    async findByEmail(email, options = {}) {
      const matches = eq(users.email, email.toLowerCase());
      const [row] = await db
        .select(userColumns)
        .from(users)
        .where(options.includeDeleted ? matches : and(matches, isNull(users.deletedAt)))
        .limit(1);
      return row;
    },

    async list(filter, page) {
      const where = and(
        filter.includeDeleted ? undefined : isNull(users.deletedAt),
        filter.role === undefined ? undefined : eq(users.role, filter.role),
        filter.verified === undefined
          ? undefined
          : filter.verified
            ? isNotNull(users.emailVerifiedAt)
            : isNull(users.emailVerifiedAt),
        filter.q === undefined ? undefined : nameOrEmailContains(filter.q),
      );
      const direction = page.sortOrder === 'asc' ? asc : desc;
      // The id breaks ties, so rows with equal sort values keep one order across pages.
      const [rows, [totals]] = await db.batch([
        db
          .select(userColumns)
          .from(users)
          .where(where)
          .orderBy(direction(sortColumn[page.sortBy]), direction(users.id))
          .limit(page.limit)
          .offset(offsetOf(page)),
        db.select({ total: count() }).from(users).where(where),
      ]);
      return { rows, total: totals?.total ?? 0 };
    },

    search(text, { excludeId, byEmail, limit }) {
      const matches = byEmail ? nameOrEmailContains(text) : nameContains(text);
      return db
        .select(userColumns)
        .from(users)
        .where(and(isNull(users.deletedAt), ne(users.id, excludeId), matches))
        .orderBy(asc(users.name), asc(users.id))
        .limit(limit);
    },

    countByRole() {
      return db
        .select({ role: users.role, count: count() })
        .from(users)
        .where(isNull(users.deletedAt))
        .groupBy(users.role);
    },

    async updateProfile(id, changes, at, audit) {
      const where = activeUser(id);
      const set = { ...changes, updatedAt: at };
      const alsoRun = changes.email === undefined ? [] : [spendUnusedTokens(id, at)];
      try {
        const user =
          audit === undefined
            ? (
                await db.batch([
                  db.update(users).set(set).where(where).returning(userColumns),
                  ...alsoRun,
                ])
              )[0][0]
            : await updateWithAudit(where, set, id, at, audit, undefined, alsoRun);
        return user === undefined ? { status: 'not-found' } : { status: 'updated', user };
      } catch (error) {
        if (isUniqueViolation(error)) return { status: 'email-taken' };
        throw error;
      }
    },

    changeRole(id, to, at, audit) {
      const where = activeUser(id, ne(users.role, to), ...(to === 'admin' ? [] : [notLastAdmin]));
      const changes = sql`json_object('role', json_object('from', ${users.role}, 'to', ${to}))`;
      return updateWithAudit(where, { role: to, updatedAt: at }, id, at, audit, changes);
    },

    softDelete(id, at, audit) {
      return updateWithAudit(
        activeUser(id, notLastAdmin),
        { deletedAt: at, updatedAt: at },
        id,
        at,
        audit,
      );
    },

    restore(id, at, audit) {
      const where = sql`${eq(users.id, id)} AND ${isNotNull(users.deletedAt)}`;
      return updateWithAudit(where, { deletedAt: null, updatedAt: at }, id, at, audit);
    },
  };
}
