import { createRoute, z } from '@hono/zod-openapi';
import { anyone } from '../../lib/openapi-security.ts';

export const openApiDocumentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tags: ['Docs'],
  security: anyone,
  summary: 'OpenAPI document',
  description: 'This API described in OpenAPI 3.1, generated from the schemas that validate it.',
  responses: {
    200: {
      description: 'The OpenAPI 3.1 document.',
      content: {
        'application/json': {
          schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}) }),
        },
      },
    },
  },
});

export const docsPageRoute = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'getDocsPage',
  tags: ['Docs'],
  security: anyone,
  summary: 'API reference page',
  description:
    'An interactive reference (Scalar) over /openapi.json: try any operation with a bearer token ' +
    'or an X-API-Key. Its script and styles are served by this deployment, so it works offline.',
  responses: {
    200: {
      description: 'The reference page.',
      content: { 'text/html': { schema: z.string() } },
    },
  },
});
