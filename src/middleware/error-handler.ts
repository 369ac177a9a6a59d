// Where every failure becomes an envelope: thrown AppErrors, Hono's HTTPExceptions, validation
// failures and anything unexpected. Internals (stack, SQL, secrets) go to the log, never out.
import type { Hook } from '@hono/zod-openapi';
import type { Context, Env, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { errorResponse } from '../lib/envelope.ts';
import { AppError, type ErrorCode } from '../lib/errors.ts';
import { loggableMessage, loggableStack } from '../lib/loggable-errors.ts';
import type { RequestEnv } from '../lib/request-env.ts';
import { faultyBackend } from '../platform/backend-faults.ts';

const codeByStatus: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** The media types the route a request reached takes its body in (none known: empty). */
export type AcceptedMediaTypes = (method: string, routePath: string) => string[];

function fromHttpException(
  error: HTTPException,
  c: Context,
  acceptedMediaTypes: AcceptedMediaTypes,
): AppError {
  const code = codeByStatus[error.status];
  if (code === undefined) return new AppError('INTERNAL_ERROR', 'Internal server error');
  const accepted =
    code === 'UNSUPPORTED_MEDIA_TYPE' ? acceptedMediaTypes(c.req.method, c.req.routePath) : [];
  if (accepted.length > 0) {
    const received = c.req.header('content-type') ?? null;
    return new AppError(
      code,
      `Send the body as ${accepted.join(' or ')}${received === null ? ' with a Content-Type header' : `, not ${received}`}`,
      { details: { accepted, received } },
    );
  }
  // Hono's own messages ("Malformed JSON in request body") are written for clients.
  return new AppError(code, error.message || code.toLowerCase().replaceAll('_', ' '));
}

const errorLine = (error: Error) => `${error.name}: ${loggableMessage(error)}`;

/** What the log line says of an AppError the server answered 5xx for: its code and its cause. */
function serverFault(error: AppError): { code: string; cause: string } {
  const { cause } = error;
  return {
    code: error.code,
    cause: cause instanceof Error ? errorLine(cause) : String(cause ?? error.message),
  };
}

/** The app's onError: every failure leaves as the envelope. */
export function handleErrors<E extends RequestEnv>(
  acceptedMediaTypes: AcceptedMediaTypes,
): ErrorHandler<E> {
  return (error, c) => {
    if (error instanceof AppError) {
      if (error.status >= 500) c.get('event').error = serverFault(error);
      return errorResponse(c, error);
    }
    if (error instanceof HTTPException) {
      return errorResponse(c, fromHttpException(error, c, acceptedMediaTypes));
    }
    return errorResponse(c, unexpected(error, c.get('event')));
  };
}

/** An error no code path expected: a backend's failure (503), or else our bug (500). */
function unexpected(error: Error, event: { error?: unknown }): AppError {
  const backend = faultyBackend(error);
  if (backend !== undefined) {
    event.error = {
      code: 'SERVICE_UNAVAILABLE',
      backend,
      cause: errorLine(error),
    };
    return new AppError('SERVICE_UNAVAILABLE', 'Temporarily unable to serve this request', {
      details: { backend },
    });
  }
  event.error = {
    name: error.name,
    message: loggableMessage(error),
    stack: loggableStack(error),
  };
  return new AppError('INTERNAL_ERROR', 'Internal server error');
}

interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
  code: string;
}

/** A failed schema's issues as a 422's `details.fields` lists them. */
export function fieldIssues(issues: readonly SchemaIssue[]) {
  return issues.flatMap((issue) => {
    // A field the route does not take is named by its own path, so a client sees `items.3.id`
    // refused rather than `items.3` with the names in the message only.
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys.map(String) : [];
    const paths = keys.length > 0 ? keys.map((key) => [...issue.path, key]) : [issue.path];
    return paths.map((path) => ({
      path: path.join('.'),
      message: issue.message,
      code: issue.code,
    }));
  });
}

/** The default hook of every validated route: a failed schema answers 422 with each field's issue. */
type ValidationResult = Parameters<Hook<unknown, Env, string, unknown>>[0];

export function validationHook(result: ValidationResult): void {
  if (result.success) return;
  throw new AppError('VALIDATION_FAILED', `Invalid request ${result.target}`, {
    details: { target: result.target, fields: fieldIssues(result.error.issues) },
  });
}

export function notFoundOrMethodNotAllowed(allowedMethods: (path: string) => string[]) {
  return <E extends RequestEnv>(c: Context<E>) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length > 0) {
      return errorResponse(
        c,
        new AppError('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path}`, {
          headers: { Allow: allowed.join(', ') },
          details: { allowed },
        }),
      );
    }
    return errorResponse(
      c,
      new AppError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`),
    );
  };
}
