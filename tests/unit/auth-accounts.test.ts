// Registering, signing in and out, refreshing, as a client sees them: the app from createApp on a
// local stack, its verification emails delivered through the stack's QStash broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_ITERATIONS } from '../../src/modules/auth/passwords.ts';
import {
  type AuthStack,
  authApp,
  dataOf,
  emailsTo,
  errorOf,
  loginAccount,
  newAccount,
  newIp,
  registerAccount,
  type SessionTokens,
  startAuthStack,
} from '../support/auth-flows.ts';

let auth: AuthStack;

beforeAll(async () => {
  auth = await startAuthStack();
});

afterAll(async () => {
  await auth?.close();
});

describe('POST /v1/auth/register', () => {
  it('creates the account, answers the user and a session, and queues the verification email', async () => {
    const api = authApp(auth);
    const account = newAccount('register');
    const response = await api.call('POST', '/v1/auth/register', {
      body: { ...account, email: account.email.toUpperCase() },
    });

    const raw = await response.clone().text();
    const data = await dataOf<{ user: Record<string, unknown>; session: SessionTokens }>(
      response,
      201,
    );
    expect(data.user).toEqual({
      id: expect.any(String),
      email: account.email,
      name: account.name,
      avatar: null,
      role: 'user',
      emailVerified: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(data.session).toEqual({
      accessToken: expect.any(String),
      accessTokenExpiresAt: expect.any(String),
      refreshToken: expect.any(String),
      refreshTokenExpiresAt: expect.any(String),
    });
    expect(raw).not.toContain('pbkdf2');
    expect(raw).not.toContain(account.password);
    await dataOf(await api.call('GET', '/test/whoami', { token: data.session.accessToken }), 200);

    const [email] = await emailsTo(auth.jobs, 'email.verification', account.email);
    expect(email).toEqual({
      id: expect.stringMatching(/^email\.verification-/),
      type: 'email.verification',
      ownerId: data.user.id,
      createdAt: expect.any(String),
      payload: {
        to: account.email,
        name: account.name,
        link: expect.stringMatching(/^https:\/\/app\.example\.com\/verify-email\?token=[\w-]{43}$/),
      },
      // The registration's trace, which the email's delivery continues.
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    });

    const { rows } = await auth.db.execute({
      sql: 'SELECT u.password_hash, h.password_hash AS history FROM users u JOIN password_history h ON h.user_id = u.id WHERE u.id = ?',
      args: [data.user.id as string],
    });
    expect(rows).toHaveLength(1);
    expect(String(rows[0]?.password_hash)).toMatch(
      new RegExp(`^pbkdf2-sha256\\$${PASSWORD_ITERATIONS}\\$`),
    );
    expect(rows[0]?.history).toBe(rows[0]?.password_hash);
  });

  it('refuses an email that already has an account, whatever its case, with 409', async () => {
    const api = authApp(auth);
    const first = await registerAccount(api, 'duplicate');
    const again = await api.call('POST', '/v1/auth/register', {
      body: { ...newAccount('duplicate'), email: first.email.toUpperCase() },
    });
    await errorOf(again, 409, 'CONFLICT');
  });

  it('refuses a weak password with 422 PASSWORD_POLICY naming each rule broken', async () => {
    const api = authApp(auth);
    const account = newAccount('weak');
    const body = await errorOf(
      await api.call('POST', '/v1/auth/register', { body: { ...account, password: 'password' } }),
      422,
      'PASSWORD_POLICY',
    );
    const rules = (body.error.details as { issues: { rule: string }[] }).issues.map((i) => i.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['uppercase', 'digit', 'special', 'common_password']),
    );

    const personal = await errorOf(
      await api.call('POST', '/v1/auth/register', {
        body: {
          email: 'marie.curie@example.com',
          name: 'Marie Curie',
          password: 'Curie#Radium1898x',
        },
      }),
      422,
      'PASSWORD_POLICY',
    );
    expect(JSON.stringify(personal.error.details)).toContain('personal_info');
  });

  it('refuses an unknown field such as role with 422, and creates no account', async () => {
    const api = authApp(auth);
    const account = newAccount('mass-assignment');
    const body = await errorOf(
      await api.call('POST', '/v1/auth/register', { body: { ...account, role: 'admin' } }),
      422,
      'VALIDATION_FAILED',
    );
    expect(JSON.stringify(body.error.details)).toContain('role');
    await errorOf(
      await api.call('POST', '/v1/auth/login', {
        body: { email: account.email, password: account.password },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('is throttled per address (policy signup)', async () => {
    const api = authApp(auth, { RATE_LIMIT_SIGNUP: '2/1h' });
    const ip = newIp();
    for (let n = 0; n < 2; n += 1) {
      const response = await api.call('POST', '/v1/auth/register', {
        body: newAccount('signup'),
        ip,
      });
      expect(response.status).toBe(201);
      await response.arrayBuffer();
    }
    const refused = await api.call('POST', '/v1/auth/register', { body: newAccount('signup'), ip });
    const body = await errorOf(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(body.error.details).toMatchObject({ policy: 'signup' });
    // Another address is not affected.
    const other = await api.call('POST', '/v1/auth/register', { body: newAccount('signup') });
    expect(other.status).toBe(201);
  });
});

describe('POST /v1/auth/login', () => {
  it('signs in an unverified user with the user and a session', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'login');
    const response = await api.call('POST', '/v1/auth/login', {
      body: { email: account.email.toUpperCase(), password: account.password },
    });
    const data = await dataOf<{
      user: { id: string; emailVerified: boolean };
      session: SessionTokens;
    }>(response, 200);
    expect(data.user).toMatchObject({ id: account.id, emailVerified: false });
    await dataOf(await api.call('GET', '/test/whoami', { token: data.session.accessToken }), 200);
  });

  it('answers an unknown email, a wrong password and a deleted account with the same 401', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'wrong');
    const deleted = await registerAccount(api, 'deleted');
    await auth.db.execute({
      sql: 'UPDATE users SET deleted_at = ? WHERE id = ?',
      args: [Date.now(), deleted.id],
    });

    const attempts = [
      { email: 'nobody-at-all@example.com', password: account.password },
      { email: account.email, password: `${account.password}x` },
      { email: deleted.email, password: deleted.password },
    ];
    const messages = new Set<string>();
    for (const body of attempts) {
      const refused = await errorOf(
        await api.call('POST', '/v1/auth/login', { body }),
        401,
        'INVALID_CREDENTIALS',
      );
      messages.add(refused.error.message);
    }
    expect(messages.size).toBe(1);
  });

  it('refuses the 6th failed attempt with 429 and Retry-After; successes are not counted', async () => {
    const api = authApp(auth, { RATE_LIMIT_AUTH: '5/15m' });
    const account = await registerAccount(api, 'throttle');
    const ip = newIp();
    const attempt = (password: string) =>
      api.call('POST', '/v1/auth/login', { body: { email: account.email, password }, ip });

    for (let n = 0; n < 4; n += 1) {
      await errorOf(await attempt('Wrong#Guess1x'), 401, 'INVALID_CREDENTIALS');
    }
    for (let n = 0; n < 3; n += 1) await dataOf(await attempt(account.password), 200);
    await errorOf(await attempt('Wrong#Guess1x'), 401, 'INVALID_CREDENTIALS');

    const refused = await attempt('Wrong#Guess1x');
    const body = await errorOf(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(body.error.details).toMatchObject({ policy: 'auth', retryAfterSeconds: retryAfter });
    // Even the right password waits: the guesser cannot tell it found it.
    await errorOf(await attempt(account.password), 429, 'RATE_LIMITED');
    // The owner, from another address, still signs in.
    await loginAccount(api, account);
  });

  it('re-hashes a password stored with older parameters', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'rehash');
    const salt = new Uint8Array(16).fill(3);
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(account.password),
      'PBKDF2',
      false,
      ['deriveBits'],
    );
    const bits = await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 1000 },
      key,
      256,
    );
    const legacy = `pbkdf2-sha256$1000$${Buffer.from(salt).toString('base64')}$${Buffer.from(bits).toString('base64')}`;
    await auth.db.execute({
      sql: 'UPDATE users SET password_hash = ? WHERE id = ?',
      args: [legacy, account.id],
    });

    await loginAccount(api, account);

    const { rows } = await auth.db.execute({
      sql: 'SELECT password_hash FROM users WHERE id = ?',
      args: [account.id],
    });
    expect(String(rows[0]?.password_hash)).toMatch(
      new RegExp(`^pbkdf2-sha256\\$${PASSWORD_ITERATIONS}\\$`),
    );
    await loginAccount(api, account);
  });

  it('refuses a body without a password with 422', async () => {
    const api = authApp(auth);
    await errorOf(
      await api.call('POST', '/v1/auth/login', { body: { email: 'someone@example.com' } }),
      422,
      'VALIDATION_FAILED',
    );
  });

  it('in cookie mode sets httpOnly, Secure, SameSite cookies and keeps the tokens out of the body', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'cookie');
    const response = await api.call('POST', '/v1/auth/login?mode=cookie', {
      body: { email: account.email, password: account.password },
    });
    const cookies = response.headers.getSetCookie();
    const data = await dataOf<{ session: Record<string, unknown> }>(response, 200);
    expect(data.session).toEqual({
      accessTokenExpiresAt: expect.any(String),
      refreshTokenExpiresAt: expect.any(String),
      csrfToken: expect.any(String),
    });
    const session = cookies.find((cookie) => cookie.startsWith('__Host-session='));
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/Secure/i);
    expect(session).toMatch(/SameSite=/i);
    expect(cookies.find((cookie) => cookie.startsWith('__Host-refresh='))).toMatch(/HttpOnly/i);
  });
});

describe('POST /v1/auth/refresh and /v1/auth/logout', () => {
  it('rotates the refresh token; the old one, used again, revokes the family', async () => {
    const api = authApp(auth);
    const { session } = await registerAccount(api, 'refresh');
    const refresh = (refreshToken: string) =>
      api.call('POST', '/v1/auth/refresh', { body: { refreshToken } });

    const { session: rotated } = await dataOf<{ session: SessionTokens }>(
      await refresh(session.refreshToken),
      200,
    );
    expect(rotated.refreshToken).not.toBe(session.refreshToken);
    await dataOf(await api.call('GET', '/test/whoami', { token: rotated.accessToken }), 200);

    await errorOf(await refresh(session.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    await errorOf(await refresh(rotated.refreshToken), 401, 'UNAUTHORIZED');
  });

  it('in cookie mode refreshes from the refresh cookie, only with the CSRF token', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'cookie-refresh');
    const login = await api.call('POST', '/v1/auth/login?mode=cookie', {
      body: { email: account.email, password: account.password },
    });
    const cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const { session } = await dataOf<{ session: { csrfToken: string } }>(login, 200);
    const refresh = (headers: Record<string, string>) =>
      api.call('POST', '/v1/auth/refresh', {
        headers: { cookie, origin: 'http://localhost', ...headers },
      });

    const forged = await refresh({});
    await errorOf(forged, 403, 'CSRF_FAILED');
    const refreshed = await refresh({ 'x-csrf-token': session.csrfToken });
    const renewed = refreshed.headers.getSetCookie();
    const { session: data } = await dataOf<{ session: Record<string, unknown> }>(refreshed, 200);
    expect(data).not.toHaveProperty('refreshToken');
    expect(data).toHaveProperty('csrfToken');
    expect(renewed.some((line) => line.startsWith('__Host-refresh='))).toBe(true);
  });

  it('refuses a refresh without any token', async () => {
    const api = authApp(auth);
    await errorOf(await api.call('POST', '/v1/auth/refresh', { body: {} }), 401, 'UNAUTHORIZED');
  });

  it('logout refuses the same access token at once, and its refresh token', async () => {
    const api = authApp(auth);
    const { session } = await registerAccount(api, 'logout');
    const response = await api.call('POST', '/v1/auth/logout', {
      token: session.accessToken,
      body: { refreshToken: session.refreshToken },
    });
    expect(response.status).toBe(204);

    await errorOf(
      await api.call('GET', '/test/whoami', { token: session.accessToken }),
      401,
      'UNAUTHORIZED',
    );
    await errorOf(
      await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('logout needs a session', async () => {
    const api = authApp(auth);
    await errorOf(await api.call('POST', '/v1/auth/logout'), 401, 'UNAUTHORIZED');
  });
});
