// The one application error type. Every failure a client can see carries one of these stable,
// machine-readable codes; the HTTP status follows from the code alone.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as z from 'zod';

/** Every code a client can see: its status, and when it is answered (the docs' table is built from this). */
const catalogue = {
  BAD_REQUEST: [400, 'malformed JSON or request'],
  VALIDATION_FAILED: [
    422,
    'a schema refused the params, query or body; `details.fields` lists each field',
  ],
  UNAUTHORIZED: [401, 'no credentials, or an access token that is invalid, expired or revoked'],
  FORBIDDEN: [403, 'authenticated, but the role or the route does not allow it'],
  NOT_FOUND: [404, 'unknown path or resource'],
  METHOD_NOT_ALLOWED: [405, 'known path, other method; `Allow` says which'],
  CONFLICT: [
    409,
    'the write conflicts with existing data (an email already taken, the last admin)',
  ],
  PAYLOAD_TOO_LARGE: [
    413,
    'body over `MAX_BODY_BYTES`, or an upload whose declared length no allowed upload could have',
  ],
  UNSUPPORTED_MEDIA_TYPE: [
    415,
    'wrong content type; `details.accepted` names the media types the route takes',
  ],
  RATE_LIMITED: [429, 'over a rate-limit policy; `Retry-After` and `details.retryAfterSeconds`'],
  CORS_ORIGIN_NOT_ALLOWED: [403, 'a browser preflight from an origin not in `CORS_ORIGINS`'],
  INTERNAL_ERROR: [500, 'anything unexpected: logged with its stack, never sent'],
  SERVICE_UNAVAILABLE: [
    503,
    'a backend is down or slow, the request ran past its deadline, or the server is misconfigured; `details.backend` names a backend',
  ],
  INVALID_CURSOR: [
    400,
    'a pagination cursor that was altered, expired with its signing key, or belongs to another query',
  ],
  MULTIPART_INVALID: [
    400,
    'a multipart/form-data body that is malformed or truncated, or has no boundary',
  ],
  UPLOAD_FIELD_INVALID: [
    400,
    'an upload without a file in the expected field, or with another field; `details.expected` names it',
  ],
  TOO_MANY_FILES: [400, 'more files in one upload than allowed; `details.maxFiles`'],
  FILE_EMPTY: [400, 'an uploaded file of zero bytes'],
  FILE_TOO_LARGE: [413, 'a file over its size limit, counted as it arrives; `details.maxBytes`'],
  FILE_TYPE_NOT_ALLOWED: [
    415,
    'a file whose bytes are not of an allowed type; `details.detected` names what they are',
  ],
  STORAGE_QUOTA_EXCEEDED: [
    413,
    'an upload that would take the user past their storage quota; `details.quotaBytes`, `details.usedBytes`',
  ],
  UPLOAD_INCOMPLETE: [
    409,
    'a direct upload completed before its bytes arrived, or with another size than announced',
  ],
  UPLOAD_EXPIRED: [410, 'a direct upload completed after its URL expired'],
  UPLOAD_CHECKSUM_MISMATCH: [
    422,
    'a direct upload whose bytes do not have the SHA-256 announced; storage kept none of them',
  ],
  INVALID_CREDENTIALS: [401, 'sign-in with a wrong email or password (one answer for both)'],
  PASSWORD_POLICY: [422, 'a new password the policy refuses; `details.issues` says why'],
  TOKEN_INVALID: [
    400,
    'an email verification or password reset token that is invalid, expired or used',
  ],
  API_KEY_INVALID: [401, 'an `X-API-Key` that is malformed, unknown, revoked or expired'],
  SCOPE_MISSING: [
    403,
    'an API key without the scope the route needs; `details.permission` names it',
  ],
  REFRESH_TOKEN_REUSED: [401, 'a refresh token presented twice: its whole session is revoked'],
  EMAIL_NOT_VERIFIED: [403, 'the route needs a verified email address'],
  CSRF_FAILED: [403, 'a cookie-mode request without the matching `X-CSRF-Token`'],
  SIGNATURE_MISSING: [401, 'a signed endpoint called without its signature headers'],
  SIGNATURE_MALFORMED: [401, 'signature headers that cannot be parsed'],
  SIGNATURE_INVALID: [401, 'a signature that does not verify (also an unknown or revoked partner)'],
  SIGNATURE_BODY_MISMATCH: [401, 'a QStash signature over another body'],
  SIGNATURE_WRONG_URL: [401, 'a QStash signature for another URL'],
  SIGNATURE_WRONG_ISSUER: [401, 'a QStash signature not issued by QStash'],
  SIGNATURE_EXPIRED: [401, 'a signature older than its tolerance'],
  SIGNATURE_REPLAYED: [401, 'a signature already accepted once'],
  IDEMPOTENCY_KEY_INVALID: [
    400,
    'an `Idempotency-Key` that is empty, over 255 characters or not printable ASCII',
  ],
  IDEMPOTENCY_KEY_REUSED: [
    422,
    'an `Idempotency-Key` this caller already used, within 24 hours, for another method, path, query or body',
  ],
  IDEMPOTENCY_REQUEST_IN_PROGRESS: [
    409,
    'the first request with this `Idempotency-Key` was still running after a 5 s wait; `Retry-After`',
  ],
  JOB_PAYLOAD_INVALID: [
    489,
    'a job delivery whose payload its type refuses: dead-lettered, not retried',
  ],
  JOB_FAILED: [489, 'a job that failed for good: dead-lettered, not retried'],
  JOB_IN_PROGRESS: [
    429,
    'another delivery of the same job holds its lease; QStash retries after `Retry-After`',
  ],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof catalogue;

export const errorCodes = z.enum(Object.keys(catalogue) as [ErrorCode, ...ErrorCode[]]);

// 489 with Upstash-NonRetryable-Error is QStash's: it sends the message to the DLQ without
// retrying.
export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return catalogue[code][0] as ContentfulStatusCode;
}

/** When each code is answered, in the catalogue's order. */
export function errorCodeTable(): { code: ErrorCode; status: number; when: string }[] {
  return (Object.keys(catalogue) as ErrorCode[]).map((code) => {
    const [status, when] = catalogue[code];
    return { code, status, when };
  });
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
