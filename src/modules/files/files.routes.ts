// The file routes. Everyone's own files take files:read to see and files:write to upload and
// delete; files:admin reaches anyone's. Someone else's file answers 404, as one that does not
// exist. Uploads are multipart/form-data read as a stream: the body's schema documents it, and
// the reader (src/lib/multipart-upload.ts) enforces it.
import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.ts';
import { paginatedEnvelopeSchema } from '../../lib/envelope.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import {
  failure,
  forbidden,
  invalid,
  jsonBody,
  notFound,
  success,
  unauthorized,
} from '../../lib/route-responses.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import { optionalAuth, requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import {
  directUploadBodySchema,
  directUploadSchema,
  fileIdParamsSchema,
  fileListQuerySchema,
  fileSchema,
} from './files.schemas.ts';

const tags = ['Files'];

const readers = sessionOrApiKey('files:read');
const readMiddleware = [requireAuth(), requirePermission('files:read')];
const writers = sessionOrApiKey('files:write');
const writeMiddleware = [requireAuth(), requirePermission('files:write')];

/**
 * Anyone may read a shown avatar without credentials; credentials that are presented must hold
 * files:read, as on every other file route (a key without it is refused, not taken as anonymous).
 */
const readersIfCredentialed = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('principal') === undefined) return next();
  await requirePermission('files:read')(c, next);
});

/** A multipart body as OpenAPI shows it: a plain schema, so no validator buffers the body. */
export function multipartBody(description: string, properties: Record<string, object>) {
  return {
    required: true,
    description,
    content: {
      'multipart/form-data': {
        schema: { type: 'object' as const, properties, required: Object.keys(properties) },
      },
    },
  };
}

export const binaryFile = { type: 'string' as const, format: 'binary' };

/** What any upload can be refused for, by the bytes that arrived. */
export const uploadRefusals = {
  400: failure(
    'A malformed or truncated multipart body (MULTIPART_INVALID), no file in the expected ' +
      'field or another field (UPLOAD_FIELD_INVALID), too many files (TOO_MANY_FILES) or an ' +
      'empty one (FILE_EMPTY).',
  ),
  413: failure(
    'A file over 5 MiB, counted as it arrives (FILE_TOO_LARGE), or past the storage quota ' +
      '(STORAGE_QUOTA_EXCEEDED).',
  ),
  415: failure(
    'Not multipart/form-data (UNSUPPORTED_MEDIA_TYPE), or a file whose bytes are not of an ' +
      'allowed type, whatever its name says (FILE_TYPE_NOT_ALLOWED, `details.detected`).',
  ),
  503: failure('File storage is unavailable (SERVICE_UNAVAILABLE, `details.backend`).'),
};

export const uploadFilesRoute = createRoute({
  method: 'post',
  path: '/v1/files',
  operationId: 'uploadFiles',
  tags,
  summary: 'Upload up to five files',
  description:
    'Up to 5 files in the `files` field, each at most 5 MiB and JPEG, PNG, WebP or PDF by its ' +
    'bytes: the file’s name and Content-Type are not believed. Sizes are counted as the bytes ' +
    'arrive, so a false Content-Length cannot pass. All are kept, or none: one refused file ' +
    'refuses the upload. Counts towards the 100 MiB storage quota.',
  security: writers,
  middleware: [...writeMiddleware, idempotency({ streamed: true })],
  request: {
    headers: idempotencyKeyHeaders,
    body: multipartBody('The files, each a part named `files`.', {
      files: { type: 'array', items: binaryFile, minItems: 1, maxItems: 5 },
    }),
  },
  responses: withIdempotencyRefusals({
    201: success('The files, in the order sent.', z.array(fileSchema)),
    ...uploadRefusals,
    401: unauthorized,
    403: forbidden('The credentials may not upload files'),
  }),
});

export const listFilesRoute = createRoute({
  method: 'get',
  path: '/v1/files',
  operationId: 'listFiles',
  tags,
  summary: 'List your files',
  description: 'Your files, newest first unless sorted otherwise; uploads not completed included.',
  security: readers,
  middleware: readMiddleware,
  request: { query: fileListQuerySchema },
  responses: {
    200: {
      description: 'A page of files.',
      content: { 'application/json': { schema: paginatedEnvelopeSchema(fileSchema) } },
    },
    401: unauthorized,
    403: forbidden('The credentials may not read files'),
    422: invalid('A page, limit or sort that is not allowed'),
  },
});

export const getFileRoute = createRoute({
  method: 'get',
  path: '/v1/files/{id}',
  operationId: 'getFile',
  tags,
  summary: 'Read a file’s metadata',
  security: readers,
  middleware: readMiddleware,
  request: { params: fileIdParamsSchema },
  responses: {
    200: success('The file.', fileSchema),
    401: unauthorized,
    403: forbidden('The credentials may not read files'),
    404: notFound('No file of yours has this id'),
  },
});

export const getFileContentRoute = createRoute({
  method: 'get',
  path: '/v1/files/{id}/content',
  operationId: 'getFileContent',
  tags,
  summary: 'Download a file',
  description:
    'The bytes, streamed, with the Content-Type detected at upload and ' +
    '`X-Content-Type-Options: nosniff`; anything but an image comes as an attachment. Your own ' +
    'files with files:read; an avatar that is shown, by anyone, without credentials.',
  // The empty requirement: no credentials at all is one of the ways in (for avatars).
  security: [{}, ...readers],
  middleware: [optionalAuth(), readersIfCredentialed],
  request: { params: fileIdParamsSchema },
  responses: {
    200: {
      description: 'The file’s bytes; `ETag` is their SHA-256.',
      content: {
        'image/jpeg': { schema: binaryFile },
        'image/png': { schema: binaryFile },
        'image/webp': { schema: binaryFile },
        'application/pdf': { schema: binaryFile },
      },
    },
    304: { description: 'The client’s copy (If-None-Match) is current.' },
    401: unauthorized,
    404: notFound('No file you may read has this id, or it is not ready'),
    503: failure('File storage is unavailable (SERVICE_UNAVAILABLE).'),
  },
});

export const deleteFileRoute = createRoute({
  method: 'delete',
  path: '/v1/files/{id}',
  operationId: 'deleteFile',
  tags,
  summary: 'Delete a file',
  description:
    'Gone at once from every answer; its bytes are removed from storage by a job. Deleting the ' +
    'avatar you show removes it from your profile.',
  security: writers,
  middleware: writeMiddleware,
  request: { params: fileIdParamsSchema },
  responses: {
    204: { description: 'Deleted.' },
    401: unauthorized,
    403: forbidden('The credentials may not delete files'),
    404: notFound('No file of yours has this id'),
  },
});

export const createDirectUploadRoute = createRoute({
  method: 'post',
  path: '/v1/files/uploads',
  operationId: 'createDirectUpload',
  tags,
  summary: 'Start a direct upload',
  description:
    'For files too large to send through the API (up to 50 MiB): announce the name, the exact ' +
    'size and the SHA-256, then PUT the bytes to the URL answered, with its headers, before ' +
    '`expiresAt`, and complete the upload. The size counts towards the quota from now on; an ' +
    'upload not completed in time is removed.',
  security: writers,
  middleware: [...writeMiddleware, idempotency()],
  request: { headers: idempotencyKeyHeaders, body: jsonBody(directUploadBodySchema) },
  responses: withIdempotencyRefusals({
    201: success('The file, `uploading`, and where to send its bytes.', directUploadSchema),
    401: unauthorized,
    403: forbidden('The credentials may not upload files'),
    413: failure('A size over 50 MiB (FILE_TOO_LARGE) or past the quota (STORAGE_QUOTA_EXCEEDED).'),
    422: invalid('A missing name, a size that is not a positive integer, or a malformed SHA-256'),
    503: failure('File storage is unavailable (SERVICE_UNAVAILABLE).'),
  }),
});

export const completeDirectUploadRoute = createRoute({
  method: 'post',
  path: '/v1/files/uploads/{id}/complete',
  operationId: 'completeDirectUpload',
  tags,
  summary: 'Complete a direct upload',
  description:
    'Checks the bytes that arrived: exactly the size announced, and JPEG, PNG, WebP or PDF by ' +
    'their first bytes. Then the file is ready and visible. Bytes of another type are removed, ' +
    'with the file. Completing twice answers the file again.',
  security: writers,
  middleware: writeMiddleware,
  request: { params: fileIdParamsSchema },
  responses: {
    200: success('The file, ready.', fileSchema),
    401: unauthorized,
    403: forbidden('The credentials may not upload files'),
    404: notFound('No upload of yours has this id'),
    409: failure('No bytes yet, or not the size announced (UPLOAD_INCOMPLETE).'),
    410: failure('The upload’s time ran out (UPLOAD_EXPIRED).'),
    415: failure('The bytes are not of an allowed type (FILE_TYPE_NOT_ALLOWED).'),
    503: failure('File storage is unavailable (SERVICE_UNAVAILABLE).'),
  },
});
