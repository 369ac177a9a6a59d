// CSRF protection for cookie-authenticated requests. A browser attaches cookies to requests other
// sites make it send, so an unsafe request counts only when it proves it came from our own pages:
// - its Origin is the API's own origin or one of CORS_ORIGINS (browsers always send Origin on
//   unsafe methods and a page cannot forge it);
// - it repeats, in the X-CSRF-Token header, the token of the `__Host-csrf` cookie (double submit:
//   another site can neither read that cookie nor, thanks to the __Host- prefix, plant one from a
//   sibling subdomain).
// Bearer requests need neither: no browser attaches an Authorization header on its own.
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../../app-env.ts';
import { AppError } from '../../lib/errors.ts';
import { constantTimeEqual, randomToken } from '../../lib/opaque-tokens.ts';

/** Cookie `__Host-csrf`, readable by the page's script. */
export const csrfCookie = 'csrf';
export const csrfHeader = 'X-CSRF-Token';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export function newCsrfToken(): string {
  return randomToken();
}

export function isUnsafeMethod(method: string): boolean {
  return !safeMethods.has(method.toUpperCase());
}

function originAllowed(c: Context<AppEnv>, origin: string | undefined): boolean {
  if (origin === undefined) return false;
  return origin === new URL(c.req.url).origin || c.get('deps').config.CORS_ORIGINS.includes(origin);
}

/** Throws 403 CSRF_FAILED unless the request carries our Origin and the matching token. */
export function verifyCsrf(c: Context<AppEnv>): void {
  const origin = c.req.header('Origin');
  if (!originAllowed(c, origin)) {
    throw new AppError('CSRF_FAILED', 'Cross-site request refused', {
      details: { reason: origin === undefined ? 'origin_missing' : 'origin_not_allowed' },
    });
  }
  const cookie = getCookie(c, csrfCookie, 'host');
  const header = c.req.header(csrfHeader);
  if (cookie === undefined || header === undefined || !constantTimeEqual(cookie, header)) {
    throw new AppError('CSRF_FAILED', `Missing or wrong ${csrfHeader} header`, {
      details: { reason: header === undefined ? 'token_missing' : 'token_mismatch' },
    });
  }
}
