// Authentication and authorization as a client sees them: the app from createApp on a local stack
// (Redis database 12), with a few routes guarded by the middleware under test.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'hono';
import { type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import type { AppEnv } from '../../src/app-env.ts';
import { users } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { ok } from '../../src/lib/envelope.ts';
import { createAccessTokens } from '../../src/modules/auth/access-tokens.ts';
import {
  optionalAuth,
  principalOf,
  requireAuth,
  requirePermission,
  requireRole,
  requireSelfOrPermission,
  requireVerifiedEmail,
} from '../../src/modules/auth/auth.middleware.ts';
import { checkPermission } from '../../src/modules/auth/permissions.ts';
import type { Principal } from '../../src/modules/auth/principal.ts';
import {
  clearSessionCookies,
  issueSession,
  revokeAllSessions,
  revokeSession,
  rotateRefreshToken,
  type Session,
  setSessionCookies,
} from '../../src/modules/auth/sessions.ts';
import { createDatabase } from '../../src/platform/database.ts';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { testJwtKeys } from '../support/offline-deps.ts';
import { appOnStack, startTestStack, testDatabase } from '../support/test-stack.ts';

const appOrigin = 'https://app.example.com';
let stack: LocalStack;

const member = {
  id: randomUUID(),
  email: `member-${randomUUID()}@example.com`,
  name: 'Member',
  role: 'user' as const,
  emailVerifiedAt: new Date('2026-01-01T00:00:00Z'),
};
const unverified = {
  id: randomUUID(),
  email: `unverified-${randomUUID()}@example.com`,
  name: 'Unverified',
  role: 'user' as const,
  emailVerifiedAt: null,
};
const admin = {
  id: randomUUID(),
  email: `admin-${randomUUID()}@example.com`,
  name: 'Admin',
  role: 'admin' as const,
  emailVerifiedAt: new Date('2026-01-01T00:00:00Z'),
};

/** The app with routes that show what each guard lets through. */
function guardedApp(overrides: Record<string, string> = {}) {
  const built = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
    CORS_ORIGINS: appOrigin,
    ...overrides,
  });
  const { app } = built;
  const whoami = (c: Context<AppEnv>) => ok(c, principalOf(c));
  app.get('/t/me', requireAuth(), whoami);
  app.post('/t/me', requireAuth(), whoami);
  app.get('/t/maybe', optionalAuth(), (c) => ok(c, { userId: c.var.principal?.userId ?? null }));
  app.get('/t/admin', requireAuth(), requireRole('admin'), whoami);
  app.get('/t/users-admin', requireAuth(), requirePermission('users:admin'), whoami);
  app.get(
    '/t/verified',
    requireAuth(),
    requireVerifiedEmail(async (_, userId) => verifiedSinceIssued.has(userId)),
    whoami,
  );
  app.get('/t/users/:id', requireAuth(), requireSelfOrPermission('id', 'users:read'), whoami);
  app.post('/t/cookie-login', async (c) => {
    const session = await issueSession(c.var.deps, member);
    return ok(c, setSessionCookies(c, session));
  });
  app.post('/t/cookie-logout', (c) => {
    clearSessionCookies(c);
    return ok(c, {});
  });
  return built;
}

/** Users whose email was verified after their access token was issued. */
const verifiedSinceIssued = new Set<string>();
let app: App;
let deps: Deps;
let logLines: Record<string, unknown>[];

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 12, migrate: true });
  await createDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN, testDatabase)
    .insert(users)
    .values([member, unverified, admin]);
  ({ app, deps, logLines } = guardedApp());
});

afterAll(async () => {
  await stack?.close();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function errorOf(response: Response, status: number) {
  const body = (await response.json()) as {
    success: boolean;
    error: { code: string; details?: unknown };
  };
  expect(response.status, JSON.stringify(body)).toBe(status);
  expect(body.success).toBe(false);
  return body.error;
}

async function principalIn(response: Response): Promise<Principal> {
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { data: Principal }).data;
}

async function expectUnauthorized(response: Response, reason: string) {
  const challenge = response.headers.get('WWW-Authenticate');
  expect(await errorOf(response, 401)).toMatchObject({ code: 'UNAUTHORIZED', details: { reason } });
  expect(challenge).toMatch(/^Bearer realm="nexus-edge"/);
  if (reason !== 'missing') expect(challenge).toContain('error="invalid_token"');
}

describe('requireAuth with an access token', () => {
  let session: Session;
  let claims: JWTPayload;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    session = await issueSession(deps, member);
    const [, payload = ''] = session.accessToken.split('.');
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
  });

  function sign(
    payload: JWTPayload,
    {
      kid = testJwtKeys[0].kid as string,
      secret = testJwtKeys[0].secret as string,
      alg = 'HS256',
    } = {},
  ) {
    return new SignJWT(payload)
      .setProtectedHeader({ alg, typ: 'JWT', kid })
      .sign(new TextEncoder().encode(secret));
  }

  it('lets a valid token through as its principal, and names the user on the log line', async () => {
    const response = await app.request('/t/me', {
      headers: { ...bearer(session.accessToken), 'X-Request-Id': 'auth-log-line-1' },
    });
    expect(await principalIn(response)).toMatchObject({
      userId: member.id,
      role: 'user',
      emailVerified: true,
      via: 'session',
      tokenId: claims.jti,
      tokenExpiresAt: claims.exp,
      sessionId: claims.sid,
    });
    const line = logLines.find(
      (entry) => entry.msg === 'request' && entry.requestId === 'auth-log-line-1',
    );
    expect(line).toMatchObject({ userId: member.id, auth: 'session', status: 200 });
  });

  it('accepts a token re-signed unchanged with either key of the rotation', async () => {
    for (const key of testJwtKeys) {
      const token = await sign(claims, key);
      expect(
        (await principalIn(await app.request('/t/me', { headers: bearer(token) }))).userId,
      ).toBe(member.id);
    }
  });

  it('answers 401 without credentials, with a challenge', async () => {
    await expectUnauthorized(await app.request('/t/me'), 'missing');
  });

  it('refuses an expired token as expired', async () => {
    const hourAgo = now() - 3600;
    await expectUnauthorized(
      await app.request('/t/me', {
        headers: bearer(await sign({ ...claims, iat: hourAgo - 900, exp: hourAgo })),
      }),
      'expired',
    );
  });

  const forgeries: [string, () => Promise<string>][] = [
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await sign(claims)).split('.');
        const payload = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString(
          'base64url',
        );
        return `${header}.${payload}.${signature}`;
      },
    ],
    [
      'another secret under a known kid',
      () =>
        sign(claims, {
          kid: testJwtKeys[0].kid,
          secret: 'an-attacker-secret-long-enough-for-hs256!',
        }),
    ],
    [
      'alg "none"',
      async () => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${part({ alg: 'none', typ: 'JWT', kid: testJwtKeys[0].kid })}.${part(claims)}.`;
      },
    ],
    [
      'HS512, outside the allowlist',
      () => sign(claims, { alg: 'HS512', secret: `${testJwtKeys[0].secret}${'x'.repeat(32)}` }),
    ],
    ['another audience', () => sign({ ...claims, aud: 'some-other-api' })],
    ['another issuer', () => sign({ ...claims, iss: 'https://issuer.example.org' })],
    [
      'an unknown kid, even with a known secret',
      () => sign(claims, { kid: 'retired', secret: testJwtKeys[0].secret }),
    ],
    ...(['iss', 'aud', 'sub', 'exp', 'iat', 'jti'] as const).map(
      (claim): [string, () => Promise<string>] => [
        `no ${claim} claim`,
        () => {
          const { [claim]: _dropped, ...rest } = claims;
          return sign(rest);
        },
      ],
    ),
    ['a role that does not exist', () => sign({ ...claims, role: 'superuser' })],
    ['not a JWT at all', async () => 'not-a-jwt'],
  ];

  it.each(forgeries)('refuses %s as invalid', async (_case, forge) => {
    await expectUnauthorized(
      await app.request('/t/me', { headers: bearer(await forge()) }),
      'invalid',
    );
  });

  it('refuses an Authorization header of another scheme', async () => {
    await expectUnauthorized(
      await app.request('/t/me', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } }),
      'invalid',
    );
  });

  it('lets optionalAuth pass anonymous requests but not bad credentials', async () => {
    const anonymous = await app.request('/t/maybe');
    expect(((await anonymous.json()) as { data: unknown }).data).toEqual({ userId: null });
    const signedIn = await app.request('/t/maybe', { headers: bearer(session.accessToken) });
    expect(((await signedIn.json()) as { data: unknown }).data).toEqual({ userId: member.id });
    await expectUnauthorized(
      await app.request('/t/maybe', { headers: bearer('not-a-jwt') }),
      'invalid',
    );
  });
});

describe('revocation', () => {
  it('refuses the access token at once after logout, and the session family with it', async () => {
    const session = await issueSession(deps, member);
    const principal = await principalIn(
      await app.request('/t/me', { headers: bearer(session.accessToken) }),
    );
    await revokeSession(deps, principal);
    await expectUnauthorized(
      await app.request('/t/me', { headers: bearer(session.accessToken) }),
      'revoked',
    );
    const other = await issueSession(deps, member);
    expect((await app.request('/t/me', { headers: bearer(other.accessToken) })).status).toBe(200);
  });

  it('refuses every token of a user whose sessions all ended, but not a session started after', async () => {
    const before = await issueSession(deps, unverified);
    expect((await app.request('/t/me', { headers: bearer(before.accessToken) })).status).toBe(200);
    await revokeAllSessions(deps, unverified.id);
    await expectUnauthorized(
      await app.request('/t/me', { headers: bearer(before.accessToken) }),
      'revoked',
    );
    // Most likely within the same second as the revocation: sessions are revoked by id, not time.
    const after = await issueSession(deps, unverified);
    expect((await app.request('/t/me', { headers: bearer(after.accessToken) })).status).toBe(200);
  });

  it('refuses the earlier access tokens of a user whose refresh token was reused', async () => {
    const aMinuteAgo = { now: () => new Date(Date.now() - 60_000) };
    const earlier = { ...deps, tokens: createAccessTokens(deps.config, aMinuteAgo) };
    const stolen = await issueSession(earlier, admin);
    await rotateRefreshToken(deps, stolen.refreshToken);
    expect((await app.request('/t/me', { headers: bearer(stolen.accessToken) })).status).toBe(200);
    await expect(rotateRefreshToken(deps, stolen.refreshToken)).rejects.toMatchObject({
      code: 'REFRESH_TOKEN_REUSED',
    });
    await expectUnauthorized(
      await app.request('/t/me', { headers: bearer(stolen.accessToken) }),
      'revoked',
    );
  });

  it('answers 503, never the resource, when the deny-list cannot be read', async () => {
    const { app: offline } = guardedApp({ UPSTASH_REDIS_REST_URL: await closedPortUrl() });
    const session = await issueSession(deps, member);
    const error = await errorOf(
      await offline.request('/t/me', { headers: bearer(session.accessToken) }),
      503,
    );
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(error)).not.toContain(session.accessToken);
  });
});

describe('authorization', () => {
  let memberToken: string;
  let unverifiedToken: string;
  let adminToken: string;

  beforeAll(async () => {
    const tokenOf = async (user: typeof member | typeof unverified | typeof admin) =>
      (await issueSession(deps, user)).accessToken;
    memberToken = await tokenOf(member);
    unverifiedToken = await tokenOf(unverified);
    adminToken = await tokenOf(admin);
  });

  const get = (path: string, token: string) => app.request(path, { headers: bearer(token) });

  it('refuses a role the principal does not have with 403 FORBIDDEN', async () => {
    expect(await errorOf(await get('/t/admin', memberToken), 403)).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await get('/t/admin', adminToken)).status).toBe(200);
  });

  it('refuses a permission the role lacks with 403 FORBIDDEN', async () => {
    expect(await errorOf(await get('/t/users-admin', memberToken), 403)).toMatchObject({
      code: 'FORBIDDEN',
      details: { permission: 'users:admin' },
    });
    expect((await get('/t/users-admin', adminToken)).status).toBe(200);
  });

  it('refuses an unverified email with 403 EMAIL_NOT_VERIFIED', async () => {
    expect(await errorOf(await get('/t/verified', unverifiedToken), 403)).toMatchObject({
      code: 'EMAIL_NOT_VERIFIED',
    });
    expect((await get('/t/verified', memberToken)).status).toBe(200);
  });

  it('lets through a token issued before the email was verified, once the user is', async () => {
    verifiedSinceIssued.add(unverified.id);
    try {
      expect((await get('/t/verified', unverifiedToken)).status).toBe(200);
    } finally {
      verifiedSinceIssued.delete(unverified.id);
    }
  });

  it("lets a user reach only their own resource, and an admin anyone's", async () => {
    expect((await get(`/t/users/${member.id}`, memberToken)).status).toBe(200);
    expect(await errorOf(await get(`/t/users/${admin.id}`, memberToken), 403)).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect((await get(`/t/users/${member.id}`, adminToken)).status).toBe(200);
  });

  it('checks an API key against its scopes on top of its owner role', () => {
    const keyPrincipal: Principal = {
      userId: member.id,
      role: 'user',
      emailVerified: true,
      via: 'api-key',
      apiKeyId: 'k',
      scopes: ['profile:read'],
    };
    expect(checkPermission(keyPrincipal, 'profile:read')).toBe('granted');
    expect(checkPermission(keyPrincipal, 'profile:write')).toBe('scope-lacks');
    expect(checkPermission({ ...keyPrincipal, scopes: ['users:admin'] }, 'users:admin')).toBe(
      'role-lacks',
    );
  });
});

describe('cookie mode', () => {
  let cookies: Record<string, string>;
  let setCookies: string[];
  let csrfToken: string;

  beforeAll(async () => {
    const response = await app.request('/t/cookie-login', { method: 'POST' });
    expect(response.status).toBe(200);
    csrfToken = ((await response.json()) as { data: { csrfToken: string } }).data.csrfToken;
    setCookies = response.headers.getSetCookie();
    cookies = Object.fromEntries(
      setCookies.map((line) => {
        const [pair = ''] = line.split(';');
        const at = pair.indexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
  });

  const cookieHeader = () =>
    Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');

  it('sets __Host- cookies: httpOnly tokens, a readable CSRF token', () => {
    const line = (name: string) => setCookies.find((entry) => entry.startsWith(`${name}=`)) ?? '';
    expect(line('__Host-session')).toMatch(
      /; Max-Age=900; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(line('__Host-refresh')).toMatch(
      /; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(line('__Host-csrf')).toMatch(/; Max-Age=2592000; Path=\/; Secure; SameSite=Strict$/);
    expect(cookies['__Host-csrf']).toBe(csrfToken);
    for (const entry of setCookies) expect(entry).not.toContain('Domain=');
  });

  it('authenticates a safe request by the session cookie alone', async () => {
    const response = await app.request('/t/me', { headers: { Cookie: cookieHeader() } });
    expect((await principalIn(response)).userId).toBe(member.id);
  });

  it('lets an unsafe request through with our Origin and the matching X-CSRF-Token', async () => {
    const response = await app.request('/t/me', {
      method: 'POST',
      headers: { Cookie: cookieHeader(), Origin: appOrigin, 'X-CSRF-Token': csrfToken },
    });
    expect((await principalIn(response)).userId).toBe(member.id);
    const sameOrigin = await app.request('http://localhost/t/me', {
      method: 'POST',
      headers: { Cookie: cookieHeader(), Origin: 'http://localhost', 'X-CSRF-Token': csrfToken },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it.each([
    ['no X-CSRF-Token header', { Origin: appOrigin }, 'token_missing'],
    ['a mismatched token', { Origin: appOrigin, 'X-CSRF-Token': 'x'.repeat(43) }, 'token_mismatch'],
    [
      'a foreign Origin',
      { Origin: 'https://evil.example', 'X-CSRF-Token': 'use-real' },
      'origin_not_allowed',
    ],
    ['no Origin', { 'X-CSRF-Token': 'use-real' }, 'origin_missing'],
  ])(
    'refuses an unsafe cookie request with %s: 403 CSRF_FAILED',
    async (_case, headers, reason) => {
      const withToken = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          value === 'use-real' ? csrfToken : value,
        ]),
      );
      const response = await app.request('/t/me', {
        method: 'POST',
        headers: { Cookie: cookieHeader(), ...withToken },
      });
      expect(await errorOf(response, 403)).toMatchObject({
        code: 'CSRF_FAILED',
        details: { reason },
      });
    },
  );

  it('needs no CSRF token for a bearer request', async () => {
    const response = await app.request('/t/me', {
      method: 'POST',
      headers: { ...bearer(cookies['__Host-session'] ?? ''), Origin: 'https://evil.example' },
    });
    expect(response.status).toBe(200);
  });

  it('clears the three cookies', async () => {
    const cleared = (
      await app.request('/t/cookie-logout', { method: 'POST' })
    ).headers.getSetCookie();
    expect(cleared.map((line) => line.split('=')[0]).sort()).toEqual([
      '__Host-csrf',
      '__Host-refresh',
      '__Host-session',
    ]);
    for (const line of cleared) expect(line).toMatch(/Max-Age=0/);
  });
});

describe('round trips', () => {
  interface Forwarded {
    path: string;
    commands: string[];
  }
  let proxy: Server;
  const forwarded: Forwarded[] = [];

  const bodyOf = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  beforeAll(async () => {
    // Counts the HTTP requests that reach the Upstash REST server, and the commands in each.
    proxy = createServer(async (request, response) => {
      const body = await bodyOf(request);
      const parsed = JSON.parse(body.toString() || '[]') as unknown[];
      const commands = (Array.isArray(parsed[0]) ? parsed : [parsed]) as string[][];
      forwarded.push({
        path: request.url ?? '',
        commands: commands.map((command) => String(command[0]).toLowerCase()),
      });
      const upstream = await fetch(new URL(request.url ?? '/', stack.env.UPSTASH_REDIS_REST_URL), {
        method: request.method ?? 'POST',
        headers: Object.fromEntries(
          Object.entries(request.headers).filter(
            ([name]) => name !== 'host' && name !== 'content-length',
          ),
        ) as Record<string, string>,
        body,
      });
      response.writeHead(upstream.status, Object.fromEntries(upstream.headers));
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('reads the deny-list in the same HTTP request as the rate-limit check: one round trip', async () => {
    const { port } = proxy.address() as AddressInfo;
    const { app: counted, deps: countedDeps } = guardedApp({
      UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${port}`,
    });
    const session = await issueSession(countedDeps, member);
    const get = () => counted.request('/t/me', { headers: bearer(session.accessToken) });
    // The first request loads the rate limiter's script (NOSCRIPT, then EVAL), once per Redis.
    expect((await get()).status).toBe(200);
    forwarded.length = 0;

    expect((await get()).status).toBe(200);
    expect(forwarded).toEqual([{ path: '/pipeline', commands: ['getex', 'getex', 'evalsha'] }]);
  });
});
