// Password reset and change on the real Worker. The reset email goes out as a queued job through
// the stack's QStash broker, and the test reads its link as the user would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  login,
  newClientIp,
  register,
  startIdentityWorker,
  tokenFromEmail,
} from './harness/identity.ts';

let worker: IdentityWorker;

beforeAll(async () => {
  worker = await startIdentityWorker();
});

afterAll(async () => {
  await worker?.close();
});

const loginAttempt = (email: string, password: string) =>
  call(worker, 'POST', '/v1/auth/login', { body: { email, password }, ip: newClientIp() });

describe('a password reset token', () => {
  const forgot = async (email: string) => {
    const response = await call(worker, 'POST', '/v1/auth/password/forgot', {
      body: { email },
      ip: newClientIp(),
    });
    expect(response.status).toBe(202);
    await response.arrayBuffer();
  };
  const reset = (token: string, password: string) =>
    call(worker, 'POST', '/v1/auth/password/reset', {
      body: { token, password },
      ip: newClientIp(),
    });

  it('sets a new password once, and is refused the second time', async () => {
    const user = await register(worker, 'reset');
    await forgot(user.email);
    const token = await tokenFromEmail(worker.jobs, 'email.password-reset', user.email);
    const earlierSession = user.session.accessToken;
    await dataOf(await call(worker, 'GET', '/v1/me', { token: earlierSession }), 200);

    const newPassword = 'Harbor!Violet42Compass';
    expect((await reset(token, newPassword)).status).toBeLessThan(300);
    // Every session of before the reset ends.
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { token: earlierSession }),
      401,
      'UNAUTHORIZED',
    );
    await dataOf(await loginAttempt(user.email, newPassword), 200);
    await expectErrorEnvelope(
      await loginAttempt(user.email, user.password),
      401,
      'INVALID_CREDENTIALS',
    );

    await expectErrorEnvelope(await reset(token, 'Another!Violet43Compass'), 400, 'TOKEN_INVALID');
    await dataOf(await loginAttempt(user.email, newPassword), 200);
  });

  it('is refused once expired', async () => {
    const user = await register(worker, 'reset-expired');
    await forgot(user.email);
    const token = await tokenFromEmail(worker.jobs, 'email.password-reset', user.email);
    await worker.db.execute({
      sql: "UPDATE one_time_tokens SET expires_at = ? WHERE user_id = ? AND purpose = 'password_reset'",
      args: [Date.now() - 60_000, user.id],
    });

    await expectErrorEnvelope(await reset(token, 'Harbor!Violet42Compass'), 400, 'TOKEN_INVALID');
    await dataOf(await loginAttempt(user.email, user.password), 200);
  });

  it('answers 202 for an unknown email too, and sends nothing', async () => {
    const nobody = 'nobody-at-all@e2e.test';
    await forgot(nobody);
    // A known address asked after it gets its email; by then the unknown one would have had its.
    const user = await register(worker, 'reset-after-unknown');
    await forgot(user.email);
    await tokenFromEmail(worker.jobs, 'email.password-reset', user.email);
    expect(
      worker.jobs.jobs.filter(
        (job) => (job.body as { payload?: { to?: unknown } }).payload?.to === nobody,
      ),
    ).toEqual([]);
  });
});

describe('changing a password', () => {
  it('refuses any of the last 5 passwords, and accepts a new one', async () => {
    const user = await register(worker, 'history');
    const passwords = [user.password];
    const change = async (currentPassword: string, newPassword: string) => {
      const { accessToken } = await login(worker, {
        email: user.email,
        password: currentPassword,
        ip: newClientIp(),
      });
      return call(worker, 'POST', '/v1/auth/password/change', {
        token: accessToken,
        body: { currentPassword, newPassword },
      });
    };

    for (let n = 1; n <= 4; n += 1) {
      const next = `Orchid#Falcon${n}Granite`;
      const response = await change(passwords.at(-1) as string, next);
      expect(response.status, await response.clone().text()).toBeLessThan(300);
      await response.arrayBuffer();
      passwords.push(next);
    }

    const current = passwords.at(-1) as string;
    for (const recent of passwords) {
      const body = await expectErrorEnvelope(await change(current, recent), 422, 'PASSWORD_POLICY');
      expect(body.error.details, `reusing ${recent}`).toEqual({
        issues: [expect.objectContaining({ rule: 'recently_used' })],
      });
    }
    const fresh = await change(current, 'Orchid#Falcon5Granite');
    expect(fresh.status).toBeLessThan(300);
    await fresh.arrayBuffer();
    await dataOf(await loginAttempt(user.email, 'Orchid#Falcon5Granite'), 200);
  });

  it('refuses a wrong current password', async () => {
    const user = await register(worker, 'change-wrong');
    const response = await call(worker, 'POST', '/v1/auth/password/change', {
      token: user.session.accessToken,
      body: { currentPassword: 'Not#The1Password', newPassword: 'Orchid#Falcon9Granite' },
    });
    await expectErrorEnvelope(response, 401, 'INVALID_CREDENTIALS');
    await dataOf(await loginAttempt(user.email, user.password), 200);
  });
});
