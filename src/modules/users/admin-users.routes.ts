// The administrators' users API. Every route needs the users:admin permission (admins have it;
// an admin's API key needs it among its scopes).
import { createRoute } from '@hono/zod-openapi';
import { paginatedEnvelopeSchema, successEnvelopeSchema } from '../../lib/envelope.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import {
  failure,
  forbidden,
  invalid,
  jsonBody,
  notFound,
  unauthorized,
} from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import { adminUserSchema } from './user-serializer.ts';
import {
  adminProfileChangesSchema,
  includeDeletedQuerySchema,
  roleChangeSchema,
  userCountsSchema,
  userIdParamsSchema,
  userListQuerySchema,
} from './users.schemas.ts';

const adminOnly = [requireAuth(), requirePermission('users:admin')];
const adminOnlySecurity = sessionOrApiKey('users:admin');
const tags = ['Admin'];
const notAdmin = forbidden('The caller is not an administrator');
const oneUser = (description: string) => ({
  description,
  content: { 'application/json': { schema: successEnvelopeSchema(adminUserSchema) } },
});
const lastAdmin = failure(
  'The user is the last active admin (code CONFLICT, details.reason "last_admin").',
);

export const listUsersRoute = createRoute({
  method: 'get',
  path: '/v1/admin/users',
  operationId: 'listUsers',
  tags,
  summary: 'List users',
  description:
    'Users one page at a time, with the `pagination` block. Soft-deleted users are left out ' +
    'unless `includeDeleted=true`.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { query: userListQuerySchema },
  responses: {
    200: {
      description: 'One page of users.',
      content: { 'application/json': { schema: paginatedEnvelopeSchema(adminUserSchema) } },
    },
    401: unauthorized,
    403: notAdmin,
    422: invalid('A query parameter is out of range or not allowed, e.g. limit over 100'),
  },
});

export const countUsersRoute = createRoute({
  method: 'get',
  path: '/v1/admin/users/counts',
  operationId: 'countUsers',
  tags,
  summary: 'Count users by role',
  description: 'How many active (not soft-deleted) users there are, in all and with each role.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  responses: {
    200: {
      description: 'The counts.',
      content: { 'application/json': { schema: successEnvelopeSchema(userCountsSchema) } },
    },
    401: unauthorized,
    403: notAdmin,
  },
});

export const adminGetUserRoute = createRoute({
  method: 'get',
  path: '/v1/admin/users/{id}',
  operationId: 'getUser',
  tags,
  summary: 'Read a user',
  description:
    'Everything about a user but their secrets; `includeDeleted=true` finds deleted ones.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: userIdParamsSchema, query: includeDeletedQuerySchema },
  responses: {
    200: oneUser('The user.'),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No such user (or deleted, without includeDeleted=true)'),
    422: invalid('The id is not a UUID'),
  },
});

export const adminUpdateUserRoute = createRoute({
  method: 'patch',
  path: '/v1/admin/users/{id}',
  operationId: 'updateUser',
  tags,
  summary: 'Change a user’s name or email',
  description:
    'A new email is stored lower-cased and starts unverified. Other fields are refused; the role ' +
    'changes through PATCH /v1/admin/users/{id}/role. Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: userIdParamsSchema, body: jsonBody(adminProfileChangesSchema) },
  responses: {
    200: oneUser('The user, changed.'),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active user has this id'),
    409: failure('Another account uses this email (code CONFLICT).'),
    422: invalid('Nothing to change, an invalid value, or a field that cannot be set here'),
  },
});

export const deleteUserRoute = createRoute({
  method: 'delete',
  path: '/v1/admin/users/{id}',
  operationId: 'deleteUser',
  tags,
  summary: 'Soft-delete a user',
  description:
    'The user disappears from every list and lookup, cannot sign in, and their sessions end. ' +
    'POST .../restore brings them back. Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: userIdParamsSchema },
  responses: {
    200: oneUser('The user, deleted.'),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active user has this id'),
    409: lastAdmin,
    422: invalid('The id is not a UUID'),
  },
});

export const restoreUserRoute = createRoute({
  method: 'post',
  path: '/v1/admin/users/{id}/restore',
  operationId: 'restoreUser',
  tags,
  summary: 'Restore a soft-deleted user',
  description: 'The user is visible again and can sign in. Audited.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: userIdParamsSchema },
  responses: {
    200: oneUser('The user, restored.'),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No deleted user has this id'),
    422: invalid('The id is not a UUID'),
  },
});

export const changeRoleRoute = createRoute({
  method: 'patch',
  path: '/v1/admin/users/{id}/role',
  operationId: 'changeUserRole',
  tags,
  summary: 'Change a user’s role',
  description:
    'Written together with its audit-log row, in one transaction. The user’s sessions end, so ' +
    'the new role applies from their next sign-in. The last active admin cannot be demoted, ' +
    'not even by themselves.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: userIdParamsSchema, body: jsonBody(roleChangeSchema) },
  responses: {
    200: oneUser('The user, with the new role (unchanged if it was already the role).'),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No active user has this id'),
    409: lastAdmin,
    422: invalid('Not a role, or a field that cannot be set here'),
  },
});
