// The users resource's request schemas. Bodies are strict: a field the route does not take (role,
// email, passwordHash, ...) is refused with 422, so nothing can be mass-assigned. What a user looks
// like in responses is decided by src/modules/users/user-serializer.ts.
import { z } from '@hono/zod-openapi';
import { userRoles } from '../../db/schema.ts';
import { pageQuerySchema } from '../../lib/pagination.ts';
import { booleanQuery, falseByDefault } from '../../lib/query-params.ts';
import { userSortColumns } from './users.repository.ts';

export const userIdParamsSchema = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The user id, a UUID.',
    example: '00000000-0000-4000-8000-000000000002',
  }),
});

const displayName = z.string().trim().min(1).max(100).openapi({ example: 'Grace Hopper' });

/** What users may change about themselves here: their name, and nothing else. */
export const ownProfileChangesSchema = z
  .strictObject({ name: displayName })
  .openapi('OwnProfileChanges', { example: { name: 'Grace Hopper' } });

export const searchQuerySchema = z.object({
  q: z.string().trim().min(2).max(100).openapi({
    description:
      'Text the name (for administrators: or email) contains (ASCII case ignored; % and _ match literally).',
    example: 'grace',
  }),
});

export const userListQuerySchema = pageQuerySchema(userSortColumns, {
  sortBy: 'createdAt',
  sortOrder: 'desc',
}).extend({
  role: z.enum(userRoles).optional().openapi({ description: 'Only users with this role.' }),
  verified: booleanQuery('Only users whose email is (true) or is not (false) verified.').optional(),
  q: z.string().trim().min(1).max(100).optional().openapi({
    description: 'Name or email contains this (ASCII case ignored; % and _ match literally).',
  }),
  includeDeleted: falseByDefault('Include soft-deleted users.'),
});

export const includeDeletedQuerySchema = z.object({
  includeDeleted: falseByDefault('Answer a soft-deleted user too.'),
});

export const adminProfileChangesSchema = z
  .strictObject({
    name: displayName.optional(),
    email: z.email().max(254).optional().openapi({
      description: 'Stored lower-cased; the new address starts unverified.',
    }),
  })
  .refine((changes) => changes.name !== undefined || changes.email !== undefined, {
    message: 'Give at least one of name and email',
  })
  .openapi('AdminProfileChanges', {
    example: { name: 'Grace Hopper', email: 'grace@example.com' },
  });

export const roleChangeSchema = z
  .strictObject({ role: z.enum(userRoles) })
  .openapi('RoleChange', { example: { role: 'admin' } });

export const userCountsSchema = z
  .object({
    total: z.int().min(0).openapi({ description: 'Active users.' }),
    byRole: z.record(z.enum(userRoles), z.int().min(0)).openapi({
      description: 'Active users with each role.',
    }),
  })
  .openapi('UserCounts');
