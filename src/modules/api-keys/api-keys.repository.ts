// SQL for API keys. Only the authentication look-up reads a key's hash, and it hands back the
// owner's state in the same query; no other query selects the hash.
import { and, asc, count, desc, eq, type SQL, sql } from 'drizzle-orm';
import { apiKeys, apiKeyUsage, type UserRole, users } from '../../db/schema.ts';
import { offsetOf, type PageRequest } from '../../lib/pagination.ts';
import type { Database } from '../../platform/database.ts';
import type { ApiKeySortColumn } from './api-keys.schemas.ts';

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key with its owner: the admin CLI lists every user's keys. */
export interface ApiKeyWithOwnerRow extends ApiKeyRow {
  ownerId: string;
  ownerEmail: string;
}

export interface NewApiKey {
  userId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
}

/** A key as authentication needs it, with its owner's state. */
export interface ApiKeyAuthRow {
  id: string;
  userId: string;
  scopes: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  ownerRole: UserRole;
  ownerEmailVerifiedAt: Date | null;
  ownerDeletedAt: Date | null;
}

export interface ApiKeyUse {
  apiKeyId: string;
  method: string;
  endpoint: string;
  ip: string | null;
  status: number;
  at: Date;
}

export interface ApiKeysRepository {
  insert(key: NewApiKey): Promise<ApiKeyRow>;
  /** One page of the owner's keys, revoked and expired ones included, and how many there are. */
  listByOwner(
    userId: string,
    page: PageRequest<ApiKeySortColumn>,
  ): Promise<{ rows: ApiKeyRow[]; total: number }>;
  /** One page of every user's keys, or of one user's, revoked and expired ones included. */
  listAll(
    filter: { userId?: string },
    page: PageRequest<ApiKeySortColumn>,
  ): Promise<{ rows: ApiKeyWithOwnerRow[]; total: number }>;
  /** Revokes the owner's key; a key revoked before keeps its first revocation time. */
  revoke(userId: string, id: string, at: Date): Promise<ApiKeyRow | undefined>;
  /** Revokes a key whoever owns it, as `revoke` does. */
  revokeAny(id: string, at: Date): Promise<ApiKeyRow | undefined>;
  findForAuthentication(keyHash: string): Promise<ApiKeyAuthRow | undefined>;
  /** The usage row and the key's lastUsedAt, in one batch. */
  recordUse(use: ApiKeyUse): Promise<void>;
}

const rowColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

const sortColumns = {
  createdAt: apiKeys.createdAt,
  name: apiKeys.name,
  lastUsedAt: apiKeys.lastUsedAt,
} as const;

export function createApiKeysRepository(db: Database): ApiKeysRepository {
  const revokeWhere = async (where: SQL | undefined, at: Date) => {
    const [row] = await db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${at.getTime()})` })
      .where(where)
      .returning(rowColumns);
    return row;
  };

  return {
    async insert(key) {
      const [row] = await db.insert(apiKeys).values(key).returning(rowColumns);
      if (row === undefined) throw new Error('api_keys insert returned no row');
      return row;
    },

    async listByOwner(userId, page) {
      const direction = page.sortOrder === 'asc' ? asc : desc;
      const owned = eq(apiKeys.userId, userId);
      const [rows, [counted]] = await db.batch([
        db
          .select(rowColumns)
          .from(apiKeys)
          .where(owned)
          // The id breaks ties, so pages never overlap or skip a key.
          .orderBy(direction(sortColumns[page.sortBy]), direction(apiKeys.id))
          .limit(page.limit)
          .offset(offsetOf(page)),
        db.select({ total: count() }).from(apiKeys).where(owned),
      ]);
      return { rows, total: counted?.total ?? 0 };
    },

    async listAll({ userId }, page) {
      const direction = page.sortOrder === 'asc' ? asc : desc;
      const owned = userId === undefined ? undefined : eq(apiKeys.userId, userId);
      const [rows, [counted]] = await db.batch([
        db
          .select({ ...rowColumns, ownerId: apiKeys.userId, ownerEmail: users.email })
          .from(apiKeys)
          .innerJoin(users, eq(users.id, apiKeys.userId))
          .where(owned)
          .orderBy(direction(sortColumns[page.sortBy]), direction(apiKeys.id))
          .limit(page.limit)
          .offset(offsetOf(page)),
        db.select({ total: count() }).from(apiKeys).where(owned),
      ]);
      return { rows, total: counted?.total ?? 0 };
    },

    revoke(userId, id, at) {
      return revokeWhere(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)), at);
    },

    revokeAny(id, at) {
      return revokeWhere(eq(apiKeys.id, id), at);
    },

    async findForAuthentication(keyHash) {
      const [row] = await db
        .select({
          id: apiKeys.id,
          userId: apiKeys.userId,
          scopes: apiKeys.scopes,
          expiresAt: apiKeys.expiresAt,
          revokedAt: apiKeys.revokedAt,
          ownerRole: users.role,
          ownerEmailVerifiedAt: users.emailVerifiedAt,
          ownerDeletedAt: users.deletedAt,
        })
        .from(apiKeys)
        .innerJoin(users, eq(users.id, apiKeys.userId))
        .where(eq(apiKeys.keyHash, keyHash))
        .limit(1);
      return row;
    },

    async recordUse(use) {
      await db.batch([
        db.update(apiKeys).set({ lastUsedAt: use.at }).where(eq(apiKeys.id, use.apiKeyId)),
        db.insert(apiKeyUsage).values({
          apiKeyId: use.apiKeyId,
          method: use.method,
          endpoint: use.endpoint,
          ip: use.ip,
          status: use.status,
          createdAt: use.at,
        }),
      ]);
    },
  };
}
