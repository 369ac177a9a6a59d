// The security schemes of the API, every way in, and the requirements routes declare as their
// `security` (`security: sessionOrApiKey('users:admin')`), so the document says exactly which
// credentials each operation takes.
import type { OpenAPIHono } from '@hono/zod-openapi';

type OpenApiComponents = NonNullable<ReturnType<OpenAPIHono['getOpenAPI31Document']>['components']>;
type SecurityScheme = NonNullable<OpenApiComponents['securitySchemes']>[string];

/**
 * Every way in. A request presents one credential: an X-API-Key is used when present, else the
 * Authorization header, else the session cookie (src/modules/auth/auth.middleware.ts).
 */
export const securitySchemes = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'The access token of a session (`session.accessToken` from sign-in, registration or ' +
      'refresh), as `Authorization: Bearer <token>`. Short-lived: refresh it with ' +
      'POST /v1/auth/refresh. A refused token answers 401 with a `WWW-Authenticate` challenge ' +
      'whose `error_description` (and `error.details.reason`: missing, expired, invalid, ' +
      'revoked) tells refreshing from signing in again.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description:
      "A key from POST /v1/api-keys. It acts as its owner with the owner's role, limited to the " +
      "key's scopes: an operation lists the scope a key needs, and a key without it gets 403 " +
      'SCOPE_MISSING. An unknown, revoked or expired key gets 401 API_KEY_INVALID. Account and ' +
      'key management take a session, never a key. Metered per key (policy `apiKey`).',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-session',
    description:
      'Cookie mode (`?mode=cookie` on sign-in or registration): the access token in an httpOnly, ' +
      'Secure, SameSite=Lax cookie, sent by the browser. On unsafe methods (anything but GET, ' +
      'HEAD, OPTIONS) it counts only with the X-CSRF-Token header beside it.',
  },
  refreshCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-refresh',
    description:
      'Cookie mode: the refresh token, in an httpOnly, Secure, SameSite=Strict cookie. Only ' +
      'POST /v1/auth/refresh reads it, with the X-CSRF-Token header; it is rotated on every use.',
  },
  csrfToken: {
    type: 'apiKey',
    in: 'header',
    name: 'X-CSRF-Token',
    description:
      'Cookie mode, unsafe methods: the value of the readable `__Host-csrf` cookie (also ' +
      '`session.csrfToken` in the sign-in answer), repeated in this header (double submit). The ' +
      "request's Origin must also be the API's own or one of CORS_ORIGINS. Otherwise 403 " +
      'CSRF_FAILED. Bearer tokens and API keys need neither.',
  },
  partnerHmac: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Signature',
    description:
      'Partners with the `hmac-sha256` scheme: lowercase hex HMAC-SHA-256, keyed with the ' +
      "partner's secret (`pws_…`), of `<X-Timestamp>.<raw body>`; X-Timestamp carries the Unix " +
      'seconds of signing, within 5 minutes of our clock. Each signature is accepted once.',
  },
  partnerStandardWebhooks: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description:
      'Partners with the `standard-webhooks` scheme (standardwebhooks.com): `v1,<base64 ' +
      'HMAC-SHA-256>` keyed with the base64-decoded secret after `whsec_`, of ' +
      '`<webhook-id>.<webhook-timestamp>.<raw body>`, with the webhook-id and webhook-timestamp ' +
      'headers. Timestamps within 5 minutes; each id and timestamp pair is accepted once.',
  },
  qstashSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'Upstash-Signature',
    description:
      "QStash's signature: an HS256 JWT signed with the current or next signing key " +
      '(QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY), issuer `Upstash`, subject the URL ' +
      'QStash was given, and the SHA-256 of the raw body. Each signature is accepted once.',
  },
  signedUrl: {
    type: 'apiKey',
    in: 'query',
    name: 'signature',
    description:
      'A URL this API handed out (a direct upload, or the Node worker’s avatar transfer): ' +
      '`expires` (Unix seconds) and `signature`, an HMAC over the method, path and expiry. It ' +
      'allows that one method on that one path until it expires, and needs nothing else.',
  },
} as const satisfies Record<string, SecurityScheme>;

export type SecuritySchemeName = keyof typeof securitySchemes;

/** One way to satisfy an operation: every scheme it names applies together. */
export type SecurityRequirement = Record<string, string[]>;

function requirement(scheme: SecuritySchemeName, scopes: string[] = []): SecurityRequirement {
  return { [scheme]: scopes };
}

/** Cookies a browser sends on its own: on unsafe methods they need the CSRF token too. */
export const cookieSchemes: readonly SecuritySchemeName[] = ['sessionCookie', 'refreshCookie'];

/** Schemes that sign the raw body, which the route then reads itself. */
export const signatureSchemes: readonly SecuritySchemeName[] = [
  'partnerHmac',
  'partnerStandardWebhooks',
  'qstashSignature',
];

/** No credentials are read: anyone may call. */
export const anyone: SecurityRequirement[] = [];

/**
 * requireAuth: a session (bearer token or session cookie) or an API key holding one of `scopes`
 * (each is an alternative; none listed, any key).
 */
export function sessionOrApiKey(...scopes: string[]): SecurityRequirement[] {
  const keys =
    scopes.length === 0
      ? [requirement('apiKey')]
      : scopes.map((scope) => requirement('apiKey', [scope]));
  return [requirement('bearerAuth'), requirement('sessionCookie'), ...keys];
}

/** requireAuth with requireSession: a bearer token or the session cookie, never an API key. */
export const sessionOnly: SecurityRequirement[] = [
  requirement('bearerAuth'),
  requirement('sessionCookie'),
];

/**
 * The refresh route: its bearer-mode token travels in the body, which no scheme describes, hence
 * the empty requirement; in cookie mode, the refresh cookie.
 */
export const refreshCredentials: SecurityRequirement[] = [{}, requirement('refreshCookie')];

/** The partner's scheme decides which signature it sends. */
export const partnerSignature: SecurityRequirement[] = [
  requirement('partnerHmac'),
  requirement('partnerStandardWebhooks'),
];

export const qstashSignature: SecurityRequirement[] = [requirement('qstashSignature')];

/** A URL we signed (src/lib/signed-urls.ts): the URL is the credential. */
export const signedUrl: SecurityRequirement[] = [requirement('signedUrl')];
