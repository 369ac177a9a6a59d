// Email verification, password reset and change, and deleting one's own account, as a client sees
// them: the tokens arrive in emails delivered through the local stack's QStash broker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthApp,
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
  tokenOf,
} from '../support/auth-flows.ts';

let auth: AuthStack;

beforeAll(async () => {
  auth = await startAuthStack();
});

afterAll(async () => {
  await auth?.close();
});

const whoami = (api: AuthApp, token: string) => api.call('GET', '/test/whoami', { token });

describe('email verification', () => {
  const confirm = (api: AuthApp, token: string) =>
    api.call('POST', '/v1/auth/verify-email/confirm', { body: { token } });

  it('verifies the email with the emailed token, once', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'verify');
    const [email] = await emailsTo(auth.jobs, 'email.verification', account.email);
    const token = tokenOf(email);

    const user = await dataOf<{ id: string; emailVerified: boolean }>(
      await confirm(api, token),
      200,
    );
    expect(user).toMatchObject({ id: account.id, emailVerified: true });
    await errorOf(await confirm(api, token), 400, 'TOKEN_INVALID');

    const { rows } = await auth.db.execute({
      sql: 'SELECT token_hash FROM one_time_tokens WHERE user_id = ?',
      args: [account.id],
    });
    expect(rows.map((row) => row.token_hash)).not.toContain(token);
    expect(String(rows[0]?.token_hash)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('unlocks what needs a verified email: 403 EMAIL_NOT_VERIFIED before, allowed after', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'gate');
    const createKey = (token: string) =>
      api.call('POST', '/v1/api-keys', {
        token,
        body: { name: 'ci', scopes: ['profile:read'] },
      });
    await errorOf(await createKey(account.session.accessToken), 403, 'EMAIL_NOT_VERIFIED');

    const [email] = await emailsTo(auth.jobs, 'email.verification', account.email);
    await dataOf(await confirm(api, tokenOf(email)), 200);
    const session = await loginAccount(api, account);
    await dataOf(await createKey(session.accessToken), 201);
  });

  it('sends a new link on request; the earlier one stops working; once verified, 409', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'resend');
    const [first] = await emailsTo(auth.jobs, 'email.verification', account.email);

    const requested = await api.call('POST', '/v1/auth/verify-email/request', {
      token: account.session.accessToken,
    });
    expect(requested.status).toBe(202);
    const second = (await emailsTo(auth.jobs, 'email.verification', account.email, 2))[1];

    await errorOf(await confirm(api, tokenOf(first)), 400, 'TOKEN_INVALID');
    await dataOf(await confirm(api, tokenOf(second)), 200);
    await errorOf(
      await api.call('POST', '/v1/auth/verify-email/request', {
        token: account.session.accessToken,
      }),
      409,
      'CONFLICT',
    );
  });

  it('refuses an expired token, and asking for a link needs a session', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'verify-expired');
    const [email] = await emailsTo(auth.jobs, 'email.verification', account.email);
    await auth.db.execute({
      sql: 'UPDATE one_time_tokens SET expires_at = ? WHERE user_id = ?',
      args: [Date.now() - 1000, account.id],
    });
    await errorOf(await confirm(api, tokenOf(email)), 400, 'TOKEN_INVALID');
    await errorOf(await api.call('POST', '/v1/auth/verify-email/request'), 401, 'UNAUTHORIZED');
  });
});

describe('password reset', () => {
  const forgot = (api: AuthApp, email: string, ip?: string) =>
    api.call('POST', '/v1/auth/password/forgot', { body: { email }, ...(ip && { ip }) });
  const reset = (api: AuthApp, token: string, password: string) =>
    api.call('POST', '/v1/auth/password/reset', { body: { token, password } });

  async function resetToken(api: AuthApp, email: string, count = 1): Promise<string> {
    expect((await forgot(api, email)).status).toBe(202);
    const emails = await emailsTo(auth.jobs, 'email.password-reset', email, count);
    return tokenOf(emails[count - 1]);
  }

  it('answers a known and an unknown email alike, with 202', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'forgot');
    const known = await forgot(api, account.email);
    const unknown = await forgot(api, 'nobody-here@example.com');
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect((await dataOf(known, 202)).message).toBe((await dataOf(unknown, 202)).message);
    await api.settled();
    const [email] = await emailsTo(auth.jobs, 'email.password-reset', account.email);
    expect(email?.payload.link).toMatch(/^https:\/\/app\.example\.com\/reset-password\?token=/);
  });

  it('is throttled per address (policy passwordReset)', async () => {
    const api = authApp(auth, { RATE_LIMIT_PASSWORD_RESET: '2/1h' });
    const ip = newIp();
    for (let n = 0; n < 2; n += 1) {
      expect((await forgot(api, 'someone@example.com', ip)).status).toBe(202);
    }
    const body = await errorOf(await forgot(api, 'someone@example.com', ip), 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ policy: 'passwordReset' });
  });

  it('sets the new password once, and ends every session', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'reset');
    const token = await resetToken(api, account.email);

    expect((await reset(api, token, 'Harbor!Violet42Compass')).status).toBe(204);
    await loginAccount(api, { email: account.email, password: 'Harbor!Violet42Compass' });
    await errorOf(
      await api.call('POST', '/v1/auth/login', {
        body: { email: account.email, password: account.password },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    await errorOf(await whoami(api, account.session.accessToken), 401, 'UNAUTHORIZED');
    await errorOf(
      await api.call('POST', '/v1/auth/refresh', {
        body: { refreshToken: account.session.refreshToken },
      }),
      401,
      'UNAUTHORIZED',
    );

    await errorOf(await reset(api, token, 'Another!Violet43Compass'), 400, 'TOKEN_INVALID');
  });

  it('refuses a weak or recent password without spending the token', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'reset-policy');
    const token = await resetToken(api, account.email);

    await errorOf(await reset(api, token, 'weak'), 422, 'PASSWORD_POLICY');
    const recent = await errorOf(await reset(api, token, account.password), 422, 'PASSWORD_POLICY');
    expect(recent.error.details).toEqual({
      issues: [{ rule: 'recently_used', message: expect.any(String) }],
    });
    expect((await reset(api, token, 'Harbor!Violet42Compass')).status).toBe(204);
  });

  it('refuses an expired token', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'reset-expired');
    const token = await resetToken(api, account.email);
    await auth.db.execute({
      sql: "UPDATE one_time_tokens SET expires_at = ? WHERE user_id = ? AND purpose = 'password_reset'",
      args: [Date.now() - 1000, account.id],
    });
    await errorOf(await reset(api, token, 'Harbor!Violet42Compass'), 400, 'TOKEN_INVALID');
    await loginAccount(api, account);
  });
});

describe('POST /v1/auth/password/change', () => {
  const change = (api: AuthApp, token: string, currentPassword: string, newPassword: string) =>
    api.call('POST', '/v1/auth/password/change', {
      token,
      body: { currentPassword, newPassword },
    });

  it('changes the password, ends the other sessions and answers a new one', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'change');
    const other = await loginAccount(api, account);

    const data = await dataOf<{ session: SessionTokens }>(
      await change(api, account.session.accessToken, account.password, 'Orchid#Falcon1Granite'),
      200,
    );
    await dataOf(await whoami(api, data.session.accessToken), 200);
    await errorOf(await whoami(api, other.accessToken), 401, 'UNAUTHORIZED');
    await errorOf(
      await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: other.refreshToken } }),
      401,
      'UNAUTHORIZED',
    );
    await loginAccount(api, { email: account.email, password: 'Orchid#Falcon1Granite' });
  });

  it('refuses a wrong current password with 401 INVALID_CREDENTIALS', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'change-wrong');
    await errorOf(
      await change(api, account.session.accessToken, 'Not#The1Password', 'Orchid#Falcon9Granite'),
      401,
      'INVALID_CREDENTIALS',
    );
    await loginAccount(api, account);
  });

  it('refuses any of the last 5 passwords; the 6th back is allowed again', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'history');
    const passwords = [account.password];
    let token = account.session.accessToken;
    for (let n = 1; n <= 5; n += 1) {
      const next = `Orchid#Falcon${n}Granite`;
      const data = await dataOf<{ session: SessionTokens }>(
        await change(api, token, passwords.at(-1) ?? '', next),
        200,
      );
      token = data.session.accessToken;
      passwords.push(next);
    }
    const [original, current] = [passwords[0] ?? '', passwords.at(-1) ?? ''];
    for (const recent of passwords.slice(-5)) {
      const refused = await errorOf(
        await change(api, token, current, recent),
        422,
        'PASSWORD_POLICY',
      );
      expect(JSON.stringify(refused.error.details)).toContain('recently_used');
    }
    await dataOf(await change(api, token, current, original), 200);

    const { rows } = await auth.db.execute({
      sql: 'SELECT count(*) AS n FROM password_history WHERE user_id = ?',
      args: [account.id],
    });
    expect(Number(rows[0]?.n)).toBe(5);
  });

  it('needs a session', async () => {
    const api = authApp(auth);
    await errorOf(
      await api.call('POST', '/v1/auth/password/change', {
        body: { currentPassword: 'a', newPassword: 'b' },
      }),
      401,
      'UNAUTHORIZED',
    );
  });
});

describe('DELETE /v1/auth/account', () => {
  const remove = (api: AuthApp, token: string, password: string) =>
    api.call('DELETE', '/v1/auth/account', { token, body: { password } });

  it('refuses a wrong password, and keeps the account', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'delete-wrong');
    await errorOf(
      await remove(api, account.session.accessToken, 'Not#The1Password'),
      401,
      'INVALID_CREDENTIALS',
    );
    await dataOf(await whoami(api, account.session.accessToken), 200);
  });

  it('soft-deletes the account: its sessions end and it can no longer sign in', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'delete');
    expect((await remove(api, account.session.accessToken, account.password)).status).toBe(204);

    await errorOf(await whoami(api, account.session.accessToken), 401, 'UNAUTHORIZED');
    await errorOf(
      await api.call('POST', '/v1/auth/login', {
        body: { email: account.email, password: account.password },
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    const { rows } = await auth.db.execute({
      sql: 'SELECT deleted_at FROM users WHERE id = ?',
      args: [account.id],
    });
    expect(rows[0]?.deleted_at).not.toBeNull();
    // The email stays taken: a restore must find it free.
    await errorOf(
      await api.call('POST', '/v1/auth/register', {
        body: { ...newAccount('delete'), email: account.email },
      }),
      409,
      'CONFLICT',
    );
  });

  it('refuses the last active admin with 409 last_admin; another admin remaining, audits it', async () => {
    const api = authApp(auth);
    const [first, second] = [
      await registerAccount(api, 'sole-admin'),
      await registerAccount(api, 'second-admin'),
    ];
    const promote = (id: string) =>
      auth.db.execute({ sql: "UPDATE users SET role = 'admin' WHERE id = ?", args: [id] });
    const auditRows = async (id: string) =>
      (
        await auth.db.execute({
          sql: 'SELECT actor_id, action FROM audit_logs WHERE target_id = ?',
          args: [id],
        })
      ).rows.map((row) => ({ actor: row.actor_id, action: row.action }));

    // The first admin this stack has: the only active one.
    await promote(first.id);
    const refused = await errorOf(
      await remove(api, first.session.accessToken, first.password),
      409,
      'CONFLICT',
    );
    expect(refused.error.details).toEqual({ reason: 'last_admin' });
    await dataOf(await whoami(api, first.session.accessToken), 200);
    expect(await auditRows(first.id)).toEqual([]);

    await promote(second.id);
    expect((await remove(api, first.session.accessToken, first.password)).status).toBe(204);
    expect(await auditRows(first.id)).toEqual([{ actor: first.id, action: 'user.deleted' }]);
  });

  it('drops the cached API key record and public profile at once', async () => {
    const api = authApp(auth);
    const account = await registerAccount(api, 'delete-cached');
    const [email] = await emailsTo(auth.jobs, 'email.verification', account.email);
    await dataOf(
      await api.call('POST', '/v1/auth/verify-email/confirm', { body: { token: tokenOf(email) } }),
      200,
    );
    const session = await loginAccount(api, account);
    const { key } = await dataOf<{ key: string }>(
      await api.call('POST', '/v1/api-keys', {
        token: session.accessToken,
        body: { name: 'search', scopes: ['users:search'] },
      }),
      201,
    );
    const search = () =>
      api.call('GET', '/v1/users/search?q=nobody', { headers: { 'X-API-Key': key } });
    const profile = () => api.call('GET', `/v1/users/${account.id}`);
    // Both read once, so both are cached before the account goes.
    await dataOf(await search(), 200);
    await dataOf(await profile(), 200);
    await api.settled();

    expect((await remove(api, session.accessToken, account.password)).status).toBe(204);

    await errorOf(await search(), 401, 'API_KEY_INVALID');
    await errorOf(await profile(), 404, 'NOT_FOUND');
  });
});
