// Secure headers and CORS. An API answers JSON, so its CSP forbids everything; the one HTML page
// (/docs, the interactive reference) may run scripts from this origin and the inline one carrying
// the per-request nonce, style itself, and call this origin only. CORS allows only the configured
// origins and never reflects an arbitrary one.

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
 * What the reference at /docs needs (src/modules/docs/docs-page.ts). Scripts: Scalar's build from
 * this origin and the inline module that starts it, which carries the request's nonce; nothing
 * else runs (no eval: Scalar's validator only probes for it and does without). Styles: Scalar
 * also inserts <style> elements of its own without a nonce (its theme, its toasts) and writes
 * `style` attributes, so inline styles are allowed here; with no font, image or connection
 * allowed off this origin, a style can load nothing from elsewhere. Its "try it" calls this
 * origin only.
 */
const docsPolicy = {
  ...commonPolicy,
  scriptSrc: ["'self'", NONCE],
  styleSrc: ["'self'", "'unsafe-inline'"],
  connectSrc: ["'self'"],
};

/**
 * Secure headers for every answer. The pages at `docsPaths` get the reference's policy with a
 * per-request script nonce; every other answer gets a fixed policy, built once, since a nonce
 * costs a random draw and a new header string on each request. An answer is about its request,
 * often about its caller (a profile, keys, tokens): no cache keeps a copy unless its route says
 * how (a file's bytes, an avatar).
 */
export const securityHeaders = (docsPaths: readonly string[]) => {
  const fixed = secureHeaders({ contentSecurityPolicy: commonPolicy, ...commonHeaders });
  const docs = secureHeaders({ contentSecurityPolicy: docsPolicy, ...commonHeaders });
  const paths = new Set(docsPaths);
  return createMiddleware<AppEnv>(async (c, next) => {
    await (paths.has(c.req.path) ? docs(c, next) : fixed(c, next));
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  });
};

// X-CSRF-Token: cookie-mode pages on an allowed origin repeat their CSRF token
// (src/modules/auth/csrf.ts).
// Idempotency-Key: a retried create answers as the first did (src/middleware/idempotency.ts);
// traceparent: a browser's trace continues through the API and its jobs.
const allowHeaders = [
  'Content-Type',
  'Authorization',
  'X-Request-Id',
  'X-API-Key',
  'X-CSRF-Token',
  'Idempotency-Key',
  'traceparent',
];
const exposeHeaders = [
  'X-Request-Id',
  'traceparent',
  'Idempotent-Replayed',
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
    // A refused preflight says why; a browser would only report an opaque CORS failure.
    if (isPreflight && origin !== undefined && !allowed.has(origin)) {
      return errorResponse(
        c,
        new AppError('CORS_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed`),
      );
    }
    // Without Origin no browser is asking (same-origin and server-to-server calls); from an
    // origin not allowed, nothing is granted, not even the credentials flag Hono's cors would set.
    // Either way there is nothing to add, and Hono's cors would copy the response twice to say so.
    if (origin === undefined || !allowed.has(origin)) {
      c.header('Vary', 'Origin', { append: true });
      return next();
    }
    return cors(c, next);
  });
};
