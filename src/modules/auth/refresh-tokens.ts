// SQL for refresh tokens. A token is stored as its SHA-256 and belongs to a family: the chain of
// tokens one sign-in rotated through. Rotation is one database batch (one transaction, one round
// trip), so two requests presenting the same token cannot both get a successor.
import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { refreshTokens, type UserRole, users } from '../../db/schema.ts';
import type { Database } from '../../platform/database.ts';

export interface NewRefreshToken {
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

export interface TokenOwner {
  userId: string;
  familyId: string;
  role: UserRole;
  emailVerifiedAt: Date | null;
  deletedAt: Date | null;
}

export type RotationOutcome =
  | { outcome: 'rotated'; owner: TokenOwner }
  /** Presented after it had been exchanged: a copy is in someone else's hands. */
  | { outcome: 'reused'; owner: TokenOwner; familyRevoked: boolean }
  | { outcome: 'revoked' | 'expired' | 'unknown' };

export interface RotateRequest {
  presentedHash: string;
  successor: { id: string; tokenHash: string; expiresAt: Date };
  now: Date;
}

export interface RefreshTokenRepository {
  insert(token: NewRefreshToken): Promise<void>;
  rotate(request: RotateRequest): Promise<RotationOutcome>;
  /** Revokes the family, but only if it belongs to the user. */
  revokeFamily(familyId: string, userId: string, now: Date): Promise<void>;
  /**
   * Revokes the family of the token with this hash, if it belongs to the user; returns the
   * family's id when it was still live.
   */
  revokeFamilyOfToken(tokenHash: string, userId: string, now: Date): Promise<string[]>;
  /** Revokes every live family of the user and returns their ids (the sessions to deny). */
  revokeAllOfUser(userId: string, now: Date): Promise<string[]>;
}

export function createRefreshTokenRepository(db: Database): RefreshTokenRepository {
  const revokeWhere = async (condition: SQL | undefined, now: Date): Promise<string[]> => {
    const rows = await db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(condition, isNull(refreshTokens.revokedAt)))
      .returning({ familyId: refreshTokens.familyId });
    return [...new Set(rows.map((row) => row.familyId))];
  };

  return {
    async insert(token) {
      await db.insert(refreshTokens).values(token);
    },

    async rotate({ presentedHash, successor, now }) {
      const usable = and(
        eq(refreshTokens.tokenHash, presentedHash),
        isNull(refreshTokens.usedAt),
        isNull(refreshTokens.revokedAt),
        sql`${refreshTokens.expiresAt} > ${now.getTime()}`,
      );
      // The successor is inserted first, under the same conditions the update then checks: in
      // one transaction both see the same row, and SQLite runs write transactions one at a time,
      // so a concurrent rotation of the same token finds it used and inserts nothing.
      const [, claimed, [row]] = await db.batch([
        db.run(sql`
          insert into refresh_tokens (id, user_id, family_id, token_hash, expires_at)
          select ${successor.id}, user_id, family_id, ${successor.tokenHash},
                 ${successor.expiresAt.getTime()}
          from refresh_tokens where ${usable}`),
        db.update(refreshTokens).set({ usedAt: now }).where(usable).returning({
          id: refreshTokens.id,
        }),
        db
          .select({
            userId: refreshTokens.userId,
            familyId: refreshTokens.familyId,
            usedAt: refreshTokens.usedAt,
            revokedAt: refreshTokens.revokedAt,
            expiresAt: refreshTokens.expiresAt,
            role: users.role,
            emailVerifiedAt: users.emailVerifiedAt,
            deletedAt: users.deletedAt,
          })
          .from(refreshTokens)
          .innerJoin(users, eq(users.id, refreshTokens.userId))
          .where(eq(refreshTokens.tokenHash, presentedHash)),
      ]);
      if (row === undefined) return { outcome: 'unknown' };
      const owner: TokenOwner = {
        userId: row.userId,
        familyId: row.familyId,
        role: row.role,
        emailVerifiedAt: row.emailVerifiedAt,
        deletedAt: row.deletedAt,
      };
      if (claimed.length === 1) return { outcome: 'rotated', owner };
      if (row.usedAt !== null) {
        return { outcome: 'reused', owner, familyRevoked: row.revokedAt !== null };
      }
      if (row.revokedAt !== null) return { outcome: 'revoked' };
      return { outcome: 'expired' };
    },

    async revokeFamily(familyId, userId, now) {
      await revokeWhere(
        and(eq(refreshTokens.familyId, familyId), eq(refreshTokens.userId, userId)),
        now,
      );
    },

    async revokeFamilyOfToken(tokenHash, userId, now) {
      const family = db
        .select({ familyId: refreshTokens.familyId })
        .from(refreshTokens)
        .where(and(eq(refreshTokens.tokenHash, tokenHash), eq(refreshTokens.userId, userId)));
      return revokeWhere(inArray(refreshTokens.familyId, family), now);
    },

    revokeAllOfUser(userId, now) {
      return revokeWhere(eq(refreshTokens.userId, userId), now);
    },
  };
}
