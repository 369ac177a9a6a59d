// Accounts on the real Worker: registering (and its refusals and throttle), the verification
// email as a signed QStash delivery, and deleting one's own account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newAccount,
  newClientIp,
  register,
  startIdentityWorker,
  tokenFromEmail,
} from './harness/identity.ts';

const signupsPerAddress = 2;
let worker: IdentityWorker;

beforeAll(async () => {
  worker = await startIdentityWorker({ RATE_LIMIT_SIGNUP: `${signupsPerAddress}/1h` });
});

afterAll(async () => {
  await worker?.close();
});

const signUp = (body: Record<string, unknown>, ip = newClientIp()) =>
  call(worker, 'POST', '/v1/auth/register', { body, ip });

describe('registering', () => {
  it('answers 201 with the own profile, never a password hash', async () => {
    const account = newAccount('register');
    const response = await signUp(account);
    const text = await response.clone().text();
    const data = await dataOf<{ user: Record<string, unknown> }>(response, 201);
    expect(data.user).toMatchObject({
      email: account.email,
      name: account.name,
      role: 'user',
      emailVerified: false,
    });
    expect(text).not.toMatch(/pbkdf2|passwordHash|password_hash/i);
    expect(text).not.toContain(account.password);
  });

  it('refuses an email already registered, whatever its case, with 409', async () => {
    const account = newAccount('twice');
    await dataOf(await signUp(account), 201);
    await expectErrorEnvelope(
      await signUp({ ...account, email: account.email.toUpperCase() }),
      409,
      'CONFLICT',
    );
  });

  it('refuses a weak password with 422 naming the rules it breaks', async () => {
    const body = await expectErrorEnvelope(
      await signUp({ ...newAccount('weak'), password: 'password1' }),
      422,
      'PASSWORD_POLICY',
    );
    expect(body.error.details).toEqual({ issues: expect.arrayContaining([expect.anything()]) });
  });

  it('throttles sign-ups per address', async () => {
    const ip = newClientIp();
    for (let n = 1; n <= signupsPerAddress; n += 1) {
      await dataOf(await signUp(newAccount('throttled'), ip), 201);
    }
    const refused = await signUp(newAccount('throttled'), ip);
    const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ policy: 'signup' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('email verification', () => {
  it('is sent as a signed QStash delivery; its link verifies the email once', async () => {
    const user = await register(worker, 'verify');
    const token = await tokenFromEmail(worker.jobs, 'email.verification', user.email);
    const delivery = await worker.jobs.waitFor(
      (job) =>
        job.path === '/jobs/email.verification' &&
        (job.body as { payload?: { to?: unknown } }).payload?.to === user.email,
    );
    expect(delivery.body).toMatchObject({
      type: 'email.verification',
      ownerId: user.id,
      payload: { to: user.email, name: user.name },
    });
    expect(delivery.headers['upstash-signature']).toEqual(expect.any(String));

    const confirm = () =>
      call(worker, 'POST', '/v1/auth/verify-email/confirm', { body: { token } });
    expect((await confirm()).status).toBeLessThan(300);
    await expectErrorEnvelope(await confirm(), 400, 'TOKEN_INVALID');

    const { rows } = await worker.db.execute({
      sql: 'SELECT email_verified_at FROM users WHERE id = ?',
      args: [user.id],
    });
    expect(rows[0]?.email_verified_at).not.toBeNull();
  });
});

describe('deleting one’s own account', () => {
  it('needs the password, then ends every session and every login', async () => {
    const user = await register(worker, 'leaving');
    const remove = (password: string) =>
      call(worker, 'DELETE', '/v1/auth/account', {
        token: user.session.accessToken,
        body: { password },
      });

    const earlierSession = user.session.accessToken;
    await expectErrorEnvelope(await remove(`${user.password}-not`), 401, 'INVALID_CREDENTIALS');
    const removed = await remove(user.password);
    expect(removed.status).toBe(204);

    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { token: earlierSession }),
      401,
      'UNAUTHORIZED',
    );
    await expectErrorEnvelope(
      await call(worker, 'POST', '/v1/auth/refresh', {
        body: { refreshToken: user.session.refreshToken },
      }),
      401,
      'UNAUTHORIZED',
    );
    await expectErrorEnvelope(
      await call(worker, 'POST', '/v1/auth/login', {
        body: { email: user.email, password: user.password },
        ip: newClientIp(),
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    await expectErrorEnvelope(await call(worker, 'GET', `/v1/users/${user.id}`), 404, 'NOT_FOUND');
  });
});
