// Business rules for users: who may be seen, and how long a profile may be served from cache.
import type { Cache } from '../../lib/cache.ts';
import { AppError } from '../../lib/errors.ts';
import type { UsersRepository } from './users.repository.ts';
import type { PublicProfile } from './users.schemas.ts';

/** Writes to a user must delete its entry in this group (or invalidate the group). */
export const usersCacheGroup = 'users';
const profileTtlSeconds = 60;

export interface UsersServiceDeps {
  users: UsersRepository;
  cache: Cache;
}

// An unknown id is cached too (as null), so probing random ids does not reach the database; a
// soft-deleted user answers exactly like one that never existed.
export async function getPublicProfile(deps: UsersServiceDeps, id: string): Promise<PublicProfile> {
  const profile = await deps.cache
    .group(usersCacheGroup)
    .getOrSet(id, profileTtlSeconds, async (): Promise<PublicProfile | null> => {
      const row = await deps.users.findPublicProfile(id);
      return row === undefined
        ? null
        : { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
    });
  if (profile === null) throw new AppError('NOT_FOUND', 'User not found');
  return profile;
}
