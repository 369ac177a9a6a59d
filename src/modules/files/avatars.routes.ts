// The avatar upload, and the two signed URLs through which the Node worker reads the original and
// sends back the 400x400 JPEG. Those two need no credentials but their signature: the worker
// holds none, and each URL allows one method on one path for a few minutes.
import { createRoute } from '@hono/zod-openapi';
import { sessionOrApiKey, signedUrl } from '../../lib/openapi-security.ts';
import { failure, forbidden, notFound, success, unauthorized } from '../../lib/route-responses.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import { binaryFile, multipartBody, uploadRefusals } from './files.routes.ts';
import { fileIdParamsSchema, fileSchema, signedUrlQuerySchema } from './files.schemas.ts';

const signedRefusals = {
  401: failure(
    'No signature (SIGNATURE_MISSING), one for another method or path (SIGNATURE_INVALID), ' +
      'or a URL past its time (SIGNATURE_EXPIRED).',
  ),
  404: notFound('No avatar waiting for its image has this id'),
  503: failure('File storage is unavailable (SERVICE_UNAVAILABLE).'),
};

export const uploadAvatarRoute = createRoute({
  method: 'post',
  path: '/v1/users/me/avatar',
  operationId: 'uploadAvatar',
  tags: ['Users'],
  summary: 'Upload your avatar',
  description:
    'One image in the `avatar` field: JPEG, PNG or WebP by its bytes, at most 5 MiB. It is ' +
    'made into a 400x400 JPEG (cropped to fill, quality 80, no metadata) by a job: the file ' +
    'answered is `pending`, and your profile keeps showing the previous avatar until this one is ' +
    'ready. The replaced avatar is then deleted.',
  security: sessionOrApiKey('profile:write'),
  middleware: [requireAuth(), requirePermission('profile:write'), idempotency({ streamed: true })],
  request: {
    headers: idempotencyKeyHeaders,
    body: multipartBody('The image, as a part named `avatar`.', { avatar: binaryFile }),
  },
  responses: withIdempotencyRefusals({
    202: success('The avatar’s file, `pending` until its JPEG is ready.', fileSchema),
    ...uploadRefusals,
    401: unauthorized,
    403: forbidden('The credentials may not change the profile'),
  }),
});

export const getAvatarSourceRoute = createRoute({
  method: 'get',
  path: '/v1/files/{id}/source',
  operationId: 'getAvatarSource',
  tags: ['Files'],
  summary: 'Read an avatar’s original (signed URL)',
  description: 'For the image.avatar job: the image as uploaded. Only through a URL we signed.',
  security: signedUrl,
  request: { params: fileIdParamsSchema, query: signedUrlQuerySchema },
  responses: {
    200: {
      description: 'The original image.',
      content: { 'application/octet-stream': { schema: binaryFile } },
    },
    ...signedRefusals,
  },
});

export const uploadAvatarRenditionRoute = createRoute({
  method: 'put',
  path: '/v1/files/{id}/rendition',
  operationId: 'uploadAvatarRendition',
  tags: ['Files'],
  summary: 'Store an avatar’s JPEG (signed URL)',
  description:
    'For the image.avatar job: the 400x400 JPEG, at most 2 MiB, which becomes the user’s ' +
    'avatar. Only through a URL we signed; sending it again answers the same.',
  security: signedUrl,
  request: {
    params: fileIdParamsSchema,
    query: signedUrlQuerySchema,
    body: {
      required: true,
      content: { 'image/jpeg': { schema: binaryFile } },
    },
  },
  responses: {
    200: success('The avatar’s file, ready.', fileSchema),
    ...signedRefusals,
    400: failure('An empty body (FILE_EMPTY).'),
    413: failure('Over 2 MiB (FILE_TOO_LARGE).'),
    415: failure('Not a JPEG by its bytes (FILE_TYPE_NOT_ALLOWED).'),
  },
});

export const uploadFileContentRoute = createRoute({
  method: 'put',
  path: '/v1/files/uploads/{id}/content',
  operationId: 'uploadFileContent',
  tags: ['Files'],
  summary: 'Send a direct upload’s bytes (signed URL)',
  description:
    'Where a direct upload’s bytes go when storage cannot sign a URL itself. Exactly the size ' +
    'announced, as Content-Length; storage checks the SHA-256 announced. Only through the URL ' +
    'POST /v1/files/uploads answered.',
  security: signedUrl,
  request: {
    params: fileIdParamsSchema,
    query: signedUrlQuerySchema,
    body: {
      required: true,
      content: { 'application/octet-stream': { schema: binaryFile } },
    },
  },
  responses: {
    204: { description: 'Stored: complete the upload.' },
    ...signedRefusals,
    404: notFound('No upload in progress has this id'),
    409: failure(
      'A Content-Length other than the size announced, or a body that ends before it ' +
        '(UPLOAD_INCOMPLETE).',
    ),
    413: failure('More bytes than announced (FILE_TOO_LARGE).'),
    422: failure('Bytes whose SHA-256 is not the one announced (UPLOAD_CHECKSUM_MISMATCH).'),
  },
});
