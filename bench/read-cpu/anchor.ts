// The anchor the cached read is judged against: the least an authenticated, validated read costs
// on the same stack of libraries. A Hono app with one GET route that verifies the app's own kind of
// access token (HS256 with jose, issuer and audience checked, the key imported once as the app
// does) and validates its path parameter with zod, answering a small JSON body. No backend.
import { zValidator } from '@hono/zod-validator';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { jwtVerify } from 'jose';
import * as z from 'zod';
import { benchJwtVars } from '../app-on-stack.ts';

const [kid = '', secret = ''] = benchJwtVars.JWT_SIGNING_KEYS.split(/:(.*)/);

/** The anchor app; `request(path, token)` sends it a GET with a bearer token. */
export async function anchorApp() {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const requireAuth = createMiddleware<{ Variables: { userId: string } }>(async (c, next) => {
    const token = /^Bearer (.+)$/.exec(c.req.header('Authorization') ?? '')?.[1];
    if (token === undefined) return c.json({ error: 'unauthorized' }, 401);
    const verified = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: benchJwtVars.JWT_ISSUER,
      audience: benchJwtVars.JWT_AUDIENCE,
    }).catch(() => undefined);
    const userId = verified?.payload.sub;
    if (verified?.protectedHeader.kid !== kid || userId === undefined) {
      return c.json({ error: 'unauthorized' }, 401);
    }
    c.set('userId', userId);
    await next();
  });
  const app = new Hono().get(
    '/users/:id',
    requireAuth,
    zValidator('param', z.object({ id: z.uuid() })),
    (c) => {
      const { id } = c.req.valid('param');
      return c.json({ data: { id, self: id === c.get('userId') } });
    },
  );
  return {
    request: (path: string, token: string) =>
      app.request(path, { headers: { authorization: `Bearer ${token}` } }),
  };
}
