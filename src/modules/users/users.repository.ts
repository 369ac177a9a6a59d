// SQL for users. Soft-deleted rows are filtered here, so no caller can forget to.
import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { users } from '../../db/schema.ts';

export interface PublicProfileRow {
  id: string;
  name: string;
  createdAt: Date;
}

export interface UsersRepository {
  /** The public columns of an active (not soft-deleted) user. */
  findPublicProfile(id: string): Promise<PublicProfileRow | undefined>;
}

export function createUsersRepository(db: Database): UsersRepository {
  return {
    async findPublicProfile(id) {
      const [row] = await db
        .select({ id: users.id, name: users.name, createdAt: users.createdAt })
        .from(users)
        .where(and(eq(users.id, id), isNull(users.deletedAt)))
        .limit(1);
      return row;
    },
  };
}
