// The admin users API on the real Worker. Soft delete and restore: an administrator deletes a
// user, who then cannot log in and is absent from every list; restoring brings them back. Role
// changes: audited in the database, and in force from the user's next sign-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  login,
  newClientIp,
  promoteToAdmin,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let operator: Account;
let admin: Session;
let member: Account & { session: Session };
let searcher: Account & { session: Session };

beforeAll(async () => {
  worker = await startIdentityWorker();
  operator = await register(worker, 'operator');
  await promoteToAdmin(worker, operator.id);
  admin = await login(worker, operator);
  member = await register(worker, 'member');
  searcher = await register(worker, 'searcher');
});

afterAll(async () => {
  await worker?.close();
});

const asAdmin = (method: string, path: string) =>
  call(worker, method, path, { token: admin.accessToken });

async function listedIds(): Promise<string[]> {
  const response = await asAdmin('GET', '/v1/admin/users?limit=100');
  const body = (await response.json()) as { data: { id: string }[]; pagination: unknown };
  expect(response.status).toBe(200);
  expect(body.pagination).toMatchObject({ page: 1, limit: 100 });
  return body.data.map((user) => user.id);
}

async function searchedIds(): Promise<string[]> {
  const response = await call(worker, 'GET', `/v1/users/search?q=${encodeURIComponent('member')}`, {
    token: searcher.session.accessToken,
  });
  return (await dataOf<{ id: string }[]>(response, 200)).map((user) => user.id);
}

const loginAttempt = () =>
  call(worker, 'POST', '/v1/auth/login', {
    body: { email: member.email, password: member.password },
    ip: newClientIp(),
  });

describe('soft delete', () => {
  it('lists and finds an active user', async () => {
    expect(await listedIds()).toContain(member.id);
    expect(await searchedIds()).toContain(member.id);
  });

  it('a soft-deleted user cannot log in and is absent from lists, search and profiles', async () => {
    const deleted = await asAdmin('DELETE', `/v1/admin/users/${member.id}`);
    expect(deleted.status, await deleted.clone().text()).toBeLessThan(300);
    await deleted.arrayBuffer();

    await expectErrorEnvelope(await loginAttempt(), 401, 'INVALID_CREDENTIALS');
    expect(await listedIds()).not.toContain(member.id);
    expect(await searchedIds()).not.toContain(member.id);
    await expectErrorEnvelope(
      await call(worker, 'GET', `/v1/users/${member.id}`),
      404,
      'NOT_FOUND',
    );
  });

  it('restore brings the user back: listed, found, able to log in', async () => {
    const restored = await asAdmin('POST', `/v1/admin/users/${member.id}/restore`);
    expect(restored.status, await restored.clone().text()).toBeLessThan(300);
    await restored.arrayBuffer();

    expect(await listedIds()).toContain(member.id);
    expect(await searchedIds()).toContain(member.id);
    await dataOf(await loginAttempt(), 200);
    const profile = await dataOf(await call(worker, 'GET', `/v1/users/${member.id}`), 200);
    expect(profile).toMatchObject({ id: member.id, name: member.name });
  });
});

describe('a role change', () => {
  it('is written with its audit row, and applies from the next sign-in', async () => {
    const promoted = await register(worker, 'promoted');
    const changed = await call(worker, 'PATCH', `/v1/admin/users/${promoted.id}/role`, {
      token: admin.accessToken,
      body: { role: 'admin' },
    });
    expect((await dataOf(changed, 200)).role).toBe('admin');

    const { rows } = await worker.db.execute({
      sql: 'SELECT actor_id, action, target_type, target_id, changes FROM audit_logs WHERE target_id = ?',
      args: [promoted.id],
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: operator.id,
      target_type: 'user',
      target_id: promoted.id,
    });
    expect(JSON.parse(String(rows[0]?.changes))).toEqual({ role: { from: 'user', to: 'admin' } });

    const session = await login(worker, promoted);
    const counts = await call(worker, 'GET', '/v1/admin/users/counts', {
      token: session.accessToken,
    });
    expect(counts.status).toBe(200);
    await counts.arrayBuffer();
  });
});
