// The public users route: anyone may read a user's public profile. The same schemas validate
// requests and describe them in the OpenAPI document.
import { createRoute } from '@hono/zod-openapi';
import { successEnvelopeSchema } from '../../lib/envelope.ts';
import { anyone } from '../../lib/openapi-security.ts';
import { invalid, notFound } from '../../lib/route-responses.ts';
import { publicUserSchema } from './user-serializer.ts';
import { userIdParamsSchema } from './users.schemas.ts';

export const getUserRoute = createRoute({
  method: 'get',
  path: '/v1/users/{id}',
  operationId: 'getPublicProfile',
  tags: ['Users'],
  summary: "A user's public profile",
  description:
    'An active user’s id, name and creation date, never the email; cached for up to 60 ' +
    'seconds. Your own private fields: GET /v1/me.',
  security: anyone,
  request: { params: userIdParamsSchema },
  responses: {
    200: {
      description: 'The profile.',
      content: { 'application/json': { schema: successEnvelopeSchema(publicUserSchema) } },
    },
    404: notFound('No active user has this id'),
    422: invalid('The id is not a UUID'),
  },
});
