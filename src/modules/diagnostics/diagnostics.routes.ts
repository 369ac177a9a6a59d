// Test-only routes that let the end-to-end suite prove, on the real Worker bundle, what no feature
// route can be made to do on demand: an uncaught exception, and a JSON body to refuse (too large,
// malformed, invalid). Mounted only when APP_ENV is "test" and left out of the OpenAPI document.
import { createRoute, z } from '@hono/zod-openapi';
import { errorEnvelopeSchema, successEnvelopeSchema } from '../../lib/envelope.ts';

const errorContent = { 'application/json': { schema: errorEnvelopeSchema } };

export const uncaughtErrorRoute = createRoute({
  method: 'get',
  path: '/diagnostics/error',
  hide: true,
  responses: {
    500: { description: 'Always: the handler throws a plain Error.', content: errorContent },
  },
});

const echoSchema = z.object({
  message: z.string().min(1).max(200),
  count: z.int().min(1).max(10),
});

export const echoRoute = createRoute({
  method: 'post',
  path: '/diagnostics/echo',
  hide: true,
  request: {
    body: { required: true, content: { 'application/json': { schema: echoSchema } } },
  },
  responses: {
    200: {
      description: 'The validated body, as received.',
      content: { 'application/json': { schema: successEnvelopeSchema(echoSchema) } },
    },
    400: { description: 'Malformed JSON.', content: errorContent },
    413: { description: 'Body over MAX_BODY_BYTES.', content: errorContent },
    422: { description: 'Body fails the schema.', content: errorContent },
  },
});
