// Secure headers and CORS. An API answers JSON, so its CSP forbids everything; the one HTML page
// (/docs) styles itself with the per-request nonce. CORS allows only the configured origins and
// never reflects an arbitrary one.

import { cors as honoCors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from '../app-env.ts';
import { errorResponse } from '../lib/envelope.ts';
import { AppError } from '../lib/errors.ts';

export const securityHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: [NONCE],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
    crossOriginResourcePolicy: 'same-site',
    xFrameOptions: 'DENY',
  });

// X-CSRF-Token: cookie-mode pages on an allowed origin repeat their CSRF token (src/lib/csrf.ts).
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
    // A refused preflight says why; a browser would only report an opaque CORS failure.
    if (isPreflight && origin !== undefined && !allowed.has(origin)) {
      return errorResponse(
        c,
        new AppError('CORS_ORIGIN_NOT_ALLOWED', `Origin ${origin} is not allowed`),
      );
    }
    return cors(c, next);
  });
};
