// The users routes' OpenAPI definitions: the same schemas validate requests.
import { createRoute } from '@hono/zod-openapi';
import { errorEnvelopeSchema, successEnvelopeSchema } from '../../lib/envelope.ts';
import { publicProfileSchema, userIdParamsSchema } from './users.schemas.ts';

const errorContent = { 'application/json': { schema: errorEnvelopeSchema } };

export const getUserRoute = createRoute({
  method: 'get',
  path: '/v1/users/{id}',
  tags: ['Users'],
  summary: "A user's public profile",
  description:
    'The public profile of an active user: id, name and creation date, never the email. ' +
    'Served from cache for up to 60 seconds.',
  request: { params: userIdParamsSchema },
  responses: {
    200: {
      description: 'The profile.',
      content: { 'application/json': { schema: successEnvelopeSchema(publicProfileSchema) } },
    },
    404: {
      description: 'No active user has this id (code NOT_FOUND).',
      content: errorContent,
    },
    422: {
      description: 'The id is not a UUID (code VALIDATION_FAILED).',
      content: errorContent,
    },
  },
});
