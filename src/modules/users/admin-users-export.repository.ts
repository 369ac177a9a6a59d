// SQL of the users export: one keyset page of users in (createdAt, id) order, oldest first. As in
// users.repository.ts, the password hash is left out of the columns, so no page can carry it.
import { and, asc, getTableColumns, isNull, sql } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import type { Database } from '../../platform/database.ts';
import type { SerializableUser } from './user-serializer.ts';

const { passwordHash: _neverRead, ...userColumns } = getTableColumns(users);

/** Where a page starts: after the user created at this instant (epoch ms) with this id. */
export interface UserPosition {
  createdAt: number;
  id: string;
}

export interface UsersExportRepository {
  /** Up to `limit` users after `after`, oldest first; soft-deleted ones only when asked for. */
  pageAfter(
    after: UserPosition | undefined,
    limit: number,
    options: { includeDeleted: boolean },
  ): Promise<SerializableUser[]>;
}

export function createUsersExportRepository(db: Database): UsersExportRepository {
  return {
    pageAfter(after, limit, { includeDeleted }) {
      return db
        .select(userColumns)
        .from(users)
        .where(
          and(
            includeDeleted ? undefined : isNull(users.deletedAt),
            after === undefined
              ? undefined
              : sql`(${users.createdAt}, ${users.id}) > (${after.createdAt}, ${after.id})`,
          ),
        )
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(limit);
    },
  };
}
