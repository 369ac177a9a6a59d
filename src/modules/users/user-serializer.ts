// The one place that decides which of a user's fields leave the server, by who is looking. Each
// view lists its fields one by one: a column added to the table stays private until it is named
// here, and a password hash, token or key hash is never named.
import { z } from '@hono/zod-openapi';
import { type UserRow, userRoles } from '../../db/schema.ts';

export type UserViewer = 'public' | 'self' | 'admin';

/** A user as the repositories hand it over; the password hash need not (and should not) be read. */
export type SerializableUser = Omit<UserRow, 'passwordHash'>;

const instant = (description: string) => z.iso.datetime().openapi({ description });
const optionalInstant = (description: string) =>
  z.iso.datetime().nullable().openapi({ description });

/** What anyone may know about a user. */
export const publicUserSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdAt: instant('When the account was created (UTC).'),
  })
  .openapi('PublicUserProfile');

/** What users see about themselves. */
export const selfUserSchema = publicUserSchema
  .extend({
    email: z.email(),
    role: z.enum(userRoles),
    emailVerified: z.boolean(),
    updatedAt: instant('When the account last changed (UTC).'),
  })
  .openapi('UserProfile');

/** What administrators see: the account's whole state, never its secrets. */
export const adminUserSchema = selfUserSchema
  .extend({
    emailVerifiedAt: optionalInstant('When the email was verified; null while it is not.'),
    passwordChangedAt: optionalInstant('When the password last changed; null if never set.'),
    deletedAt: optionalInstant('When the account was soft-deleted; null while it is active.'),
  })
  .openapi('AdminUser');

export type PublicUser = z.infer<typeof publicUserSchema>;
export type SelfUser = z.infer<typeof selfUserSchema>;
export type AdminUser = z.infer<typeof adminUserSchema>;

const isoOrNull = (date: Date | null) => (date === null ? null : date.toISOString());

export function serializeUser(user: SerializableUser, viewer: 'public'): PublicUser;
export function serializeUser(user: SerializableUser, viewer: 'self'): SelfUser;
export function serializeUser(user: SerializableUser, viewer: 'admin'): AdminUser;
export function serializeUser(
  user: SerializableUser,
  viewer: UserViewer,
): PublicUser | SelfUser | AdminUser;
export function serializeUser(
  user: SerializableUser,
  viewer: UserViewer,
): PublicUser | SelfUser | AdminUser {
  const publicView: PublicUser = {
    id: user.id,
    name: user.name,
    createdAt: user.createdAt.toISOString(),
  };
  if (viewer === 'public') return publicView;
  const selfView: SelfUser = {
    ...publicView,
    email: user.email,
    role: user.role,
    emailVerified: user.emailVerifiedAt !== null,
    updatedAt: user.updatedAt.toISOString(),
  };
  if (viewer === 'self') return selfView;
  return {
    ...selfView,
    emailVerifiedAt: isoOrNull(user.emailVerifiedAt),
    passwordChangedAt: isoOrNull(user.passwordChangedAt),
    deletedAt: isoOrNull(user.deletedAt),
  };
}
