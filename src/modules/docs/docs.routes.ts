import { createRoute, z } from '@hono/zod-openapi';

export const openApiDocumentRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['Docs'],
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
  tags: ['Docs'],
  summary: 'API reference page',
  description: 'The OpenAPI document as a self-contained HTML page: no script, works offline.',
  responses: {
    200: {
      description: 'The reference page.',
      content: { 'text/html': { schema: z.string() } },
    },
  },
});
