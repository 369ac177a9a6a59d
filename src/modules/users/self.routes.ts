// The routes users call about themselves and each other once signed in: their own profile, and
// search. The same schemas validate requests and describe them in the OpenAPI document.
import { createRoute, z } from '@hono/zod-openapi';
import { successEnvelopeSchema } from '../../lib/envelope.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { forbidden, invalid, jsonBody, notFound, unauthorized } from '../../lib/route-responses.ts';
import {
  requireAuth,
  requirePermission,
  requireSelfOrPermission,
} from '../auth/auth.middleware.ts';
import { publicUserSchema, selfUserSchema } from './user-serializer.ts';
import { ownProfileChangesSchema, searchQuerySchema, userIdParamsSchema } from './users.schemas.ts';

const ownProfile = {
  description: 'The caller’s profile.',
  content: { 'application/json': { schema: successEnvelopeSchema(selfUserSchema) } },
};

export const updateUserRoute = createRoute({
  method: 'patch',
  path: '/v1/users/{id}',
  operationId: 'updateUserName',
  tags: ['Users'],
  summary: 'Rename a user by id (yourself, or anyone as an administrator)',
  description:
    'The same as PATCH /v1/me, addressed by id: only the user themselves (or an administrator) ' +
    'may, and only the name can change. Any other field, such as role or email, is refused.',
  // Oneself: profile:write, as on PATCH /v1/me (an API key needs that scope); anyone else:
  // users:admin.
  security: sessionOrApiKey('profile:write', 'users:admin'),
  middleware: [requireAuth(), requireSelfOrPermission('id', 'users:admin', 'profile:write')],
  request: { params: userIdParamsSchema, body: jsonBody(ownProfileChangesSchema) },
  responses: {
    200: ownProfile,
    401: unauthorized,
    403: forbidden('The id is another user’s, or the credentials may not change the profile'),
    404: notFound('The account no longer exists'),
    422: invalid('Not a UUID, an invalid name, or a field that cannot be set here'),
  },
});

export const searchUsersRoute = createRoute({
  method: 'get',
  path: '/v1/users/search',
  operationId: 'searchUsers',
  tags: ['Users'],
  summary: 'Find users by name (administrators: or email)',
  description:
    'Up to 10 active users, other than the caller, whose name contains `q`, by name. Callers ' +
    'who may read private profiles (`users:read`, administrators) also match emails; nobody ' +
    'else can learn from a search which addresses have an account. Only public profiles: the ' +
    'email matched is never shown.',
  security: sessionOrApiKey('users:search'),
  middleware: [requireAuth(), requirePermission('users:search')],
  request: { query: searchQuerySchema },
  responses: {
    200: {
      description: 'The matching users (at most 10).',
      content: {
        'application/json': { schema: successEnvelopeSchema(z.array(publicUserSchema)) },
      },
    },
    401: unauthorized,
    403: forbidden('The credentials may not search users'),
    422: invalid('`q` is missing, shorter than 2 or longer than 100 characters'),
  },
});

export const getMeRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getOwnProfile',
  tags: ['Users'],
  summary: 'Your own profile',
  description: 'The caller’s profile, with the email, role and verification state.',
  security: sessionOrApiKey('profile:read'),
  middleware: [requireAuth(), requirePermission('profile:read')],
  responses: {
    200: ownProfile,
    401: unauthorized,
    403: forbidden('The credentials may not read the profile'),
    404: notFound('The account no longer exists'),
  },
});

export const updateMeRoute = createRoute({
  method: 'patch',
  path: '/v1/me',
  operationId: 'updateOwnProfile',
  tags: ['Users'],
  summary: 'Rename yourself',
  description:
    'Only the name can change here. Any other field (role, email, passwordHash, ...) is refused ' +
    'with 422: the email and password have their own flows, and the role is an administrator’s ' +
    'decision.',
  security: sessionOrApiKey('profile:write'),
  middleware: [requireAuth(), requirePermission('profile:write')],
  request: { body: jsonBody(ownProfileChangesSchema) },
  responses: {
    200: ownProfile,
    401: unauthorized,
    403: forbidden('The credentials may not change the profile'),
    404: notFound('The account no longer exists'),
    422: invalid('An invalid name, or a field that cannot be set here'),
  },
});
