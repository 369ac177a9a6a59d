// The accounts routes' OpenAPI definitions: the same schemas validate requests.
import { createRoute } from '@hono/zod-openapi';
import {
  anyone,
  refreshCredentials,
  sessionOnly,
  sessionOrApiKey,
} from '../../lib/openapi-security.ts';
import { failure, jsonBody, success } from '../../lib/route-responses.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import { rateLimit } from '../../middleware/rate-limit.ts';
import { selfUserSchema } from '../users/user-serializer.ts';
import { principalOf, requireAuth, requireSession } from './auth.middleware.ts';

import {
  acceptedSchema,
  changePasswordBodySchema,
  deleteAccountBodySchema,
  forgotPasswordBodySchema,
  loginBodySchema,
  logoutBodySchema,
  refreshBodySchema,
  refreshedSchema,
  registerBodySchema,
  resetPasswordBodySchema,
  sessionModeQuerySchema,
  signedInSchema,
  tokenBodySchema,
} from './auth.schemas.ts';

const validation = failure('The body fails its schema (code VALIDATION_FAILED).');
const policy = failure(
  'The new password breaks the policy (code PASSWORD_POLICY; `details.issues` lists each rule).',
);
const unauthenticated = failure('No valid session or API key (code UNAUTHORIZED).');
const tooMany = failure("Over the route's rate limit (code RATE_LIMITED, with Retry-After).");
const noContent = { description: 'Done; no body.' };

export const registerRoute = createRoute({
  method: 'post',
  path: '/v1/auth/register',
  operationId: 'createAccount',
  tags: ['Auth'],
  summary: 'Create an account and sign in',
  description:
    'Creates the account (the email is stored lower-cased), queues the verification email and ' +
    'answers with the user and a session. Throttled per client address (policy `signup`).',
  security: anyone,
  // Nobody is signed in yet: keys are the client address's.
  middleware: [rateLimit('signup'), idempotency({ caller: 'address' })],
  request: {
    query: sessionModeQuerySchema,
    headers: idempotencyKeyHeaders,
    body: jsonBody(registerBodySchema),
  },
  responses: withIdempotencyRefusals({
    201: success('The new account, signed in.', signedInSchema),
    409: failure('The email already has an account (code CONFLICT).'),
    422: policy,
    429: tooMany,
  }),
});

export const loginRoute = createRoute({
  method: 'post',
  path: '/v1/auth/login',
  operationId: 'signIn',
  tags: ['Auth'],
  summary: 'Sign in with email and password',
  description:
    'An unknown email, a deleted account and a wrong password get the same 401 after the same ' +
    'work. Five FAILED attempts per 15 minutes per address and email (policy `auth`); successful ' +
    'sign-ins are not counted. An unverified email may sign in.',
  security: anyone,
  request: { query: sessionModeQuerySchema, body: jsonBody(loginBodySchema) },
  responses: {
    200: success('Signed in.', signedInSchema),
    401: failure('Wrong email or password (code INVALID_CREDENTIALS).'),
    422: validation,
    429: tooMany,
    503: failure('The throttle cannot be checked: refused rather than unmetered.'),
  },
});

export const refreshRoute = createRoute({
  method: 'post',
  path: '/v1/auth/refresh',
  operationId: 'refreshSession',
  tags: ['Auth'],
  summary: 'Exchange a refresh token for a new session',
  description:
    'The refresh token (from the body, or in cookie mode from the refresh cookie, with the ' +
    'X-CSRF-Token header) is rotated: it works once. Presented again, its whole family is ' +
    'revoked (code REFRESH_TOKEN_REUSED). A cookie-mode refresh answers with new cookies.',
  security: refreshCredentials,
  request: { body: { ...jsonBody(refreshBodySchema), required: false } },
  responses: {
    200: success('The new session, as `session` (where sign-in puts it).', refreshedSchema),
    401: failure('Unknown, expired, revoked or reused refresh token.'),
    403: failure('Cookie mode without a valid Origin and X-CSRF-Token (code CSRF_FAILED).'),
    422: validation,
  },
});

export const logoutRoute = createRoute({
  method: 'post',
  path: '/v1/auth/logout',
  operationId: 'signOut',
  tags: ['Auth'],
  summary: 'End the session',
  description:
    'The access token is refused from this moment on (its id is deny-listed until it expires) ' +
    'and the refresh token family is revoked; session cookies are cleared.',
  security: sessionOrApiKey(),
  middleware: [requireAuth()],
  request: { body: { ...jsonBody(logoutBodySchema), required: false } },
  responses: { 204: noContent, 401: unauthenticated },
});

export const requestVerificationRoute = createRoute({
  method: 'post',
  path: '/v1/auth/verify-email/request',
  operationId: 'requestEmailVerification',
  tags: ['Auth'],
  summary: 'Send a new verification email',
  description:
    'Earlier links stop working. The link is valid for 24 hours. An account gets at most ' +
    'RATE_LIMIT_ACCOUNT_EMAIL of them (3 an hour by default; policy `accountEmail`).',
  security: sessionOrApiKey(),
  middleware: [
    requireAuth(),
    rateLimit('accountEmail', { key: (c) => `verify:${principalOf(c).userId}` }),
  ],
  responses: {
    202: success('The email is queued.', acceptedSchema),
    401: unauthenticated,
    409: failure('The email is already verified (code CONFLICT).'),
    429: tooMany,
  },
});

export const confirmVerificationRoute = createRoute({
  method: 'post',
  path: '/v1/auth/verify-email/confirm',
  operationId: 'confirmEmailVerification',
  tags: ['Auth'],
  summary: 'Verify the email with the token from the link',
  description:
    'The token works once, within 24 hours. Access tokens issued before carry the old state ' +
    'until refreshed.',
  security: anyone,
  request: { body: jsonBody(tokenBodySchema) },
  responses: {
    200: success('The user, verified.', selfUserSchema),
    400: failure('Invalid, expired or used token (code TOKEN_INVALID).'),
    422: validation,
  },
});

export const forgotPasswordRoute = createRoute({
  method: 'post',
  path: '/v1/auth/password/forgot',
  operationId: 'requestPasswordReset',
  tags: ['Auth'],
  summary: 'Ask for a password reset email',
  description:
    'Always 202, whether or not the email has an account: the answer tells nothing. The link is ' +
    'valid for 1 hour. Throttled per client address (policy `passwordReset`); an account gets ' +
    'at most RATE_LIMIT_ACCOUNT_EMAIL reset emails (3 an hour by default), however many ' +
    'addresses ask.',
  security: anyone,
  middleware: [rateLimit('passwordReset')],
  request: { body: jsonBody(forgotPasswordBodySchema) },
  responses: {
    202: success('Queued if the account exists.', acceptedSchema),
    422: validation,
    429: tooMany,
  },
});

export const resetPasswordRoute = createRoute({
  method: 'post',
  path: '/v1/auth/password/reset',
  operationId: 'resetPassword',
  tags: ['Auth'],
  summary: 'Set a new password with the token from the reset email',
  description: 'The token works once, within 1 hour. Every session of the account ends.',
  security: anyone,
  request: { body: jsonBody(resetPasswordBodySchema) },
  responses: {
    204: noContent,
    400: failure('Invalid, expired or used token (code TOKEN_INVALID).'),
    422: policy,
  },
});

export const changePasswordRoute = createRoute({
  method: 'post',
  path: '/v1/auth/password/change',
  operationId: 'changePassword',
  tags: ['Auth'],
  summary: 'Change the password',
  description:
    'Needs a session (not an API key) and the current password; a verified email is not ' +
    'required. Every session ends; the answer carries a new one for this client (as cookies when ' +
    'it signed in with cookies). Wrong current passwords count against the `auth` policy, per user.',
  security: sessionOnly,
  middleware: [requireAuth(), requireSession()],
  request: { body: jsonBody(changePasswordBodySchema) },
  responses: {
    200: success('The password is changed; a new session.', signedInSchema),
    401: failure('No session (UNAUTHORIZED), or a wrong current password (INVALID_CREDENTIALS).'),
    403: failure('Called with an API key (code FORBIDDEN).'),
    422: policy,
    429: tooMany,
  },
});

export const deleteAccountRoute = createRoute({
  method: 'delete',
  path: '/v1/auth/account',
  operationId: 'deleteAccount',
  tags: ['Auth'],
  summary: "Delete one's own account",
  description:
    'A soft delete, confirmed with the password: the account can no longer sign in, is hidden ' +
    'everywhere, and every session ends. An administrator can restore it.',
  security: sessionOnly,
  middleware: [requireAuth(), requireSession()],
  request: { body: jsonBody(deleteAccountBodySchema) },
  responses: {
    204: noContent,
    401: failure('No session (UNAUTHORIZED), or a wrong password (INVALID_CREDENTIALS).'),
    403: failure('Called with an API key (code FORBIDDEN).'),
    422: validation,
    429: tooMany,
  },
});
