// What sign-up and sign-in cost in Redis requests, counted by a proxy in front of the local
// Upstash REST server: the sign-up throttle leaves with the general limit. The account and its
// first session are one database batch: a registration's session works at once, and a refused
// one leaves nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthStack,
  authApp,
  dataOf,
  errorOf,
  newAccount,
  newIp,
  registerAccount,
  type SessionTokens,
  startAuthStack,
} from '../support/auth-flows.ts';
import { countingRedisProxy } from '../support/counting-redis-proxy.ts';

let auth: AuthStack;
let proxy: Awaited<ReturnType<typeof countingRedisProxy>>;

beforeAll(async () => {
  auth = await startAuthStack();
  proxy = await countingRedisProxy(auth.stack.env.UPSTASH_REDIS_REST_URL);
});

afterAll(async () => {
  await proxy?.close();
  await auth?.close();
});

function proxiedApp(overrides: Record<string, string> = {}) {
  return authApp(auth, { UPSTASH_REDIS_REST_URL: proxy.url, ...overrides });
}

/** The requests that reach Redis from here on. */
function countFromNow() {
  proxy.requests.length = 0;
  return proxy.requests;
}

describe('POST /v1/auth/register', () => {
  it('checks the general and the sign-up limits in one Redis request', async () => {
    const api = proxiedApp();
    // The warm-up lets Redis learn the limiter's script, as traffic would.
    await registerAccount(api, 'warm-up');
    await api.settled();
    const requests = countFromNow();
    const res = await api.call('POST', '/v1/auth/register', { body: newAccount('trips') });

    expect(res.status).toBe(201);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.commands).toEqual(['EVALSHA', 'EVALSHA']);
    await api.settled();
  });

  it('answers a session that works at once: its refresh token is stored with the account', async () => {
    const api = proxiedApp();
    const { session } = await registerAccount(api, 'session');

    const { session: refreshed } = await dataOf<{ session: SessionTokens }>(
      await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } }),
      200,
    );
    expect(refreshed.refreshToken).not.toBe(session.refreshToken);
    await api.settled();
  });

  it('stores no session for an email that is taken', async () => {
    const api = proxiedApp();
    const first = await registerAccount(api, 'taken');
    const sessionsBefore = await auth.db.execute({
      sql: 'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?',
      args: [first.id],
    });

    await errorOf(
      await api.call('POST', '/v1/auth/register', {
        body: { ...newAccount('taken'), email: first.email },
      }),
      409,
      'CONFLICT',
    );
    const sessionsAfter = await auth.db.execute({
      sql: 'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?',
      args: [first.id],
    });
    expect(sessionsAfter.rows[0]?.n).toBe(sessionsBefore.rows[0]?.n);
    await api.settled();
  });

  it('counts only POSTs against the sign-up limit', async () => {
    const api = proxiedApp({ RATE_LIMIT_SIGNUP: '1/1h' });
    const ip = newIp();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expect((await api.call(method, '/v1/auth/register', { ip })).status).toBe(405);
    }
    expect(
      (await api.call('POST', '/v1/auth/register', { body: newAccount('post'), ip })).status,
    ).toBe(201);
    await errorOf(
      await api.call('POST', '/v1/auth/register', { body: newAccount('post'), ip }),
      429,
      'RATE_LIMITED',
    );
    await api.settled();
  });
});

describe('POST /v1/auth/login', () => {
  // That the guess travels beside the account read and the refund beside the session insert is
  // what `npm run bench round-trips` shows (3 round trips in sequence); here, what reaches Redis.
  it('sends Redis the general limit, the guess taken and the guess given back, no more', async () => {
    const api = proxiedApp();
    const account = await registerAccount(api, 'login-trips');
    await api.settled();

    const requests = countFromNow();
    const res = await api.call('POST', '/v1/auth/login', {
      body: { email: account.email, password: account.password },
    });

    expect(res.status).toBe(200);
    // The general limit, the guess taken, the guess given back: one script run each.
    expect(requests.map((request) => request.commands)).toEqual([
      ['EVALSHA'],
      ['EVALSHA'],
      ['EVALSHA'],
    ]);
  });
});
