// Business rules for users as users see them: public profiles (cached), their own profile, and
// finding each other.

import { AppError } from '../../lib/errors.ts';
import type { Cache } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import { checkPermission } from '../auth/permissions.ts';
import type { Principal } from '../auth/principal.ts';
import { forgetProductPages } from '../products/products.service.ts';
import { type PublicUser, type SelfUser, serializeUser } from './user-serializer.ts';
import type { UsersRepository } from './users.repository.ts';

/** Public profiles are cached in this group; every write to a user invalidates it. */
export const usersCacheGroup = 'users';
const profileTtlSeconds = 60;
export const searchLimit = 10;

export interface UsersServiceDeps {
  users: UsersRepository;
  cache: Cache;
  clock: Clock;
}

export interface OwnProfileChanges {
  name: string;
}

// One INCR instead of deleting the one entry: a fill racing with the write was stamped with the
// old version, so it cannot bring the old profile back. Product pages show their owners' public
// profiles (and hide a deleted owner's products): they are forgotten with them.
export async function forgetCachedProfiles(cache: Cache): Promise<void> {
  await Promise.all([cache.group(usersCacheGroup).invalidate(), forgetProductPages(cache)]);
}

// An unknown id is cached too (as null), so probing random ids does not reach the database; a
// soft-deleted user answers exactly like one that never existed.
export async function getPublicProfile(deps: UsersServiceDeps, id: string): Promise<PublicUser> {
  const profile = await deps.cache
    .group(usersCacheGroup)
    .getOrSet(id, profileTtlSeconds, async (): Promise<PublicUser | null> => {
      const user = await deps.users.findById(id);
      return user === undefined ? null : serializeUser(user, 'public');
    });
  if (profile === null) throw new AppError('NOT_FOUND', 'User not found');
  return profile;
}

export async function getOwnProfile(deps: UsersServiceDeps, userId: string): Promise<SelfUser> {
  const user = await deps.users.findById(userId);
  // A valid token whose user was deleted since it was issued.
  if (user === undefined) throw new AppError('NOT_FOUND', 'User not found');
  return serializeUser(user, 'self');
}

/** Whether the user's email address is verified now, whatever an older access token says. */
export async function isEmailVerified(
  deps: Pick<UsersServiceDeps, 'users'>,
  userId: string,
): Promise<boolean> {
  const user = await deps.users.findById(userId);
  return user !== undefined && user.emailVerifiedAt !== null;
}

/** Users change their own profile; an administrator (actorId) changing another's is audited. */
export async function updateProfile(
  deps: UsersServiceDeps,
  userId: string,
  changes: OwnProfileChanges,
  actorId = userId,
): Promise<SelfUser> {
  const audit =
    actorId === userId
      ? undefined
      : { actorId, action: 'user.updated', changes: { fields: Object.keys(changes) } };
  const outcome = await deps.users.updateProfile(userId, changes, deps.clock.now(), audit);
  if (outcome.status !== 'updated') throw new AppError('NOT_FOUND', 'User not found');
  await forgetCachedProfiles(deps.cache);
  return serializeUser(outcome.user, 'self');
}

/**
 * Users whose name contains `text`. Only a caller who may read private profiles also finds users
 * by email: otherwise a search would tell which addresses have an account, which the sign-in and
 * password reset answers take care never to reveal.
 */
export async function searchUsers(
  deps: Pick<UsersServiceDeps, 'users'>,
  caller: Principal,
  text: string,
): Promise<PublicUser[]> {
  const rows = await deps.users.search(text, {
    excludeId: caller.userId,
    byEmail: checkPermission(caller, 'users:read') === 'granted',
    limit: searchLimit,
  });
  return rows.map((user) => serializeUser(user, 'public'));
}
