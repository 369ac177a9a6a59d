// SQL for accounts: credentials, password history and the single-use tokens sent by email. Each
// write that must happen together is one db.batch, which libSQL runs as one transaction in one
// round trip; statements that depend on the one before run only `WHERE changes() = 1`, so a token
// already spent changes nothing at all. The jobs a write must be followed by (its email, its domain
// events) are staged in the outbox inside the same batch, so they exist exactly when the write
// does.
import { and, desc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import {
  type AuditEntry,
  auditLogs,
  type OneTimeTokenPurpose,
  oneTimeTokens,
  passwordHistory,
  refreshTokens,
  type UserRow,
  users,
} from '../../db/schema.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { stageJob, stageJobIfChanged } from '../../jobs/outbox.ts';
import { type Database, isUniqueViolation } from '../../platform/database.ts';
import { createUsersRepository } from '../users/users.repository.ts';
import type { NewRefreshToken } from './refresh-tokens.ts';

/** How many recent passwords a new one may not repeat (the current one included). */
export const PASSWORD_HISTORY_DEPTH = 5;

export interface NewAccount {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  at: Date;
  verification: { id: string; tokenHash: string; expiresAt: Date };
  jobs: PreparedJob[];
  /** The first session's refresh token, live exactly when the account is. */
  session: NewRefreshToken;
}

export interface NewAdministrator {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  at: Date;
}

export interface IssuedToken {
  id: string;
  userId: string;
  purpose: OneTimeTokenPurpose;
  tokenHash: string;
  expiresAt: Date;
  at: Date;
  jobs: PreparedJob[];
}

export interface AuthRepository {
  /** Inserts the user, its first history row and its verification token; false if the email is taken. */
  createAccount(account: NewAccount): Promise<boolean>;
  /**
   * Inserts an administrator whose email counts as verified, its first history row and its audit
   * row; false if the email is taken.
   */
  createAdministrator(account: NewAdministrator, audit: AuditEntry): Promise<boolean>;
  /** An active user by (lower-cased) email, with the password hash. */
  findActiveByEmail(email: string): Promise<UserRow | undefined>;
  findActiveById(id: string): Promise<UserRow | undefined>;
  recentPasswordHashes(userId: string): Promise<string[]>;
  /** The same password, hashed with today's parameters: no history row, it is not a new password. */
  rehashPassword(userId: string, passwordHash: string): Promise<void>;
  /** Sets a new password, records it in the history and drops history beyond its depth. */
  setPassword(userId: string, passwordHash: string, at: Date, jobs: PreparedJob[]): Promise<void>;
  /** Stores a new token; earlier unused tokens of the same purpose stop working. */
  issueToken(token: IssuedToken): Promise<void>;
  /** The user a live (unused, unexpired) token belongs to, with that user's recent password hashes. */
  findLiveToken(
    tokenHash: string,
    purpose: OneTimeTokenPurpose,
    now: Date,
  ): Promise<{ tokenId: string; user: UserRow; recentHashes: string[] } | undefined>;
  /**
   * Spends the token and marks the email verified; undefined if the token was already spent, and
   * then no job is staged either.
   */
  confirmEmail(
    tokenId: string,
    userId: string,
    at: Date,
    jobs: PreparedJob[],
  ): Promise<UserRow | undefined>;
  /** Spends the token and sets the new password; false (and no job staged) if already spent. */
  resetPassword(
    tokenId: string,
    userId: string,
    passwordHash: string,
    at: Date,
    jobs: PreparedJob[],
  ): Promise<boolean>;
  /**
   * The user deleting their own account: the admin route's rules (never the last active admin)
   * and its audit row, in the same transaction. 'last-admin' and 'not-found' change nothing.
   */
  softDelete(userId: string, at: Date): Promise<'deleted' | 'last-admin' | 'not-found'>;
}

export function createAuthRepository(db: Database): AuthRepository {
  const active = (where: SQL) => and(where, isNull(users.deletedAt));

  const historyInsert = (userId: string, passwordHash: string, at: Date, onlyIfChanged: boolean) =>
    db.run(
      sql`INSERT INTO ${passwordHistory} (id, user_id, password_hash, created_at)
        SELECT ${crypto.randomUUID()}, ${userId}, ${passwordHash}, ${at.getTime()}
        WHERE ${onlyIfChanged ? sql`changes() = 1` : sql`1`}`,
    );

  // Keeps the newest rows only: the history is bounded, and older hashes are not kept around.
  const historyPrune = (userId: string) =>
    db.run(
      sql`DELETE FROM ${passwordHistory} WHERE ${passwordHistory.userId} = ${userId}
        AND ${passwordHistory.id} NOT IN (
          SELECT ${passwordHistory.id} FROM ${passwordHistory}
          WHERE ${passwordHistory.userId} = ${userId}
          ORDER BY ${passwordHistory.createdAt} DESC, rowid DESC
          LIMIT ${PASSWORD_HISTORY_DEPTH}
        )`,
    );

  const spendToken = (tokenId: string, at: Date) =>
    db
      .update(oneTimeTokens)
      .set({ usedAt: at })
      .where(and(eq(oneTimeTokens.id, tokenId), isNull(oneTimeTokens.usedAt)));

  const findActiveById = async (id: string) => {
    const [row] = await db
      .select()
      .from(users)
      .where(active(eq(users.id, id)))
      .limit(1);
    return row;
  };

  const recentHashesQuery = (userId: string) =>
    db
      .select({ passwordHash: passwordHistory.passwordHash })
      .from(passwordHistory)
      .where(eq(passwordHistory.userId, userId))
      .orderBy(desc(passwordHistory.createdAt), desc(sql`rowid`))
      .limit(PASSWORD_HISTORY_DEPTH);

  return {
    async createAccount(account) {
      try {
        await db.batch([
          db.insert(users).values({
            id: account.id,
            email: account.email,
            name: account.name,
            passwordHash: account.passwordHash,
            passwordChangedAt: account.at,
            createdAt: account.at,
            updatedAt: account.at,
          }),
          historyInsert(account.id, account.passwordHash, account.at, false),
          db.insert(oneTimeTokens).values({
            id: account.verification.id,
            userId: account.id,
            purpose: 'email_verification',
            tokenHash: account.verification.tokenHash,
            expiresAt: account.verification.expiresAt,
            createdAt: account.at,
          }),
          db.insert(refreshTokens).values(account.session),
          ...account.jobs.map((job) => stageJob(db, job)),
        ]);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async createAdministrator(account, audit) {
      try {
        await db.batch([
          db.insert(users).values({
            id: account.id,
            email: account.email,
            name: account.name,
            role: 'admin',
            passwordHash: account.passwordHash,
            passwordChangedAt: account.at,
            emailVerifiedAt: account.at,
            createdAt: account.at,
            updatedAt: account.at,
          }),
          historyInsert(account.id, account.passwordHash, account.at, false),
          db.insert(auditLogs).values({
            actorId: audit.actorId,
            action: audit.action,
            targetType: 'user',
            targetId: account.id,
            changes: audit.changes ?? {},
            createdAt: account.at,
          }),
        ]);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async findActiveByEmail(email) {
      const [row] = await db
        .select()
        .from(users)
        .where(active(eq(users.email, email)))
        .limit(1);
      return row;
    },

    findActiveById,

    async recentPasswordHashes(userId) {
      const rows = await recentHashesQuery(userId);
      return rows.map((row) => row.passwordHash);
    },

    async rehashPassword(userId, passwordHash) {
      await db.update(users).set({ passwordHash }).where(eq(users.id, userId));
    },

    async setPassword(userId, passwordHash, at, jobs) {
      await db.batch([
        db
          .update(users)
          .set({ passwordHash, passwordChangedAt: at, updatedAt: at })
          .where(eq(users.id, userId)),
        historyInsert(userId, passwordHash, at, false),
        historyPrune(userId),
        ...jobs.map((job) => stageJob(db, job)),
      ]);
    },

    async issueToken(token) {
      await db.batch([
        db
          .update(oneTimeTokens)
          .set({ usedAt: token.at })
          .where(
            and(
              eq(oneTimeTokens.userId, token.userId),
              eq(oneTimeTokens.purpose, token.purpose),
              isNull(oneTimeTokens.usedAt),
            ),
          ),
        db.insert(oneTimeTokens).values({
          id: token.id,
          userId: token.userId,
          purpose: token.purpose,
          tokenHash: token.tokenHash,
          expiresAt: token.expiresAt,
          createdAt: token.at,
        }),
        ...token.jobs.map((job) => stageJob(db, job)),
      ]);
    },

    async findLiveToken(tokenHash, purpose, now) {
      const [found] = await db
        .select({ tokenId: oneTimeTokens.id, user: users })
        .from(oneTimeTokens)
        .innerJoin(users, eq(users.id, oneTimeTokens.userId))
        .where(
          and(
            eq(oneTimeTokens.tokenHash, tokenHash),
            eq(oneTimeTokens.purpose, purpose),
            isNull(oneTimeTokens.usedAt),
            gt(oneTimeTokens.expiresAt, now),
            isNull(users.deletedAt),
          ),
        )
        .limit(1);
      if (found === undefined) return undefined;
      const recentHashes =
        purpose === 'password_reset' ? await recentHashesQuery(found.user.id) : [];
      return { ...found, recentHashes: recentHashes.map((row) => row.passwordHash) };
    },

    async confirmEmail(tokenId, userId, at, jobs) {
      const [, updated] = await db.batch([
        spendToken(tokenId, at),
        db
          .update(users)
          .set({ emailVerifiedAt: at, updatedAt: at })
          .where(and(eq(users.id, userId), sql`changes() = 1`))
          .returning(),
        ...jobs.map((job) => stageJobIfChanged(db, job)),
      ]);
      return updated[0];
    },

    async resetPassword(tokenId, userId, passwordHash, at, jobs) {
      const [, updated] = await db.batch([
        spendToken(tokenId, at),
        db
          .update(users)
          .set({ passwordHash, passwordChangedAt: at, updatedAt: at })
          .where(and(eq(users.id, userId), isNull(users.deletedAt), sql`changes() = 1`))
          .returning({ id: users.id }),
        historyInsert(userId, passwordHash, at, true),
        // After the history row, which is inserted only when the password changed: the same chain.
        ...jobs.map((job) => stageJobIfChanged(db, job)),
        historyPrune(userId),
      ]);
      return updated.length === 1;
    },

    // The users repository's own soft delete, so both routes share one guard and one audit shape.
    async softDelete(userId, at) {
      const deleted = await createUsersRepository(db).softDelete(userId, at, {
        actorId: userId,
        action: 'user.deleted',
      });
      if (deleted !== undefined) return 'deleted';
      // Nothing was written: say why, from what is true now.
      return (await findActiveById(userId)) === undefined ? 'not-found' : 'last-admin';
    },
  };
}
