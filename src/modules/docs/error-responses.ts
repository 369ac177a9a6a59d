// The components every operation shares, declared once so routes point at them instead of
// repeating them: the standard error responses (`responses: { 404: errorRef(404) }`; the document
// adds those every route shares) and the security schemes (src/lib/openapi-security.ts).
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { errorEnvelopeSchema, metaSchema, paginationSchema } from '../../lib/envelope.ts';
import { securitySchemes } from '../../lib/openapi-security.ts';

const standard = {
  400: ['BadRequest', 'The request could not be read, e.g. malformed JSON (code BAD_REQUEST).'],
  401: ['Unauthorized', 'Missing or invalid credentials (code UNAUTHORIZED).'],
  403: ['Forbidden', 'The credentials do not allow this (code FORBIDDEN).'],
  404: ['NotFound', 'No such resource or route (code NOT_FOUND).'],
  405: [
    'MethodNotAllowed',
    'The path exists under other methods, listed in the Allow header (code METHOD_NOT_ALLOWED).',
  ],
  409: ['Conflict', 'The request conflicts with the current state (code CONFLICT).'],
  413: ['PayloadTooLarge', 'The body is over MAX_BODY_BYTES (code PAYLOAD_TOO_LARGE).'],
  415: [
    'UnsupportedMediaType',
    'The body is not in a supported format (UNSUPPORTED_MEDIA_TYPE); `details.accepted` lists the ' +
      'media types the operation takes.',
  ],
  422: [
    'ValidationFailed',
    'The input failed validation; `error.details.fields` lists each field (VALIDATION_FAILED).',
  ],
  429: ['RateLimited', 'Too many requests; retry after Retry-After seconds (code RATE_LIMITED).'],
  500: ['InternalError', 'An unexpected fault; quote meta.requestId when reporting it.'],
  503: ['ServiceUnavailable', 'A backend is unavailable (code SERVICE_UNAVAILABLE).'],
} as const;

export type StandardErrorStatus = keyof typeof standard;

export function errorRef(status: StandardErrorStatus): { $ref: string } {
  return { $ref: `#/components/responses/${standard[status][0]}` };
}

/**
 * Adds the envelope's schemas (ErrorEnvelope, Meta, Pagination), the standard responses and the
 * security schemes to the document's components, whether or not a route refers to them yet.
 */
export function registerSharedComponents(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.register('ErrorEnvelope', errorEnvelopeSchema);
  app.openAPIRegistry.register('Meta', metaSchema);
  app.openAPIRegistry.register('Pagination', paginationSchema);
  const requestId = app.openAPIRegistry.registerComponent('headers', 'X-Request-Id', {
    description: 'The request id, also in meta.requestId and in the log line.',
    schema: { type: 'string' },
  });
  for (const [name, description] of Object.values(standard)) {
    app.openAPIRegistry.registerComponent('responses', name, {
      description,
      headers: { 'X-Request-Id': requestId.ref },
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    });
  }
  for (const [name, scheme] of Object.entries(securitySchemes)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
}
