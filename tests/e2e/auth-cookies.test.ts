// Cookie mode on the real Worker: the session lives in __Host- cookies the page's script cannot
// read, and every unsafe request made with them must prove it comes from our own origin (Origin
// header and the double-submitted CSRF token), whereas a bearer request needs neither.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  newClientIp,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

const ownOrigin = 'https://api.e2e.test';
let worker: IdentityWorker;
let account: Account & { session: Session };

beforeAll(async () => {
  worker = await startIdentityWorker();
  account = await register(worker, 'cookies');
});

afterAll(async () => {
  await worker?.close();
});

/** Each Set-Cookie header by cookie name: its value and its lower-cased attributes. */
function cookiesOf(response: Response): Map<string, { value: string; attributes: string[] }> {
  const cookies = new Map<string, { value: string; attributes: string[] }>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const at = pair.indexOf('=');
    cookies.set(pair.slice(0, at), {
      value: pair.slice(at + 1),
      attributes: attributes.map((attribute) => attribute.toLowerCase()),
    });
  }
  return cookies;
}

async function cookieLogin() {
  const response = await call(worker, 'POST', '/v1/auth/login?mode=cookie', {
    body: { email: account.email, password: account.password },
    ip: newClientIp(),
  });
  const cookies = cookiesOf(response);
  const data = await dataOf<{ session: Record<string, unknown> }>(response, 200);
  const value = (name: string) => cookies.get(name)?.value ?? '';
  return {
    cookies,
    session: data.session,
    cookieHeader: ['__Host-session', '__Host-refresh', '__Host-csrf']
      .map((name) => `${name}=${value(name)}`)
      .join('; '),
    csrfToken: value('__Host-csrf'),
  };
}

it('sets the session in httpOnly, Secure, SameSite __Host- cookies and leaves the tokens out of the body', async () => {
  const { cookies, session } = await cookieLogin();
  expect(session).not.toHaveProperty('accessToken');
  expect(session).not.toHaveProperty('refreshToken');
  expect(session.csrfToken).toBe(cookies.get('__Host-csrf')?.value);

  expect(cookies.get('__Host-session')?.attributes).toEqual(
    expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/']),
  );
  expect(cookies.get('__Host-refresh')?.attributes).toEqual(
    expect.arrayContaining(['httponly', 'secure', 'samesite=strict', 'path=/']),
  );
  // The page's script reads this one to send it back in X-CSRF-Token.
  expect(cookies.get('__Host-csrf')?.attributes).toEqual(
    expect.arrayContaining(['secure', 'path=/']),
  );
  expect(cookies.get('__Host-csrf')?.attributes).not.toContain('httponly');
  for (const { attributes } of cookies.values()) {
    expect(attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);
  }
});

it('reads with the cookie alone, and refuses an unsafe request without the CSRF proofs', async () => {
  const { cookieHeader, csrfToken } = await cookieLogin();
  const withCookies = (method: string, headers: Record<string, string>) =>
    call(worker, method, '/v1/me', {
      headers: { cookie: cookieHeader, ...headers },
      ...(method === 'PATCH' && { body: { name: 'Cookie Renamed' } }),
    });

  expect((await dataOf(await withCookies('GET', {}), 200)).id).toBe(account.id);

  const refusals: [Record<string, string>, string][] = [
    [{ origin: ownOrigin }, 'token_missing'],
    [{ origin: ownOrigin, 'x-csrf-token': `${csrfToken}x` }, 'token_mismatch'],
    [{ origin: 'https://evil.example', 'x-csrf-token': csrfToken }, 'origin_not_allowed'],
    [{ 'x-csrf-token': csrfToken }, 'origin_missing'],
  ];
  for (const [headers, reason] of refusals) {
    const body = await expectErrorEnvelope(await withCookies('PATCH', headers), 403, 'CSRF_FAILED');
    expect(body.error.details).toEqual({ reason });
  }

  const accepted = await withCookies('PATCH', { origin: ownOrigin, 'x-csrf-token': csrfToken });
  expect((await dataOf(accepted, 200)).name).toBe('Cookie Renamed');
});

it('needs no CSRF token in bearer mode', async () => {
  const response = await call(worker, 'PATCH', '/v1/me', {
    token: account.session.accessToken,
    headers: { origin: 'https://elsewhere.example' },
    body: { name: 'Bearer Renamed' },
  });
  expect((await dataOf(response, 200)).name).toBe('Bearer Renamed');
});

it('logout clears the cookies and the session cookie is refused at once', async () => {
  const { cookieHeader, csrfToken } = await cookieLogin();
  const logout = await call(worker, 'POST', '/v1/auth/logout', {
    headers: { cookie: cookieHeader, origin: ownOrigin, 'x-csrf-token': csrfToken },
  });
  expect(logout.status).toBeLessThan(300);
  const cleared = cookiesOf(logout);
  for (const name of ['__Host-session', '__Host-refresh']) {
    expect(cleared.get(name)?.attributes, name).toContain('max-age=0');
  }
  await logout.arrayBuffer();

  await expectErrorEnvelope(
    await call(worker, 'GET', '/v1/me', { headers: { cookie: cookieHeader } }),
    401,
    'UNAUTHORIZED',
  );
});
