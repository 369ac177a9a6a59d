// The one place that decides which of a user's fields leave the server, by who is looking. Each
// view lists its fields one by one: a column added to the table stays private until it is named
// here, and a password hash, token or key hash is never named.
import { z } from '@hono/zod-openapi';
import { type AvatarRef, type UserRow, userRoles } from '../../db/schema.ts';

export type UserViewer = 'public' | 'self' | 'admin';

/** A user as the repositories hand it over; the password hash need not (and should not) be read. */
export type SerializableUser = Omit<UserRow, 'passwordHash'>;

const instant = (description: string) => z.iso.datetime().openapi({ description });
const optionalInstant = (description: string) =>
  z.iso.datetime().nullable().openapi({ description });

export const avatarSchema = z
  .object({
    id: z.uuid().openapi({ description: 'The avatar’s file.' }),
    url: z.string().openapi({
      description:
        'Where its bytes are: public, and cacheable for good (a new avatar is a new URL).',
      example: '/v1/files/0b6f3c1e-9d7a-4c55-8f0e-2a1b3c4d5e6f/content',
    }),
    type: z.string().openapi({ example: 'image/jpeg' }),
    size: z.number().int().openapi({ description: 'Bytes.', example: 24_817 }),
  })
  .openapi('Avatar');

/** What anyone may know about a user. */
export const publicUserSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    avatar: avatarSchema.nullable().openapi({
      description:
        'The 400x400 JPEG avatar; null until one is uploaded and ready. A new upload keeps the ' +
        'previous avatar here until its own is ready.',
    }),
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

/** Where a file's bytes are served: GET /v1/files/{id}/content. */
export const fileContentPath = (fileId: string) => `/v1/files/${fileId}/content`;

function avatarOf(avatar: AvatarRef | null): z.infer<typeof avatarSchema> | null {
  if (avatar === null) return null;
  return { id: avatar.id, url: fileContentPath(avatar.id), type: avatar.type, size: avatar.size };
}

/** The public profile from the few columns it needs (a product's owner is read with only these). */
export function publicProfileOf(
  user: Pick<UserRow, 'id' | 'name' | 'avatar' | 'createdAt'>,
): PublicUser {
  return {
    id: user.id,
    name: user.name,
    avatar: avatarOf(user.avatar),
    createdAt: user.createdAt.toISOString(),
  };
}

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
  const publicView = publicProfileOf(user);
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
