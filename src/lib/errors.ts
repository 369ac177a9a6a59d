// The one application error type. Every failure a client can see carries one of these stable,
// machine-readable codes; the HTTP status follows from the code alone.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as z from 'zod';

export const errorCodes = z.enum([
  'BAD_REQUEST',
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'CORS_ORIGIN_NOT_ALLOWED',
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
  'INVALID_CREDENTIALS',
  'PASSWORD_POLICY',
  'TOKEN_INVALID',
  'API_KEY_INVALID',
  'SCOPE_MISSING',
  'REFRESH_TOKEN_REUSED',
  'EMAIL_NOT_VERIFIED',
  'CSRF_FAILED',
  'SIGNATURE_MISSING',
  'SIGNATURE_MALFORMED',
  'SIGNATURE_INVALID',
  'SIGNATURE_BODY_MISMATCH',
  'SIGNATURE_WRONG_URL',
  'SIGNATURE_WRONG_ISSUER',
  'SIGNATURE_EXPIRED',
  'SIGNATURE_REPLAYED',
  'JOB_PAYLOAD_INVALID',
  'JOB_FAILED',
  'JOB_IN_PROGRESS',
]);

export type ErrorCode = z.infer<typeof errorCodes>;

const statusByCode: Record<ErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 422,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  CORS_ORIGIN_NOT_ALLOWED: 403,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  INVALID_CREDENTIALS: 401,
  PASSWORD_POLICY: 422,
  TOKEN_INVALID: 400,
  API_KEY_INVALID: 401,
  SCOPE_MISSING: 403,
  REFRESH_TOKEN_REUSED: 401,
  EMAIL_NOT_VERIFIED: 403,
  CSRF_FAILED: 403,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_BODY_MISMATCH: 401,
  SIGNATURE_WRONG_URL: 401,
  SIGNATURE_WRONG_ISSUER: 401,
  SIGNATURE_EXPIRED: 401,
  SIGNATURE_REPLAYED: 401,
  // 489 with Upstash-NonRetryable-Error: QStash sends the message to the DLQ without retrying.
  JOB_PAYLOAD_INVALID: 489 as ContentfulStatusCode,
  JOB_FAILED: 489 as ContentfulStatusCode,
  // Another delivery of the same job holds its lease: QStash comes back after Retry-After.
  JOB_IN_PROGRESS: 429,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return statusByCode[code];
}

export interface AppErrorOptions {
  /** Safe to show the client: field errors, which backend failed, when to retry. */
  details?: unknown;
  /** Extra response headers, e.g. Retry-After or Allow. */
  headers?: Record<string, string>;
  /** The underlying fault, logged but never sent. */
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = statusOf(code);
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}
