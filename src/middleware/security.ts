// Secure headers and CORS. An API answers JSON, so its CSP forbids everything; the one HTML page
// (/docs) styles itself with the per-request nonce. CORS allows only the configured origins and
// never reflects an arbitrary one.

import { cors as honoCors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../app-env.ts';
import { errorResponse } from '../lib/envelope.ts';
import { AppError } from '../lib/errors.ts';

const commonPolicy = {
  defaultSrc: ["'none'"],
  imgSrc: ["'self'", 'data:'],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};
const commonHeaders = {
  crossOriginResourcePolicy: 'same-site',
  xFrameOptions: 'DENY',
} as const;

/**
 * Secure headers for every answer. The pages at `stylePaths` get a per-request nonce for their
 * inline style; every other answer gets a fixed policy, built once, since a nonce costs a random
 * draw and a new header string on each request.
 */
export const securityHeaders = (stylePaths: readonly string[]) => {
  const fixed = secureHeaders({ contentSecurityPolicy: commonPolicy, ...commonHeaders });
  const styled = secureHeaders({
    contentSecurityPolicy: { ...commonPolicy, styleSrc: [NONCE] },
    ...commonHeaders,
  });
  const paths = new Set(stylePaths);
  return createMiddleware<AppEnv>((c, next) =>
    paths.has(c.req.path) ? styled(c, next) : fixed(c, next),
  );
};

// X-CSRF-Token: cookie-mode pages on an allowed origin repeat their CSRF token (src/modules/auth/csrf.ts).
const allowHeaders = ['Content-Type', 'Authorization', 'X-Request-Id', 'X-API-Key', 'X-CSRF-Token'];
const exposeHeaders = [
  'X-Request-Id',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
];

export const corsPolicy = (allowedOrigins: readonly string[]) => {
  const allowed = new Set(allowedOrigins);
  const cors = honoCors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders,
    exposeHeaders,
    credentials: true,
    maxAge: 600,
  });
  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header('Origin');
    const isPreflight = c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method');
    // Without Origin no browser is asking (same-origin and server-to-server calls): nothing to
    // allow, and Hono's cors would copy the response twice to say so.
    if (origin === undefined) {
      c.header('Vary', 'Origin', { append: true });
      return next();
    }
    // A refused preflight says why; a browser would only report an opaque CORS failure.
    if (isPreflight && !allowed.has(origin)) {
      return errorResponse(
        c,
        new AppError('CORS_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed`),
      );
    }
    return cors(c, next);
  });
};
