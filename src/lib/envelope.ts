// The response envelope every answer leaves in, success or error, and its OpenAPI schemas.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type AppError, errorCodes } from './errors.ts';
import type { RequestEnv } from './request-env.ts';

export const metaSchema = z
  .object({
    timestamp: z.iso.datetime(),
    requestId: z.string(),
    version: z.string(),
  })
  .openapi('Meta');

export const paginationSchema = z
  .object({
    page: z.int().min(1),
    limit: z.int().min(1),
    total: z.int().min(0),
    totalPages: z.int().min(0),
    hasNext: z.boolean(),
    hasPrev: z.boolean(),
  })
  .openapi('Pagination');

export type Pagination = z.infer<typeof paginationSchema>;

/** Keyset pages: where the next one starts, opaque (src/lib/cursor.ts). */
export const cursorPaginationSchema = z
  .object({
    limit: z.int().min(1),
    hasNext: z.boolean(),
    nextCursor: z.string().nullable().openapi({ description: 'The next page; null on the last.' }),
  })
  .openapi('CursorPagination');

export type CursorPagination = z.infer<typeof cursorPaginationSchema>;

export const errorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: errorCodes,
      message: z.string(),
      details: z.unknown().optional(),
    }),
    meta: metaSchema,
  })
  .openapi('ErrorEnvelope');

export function successEnvelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    success: z.literal(true),
    data,
    meta: metaSchema,
  });
}

export function paginatedEnvelopeSchema<T extends z.ZodType>(item: T) {
  return z.object({
    success: z.literal(true),
    data: z.array(item),
    pagination: paginationSchema,
    meta: metaSchema,
  });
}

export function metaOf<E extends RequestEnv>(c: Context<E>) {
  return {
    timestamp: c.get('deps').clock.now().toISOString(),
    requestId: c.get('requestId'),
    version: c.get('deps').config.API_VERSION,
  };
}

export function ok<T, S extends ContentfulStatusCode = 200, E extends RequestEnv = RequestEnv>(
  c: Context<E>,
  data: T,
  status?: S,
) {
  return c.json({ success: true as const, data, meta: metaOf(c) }, status ?? (200 as S));
}

/** A page of items with its offset or cursor block. */
export function okPage<T, P extends Pagination | CursorPagination, E extends RequestEnv>(
  c: Context<E>,
  data: T[],
  pagination: P,
) {
  return c.json({ success: true as const, data, pagination, meta: metaOf(c) }, 200);
}

export type Meta = z.infer<typeof metaSchema>;

/** The error envelope's body. */
function errorBody(error: AppError, meta: Meta) {
  return {
    success: false as const,
    error: {
      code: error.code,
      message: error.message,
      ...(error.details !== undefined && { details: error.details }),
    },
    meta,
  };
}

export function errorResponse<E extends RequestEnv>(c: Context<E>, error: AppError): Response {
  // The request's log line names every refusal: a 401 alone does not tell an operator which
  // signature check failed. The event is absent only before the request log starts.
  if (c.get('event') !== undefined) c.get('event').errorCode = error.code;
  return c.json(errorBody(error, metaOf(c)), error.status, error.headers);
}
