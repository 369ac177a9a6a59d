// Business rules for administrators managing users: listing, editing, soft delete and restore, role
// changes. Every change an administrator makes is audited in the same transaction, and the
// platform never loses its last active admin.
import { type UserRole, userRoles } from '../../db/schema.ts';
import type { Pagination } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { type PageRequest, paginationOf } from '../../lib/pagination.ts';
import { forgetApiKeyRecords } from '../api-keys/api-keys.service.ts';
import { type AdminUser, serializeUser } from './user-serializer.ts';
import type { UserListFilter, UserSortColumn } from './users.repository.ts';
import { forgetCachedProfiles, type UsersServiceDeps } from './users.service.ts';

export interface AdminUsersServiceDeps extends UsersServiceDeps {
  /** Ends every session of a user, so a role change or deletion takes effect at once. */
  revokeSessions: (userId: string) => Promise<void>;
}

export interface AdminProfileChanges {
  name?: string;
  email?: string;
}

export interface UserCounts {
  total: number;
  byRole: Record<UserRole, number>;
}

const notFound = () => new AppError('NOT_FOUND', 'User not found');

/** Also what a user deleting their own account hears when they are the last active admin. */
export const lastAdmin = () =>
  new AppError('CONFLICT', 'The last active admin cannot be demoted or deleted', {
    details: { reason: 'last_admin' },
  });

export async function listUsers(
  deps: AdminUsersServiceDeps,
  filter: UserListFilter,
  page: PageRequest<UserSortColumn>,
): Promise<{ users: AdminUser[]; pagination: Pagination }> {
  const { rows, total } = await deps.users.list(filter, page);
  return {
    users: rows.map((user) => serializeUser(user, 'admin')),
    pagination: paginationOf(page, total),
  };
}

export async function getUser(
  deps: AdminUsersServiceDeps,
  id: string,
  includeDeleted: boolean,
): Promise<AdminUser> {
  const user = await deps.users.findById(id, { includeDeleted });
  if (user === undefined) throw notFound();
  return serializeUser(user, 'admin');
}

export async function updateUser(
  deps: AdminUsersServiceDeps,
  actorId: string,
  id: string,
  changes: AdminProfileChanges,
): Promise<AdminUser> {
  const email = changes.email?.toLowerCase();
  // A new address has not been verified by anyone yet.
  const set = email === undefined ? changes : { ...changes, email, emailVerifiedAt: null };
  const outcome = await deps.users.updateProfile(id, set, deps.clock.now(), {
    actorId,
    action: 'user.updated',
    changes: { fields: Object.keys(changes) },
  });
  if (outcome.status === 'email-taken') {
    throw new AppError('CONFLICT', 'Another account uses this email', {
      details: { field: 'email' },
    });
  }
  if (outcome.status === 'not-found') throw notFound();
  await forgetCachedProfiles(deps.cache);
  return serializeUser(outcome.user, 'admin');
}

/** `actorId` null: the admin CLI, whose change is audited with no actor. */
export async function changeRole(
  deps: AdminUsersServiceDeps,
  actorId: string | null,
  id: string,
  role: UserRole,
): Promise<AdminUser> {
  const changed = await deps.users.changeRole(id, role, deps.clock.now(), {
    actorId,
    action: 'user.role_changed',
  });
  if (changed === undefined) {
    // Nothing was written: say why, from what is true now.
    const user = await deps.users.findById(id);
    if (user === undefined) throw notFound();
    if (user.role === role) return serializeUser(user, 'admin');
    throw lastAdmin();
  }
  // The role travels in the access token: the user signs in again to get one with the new role.
  // A cached API key record carries the old role too: it is dropped, so a demoted owner's key
  // loses the admin's permissions at once.
  await Promise.all([
    deps.revokeSessions(id),
    forgetCachedProfiles(deps.cache),
    forgetApiKeyRecords(deps.cache),
  ]);
  return serializeUser(changed, 'admin');
}

export async function deleteUser(
  deps: AdminUsersServiceDeps,
  actorId: string,
  id: string,
): Promise<AdminUser> {
  const deleted = await deps.users.softDelete(id, deps.clock.now(), {
    actorId,
    action: 'user.deleted',
  });
  if (deleted === undefined) {
    const user = await deps.users.findById(id);
    if (user === undefined) throw notFound();
    throw lastAdmin();
  }
  // The cached key records still say the owner is active: dropped, so their keys stop at once.
  await Promise.all([
    deps.revokeSessions(id),
    forgetCachedProfiles(deps.cache),
    forgetApiKeyRecords(deps.cache),
  ]);
  return serializeUser(deleted, 'admin');
}

export async function restoreUser(
  deps: AdminUsersServiceDeps,
  actorId: string,
  id: string,
): Promise<AdminUser> {
  const restored = await deps.users.restore(id, deps.clock.now(), {
    actorId,
    action: 'user.restored',
  });
  if (restored === undefined) throw new AppError('NOT_FOUND', 'No deleted user has this id');
  await forgetCachedProfiles(deps.cache);
  return serializeUser(restored, 'admin');
}

export async function countUsers(deps: Pick<AdminUsersServiceDeps, 'users'>): Promise<UserCounts> {
  const rows = await deps.users.countByRole();
  const byRole = Object.fromEntries(userRoles.map((role) => [role, 0])) as Record<UserRole, number>;
  for (const row of rows) byRole[row.role] = row.count;
  return { total: rows.reduce((sum, row) => sum + row.count, 0), byRole };
}
