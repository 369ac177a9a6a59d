// What the file routes take and answer. The multipart bodies are described for the OpenAPI
// document only: they are read as a stream (src/lib/multipart-upload.ts), never through a schema.
import { z } from '@hono/zod-openapi';
import { fileKinds, fileStatuses } from '../../db/schema.ts';
import { pageQuerySchema } from '../../lib/pagination.ts';

/** What the bytes must be, decided from the bytes themselves. */
export const documentTypes = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'] as const;
export const avatarSourceTypes = ['image/jpeg', 'image/png', 'image/webp'] as const;

const example = {
  id: '0b6f3c1e-9d7a-4c55-8f0e-2a1b3c4d5e6f',
  sha256: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
};

export const fileSchema = z
  .object({
    id: z.uuid().openapi({ example: example.id }),
    kind: z.enum(fileKinds).openapi({
      description: '`document`: kept as uploaded; `avatar`: turned into a 400x400 JPEG.',
    }),
    status: z.enum(fileStatuses).openapi({
      description:
        '`ready`: served. `pending`: an avatar whose JPEG is being made. `uploading`: a direct ' +
        'upload not yet completed.',
    }),
    name: z.string().openapi({
      description: 'The name it was uploaded with, sanitized: no path, no control characters.',
      example: 'invoice-2026-11.pdf',
    }),
    contentType: z.string().openapi({
      description: 'What the bytes are, detected from them; never the client’s word.',
      example: 'application/pdf',
    }),
    size: z.number().int().openapi({ description: 'Bytes.', example: 48_213 }),
    sha256: z
      .string()
      .openapi({ description: 'Hex SHA-256 of the bytes.', example: example.sha256 }),
    url: z.string().openapi({
      description: 'Where the bytes are served.',
      example: `/v1/files/${example.id}/content`,
    }),
    createdAt: z.iso.datetime(),
  })
  .openapi('File');

export type FileView = z.infer<typeof fileSchema>;

export const fileIdParamsSchema = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: example.id }),
});

export const fileListQuerySchema = pageQuerySchema(['createdAt', 'name', 'size'], {
  sortBy: 'createdAt',
  sortOrder: 'desc',
});

export const directUploadBodySchema = z
  .strictObject({
    name: z.string().min(1).max(1024).openapi({ example: 'site-survey.pdf' }),
    size: z.number().int().positive().openapi({
      description: 'The exact byte count the upload will send (at most 50 MiB by default).',
      example: 18_874_368,
    }),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected the lower-case hex SHA-256 of the file')
      .openapi({
        description: 'Hex SHA-256 of the bytes: storage refuses an upload whose bytes differ.',
        example: example.sha256,
      }),
  })
  .openapi('DirectUploadRequest', {
    example: { name: 'site-survey.pdf', size: 18_874_368, sha256: example.sha256 },
  });

export type DirectUploadRequest = z.infer<typeof directUploadBodySchema>;

export const directUploadSchema = z
  .object({
    file: fileSchema,
    upload: z.object({
      method: z.literal('PUT'),
      url: z.url().openapi({ description: 'PUT the bytes here, as the body, exactly once.' }),
      headers: z.record(z.string(), z.string()).openapi({
        description: 'Send these headers as they are: the URL’s signature covers them.',
        example: { 'content-type': 'application/octet-stream', 'content-length': '18874368' },
      }),
      expiresAt: z.iso.datetime().openapi({
        description: 'The URL stops working then, and an upload not completed is removed.',
      }),
    }),
  })
  .openapi('DirectUpload');

export type DirectUploadView = z.infer<typeof directUploadSchema>;

/** The query of a URL we signed: `expires` and `signature`. */
export const signedUrlQuerySchema = z.object({
  // Optional here so that a URL without them is refused as unsigned (401), not as invalid (422).
  expires: z
    .string()
    .optional()
    .openapi({ description: 'Unix seconds after which the URL is refused.' }),
  signature: z
    .string()
    .optional()
    .openapi({ description: 'HMAC over the method, path and expiry.' }),
});
