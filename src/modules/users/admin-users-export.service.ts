// The users export: every user as administrators see them (user-serializer.ts's admin view: the
// account's state, never a secret), oldest first.
import { keysetPages, type NextPage } from '../../lib/export-stream.ts';
import type { UserPosition, UsersExportRepository } from './admin-users-export.repository.ts';
import { type AdminUser, type SerializableUser, serializeUser } from './user-serializer.ts';

export interface UsersExportServiceDeps {
  exports: UsersExportRepository;
}

const userExportPageSize = 500;

/** The export's pages; nothing is read until the first page is asked for. */
export function exportUsers(
  deps: UsersExportServiceDeps,
  options: { includeDeleted: boolean },
): NextPage<AdminUser> {
  const pages = keysetPages<SerializableUser, UserPosition>({
    pageSize: userExportPageSize,
    read: (after, limit) => deps.exports.pageAfter(after, limit, options),
    positionOf: (user) => ({ createdAt: user.createdAt.getTime(), id: user.id }),
  });
  return async () => (await pages()).map((user) => serializeUser(user, 'admin'));
}
