// Ownership on the real Worker: a user reads and changes only their own account, never another
// user's, and never their own role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let alice: Account & { session: Session };
let bob: Account & { session: Session };

beforeAll(async () => {
  worker = await startIdentityWorker();
  alice = await register(worker, 'alice');
  bob = await register(worker, 'bob');
});

afterAll(async () => {
  await worker?.close();
});

const asAlice = (method: string, path: string, body?: unknown) =>
  call(worker, method, path, {
    token: alice.session.accessToken,
    ...(body !== undefined && { body }),
  });

/** Refused with 403 FORBIDDEN: user ids are public, so a 404 would hide nothing. */
async function expectRefusedAccess(response: Awaited<ReturnType<typeof asAlice>>) {
  await expectErrorEnvelope(response, 403, 'FORBIDDEN');
}

describe("user A and user B's account", () => {
  it("shows A only B's public profile", async () => {
    const response = await asAlice('GET', `/v1/users/${bob.id}`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).not.toContain(bob.email);
    expect(JSON.parse(text).data).not.toHaveProperty('role');
  });

  it("refuses A reading B's private data", async () => {
    await expectRefusedAccess(await asAlice('GET', `/v1/admin/users/${bob.id}`));
  });

  it("refuses A updating B's account", async () => {
    await expectRefusedAccess(await asAlice('PATCH', `/v1/users/${bob.id}`, { name: 'Hacked' }));
    await expectRefusedAccess(
      await asAlice('PATCH', `/v1/admin/users/${bob.id}`, { name: 'Hacked' }),
    );
    await expectRefusedAccess(
      await asAlice('PATCH', `/v1/admin/users/${bob.id}/role`, { role: 'user' }),
    );
  });

  it("refuses A deleting B's account", async () => {
    await expectRefusedAccess(await asAlice('DELETE', `/v1/admin/users/${bob.id}`));
  });

  it("leaves B's account as it was", async () => {
    const me = await dataOf(
      await call(worker, 'GET', '/v1/me', { token: bob.session.accessToken }),
      200,
    );
    expect(me).toMatchObject({ id: bob.id, name: bob.name, email: bob.email, role: 'user' });
  });
});

describe('a user and their own role', () => {
  it('refuses a role in the profile update (no mass assignment)', async () => {
    const response = await asAlice('PATCH', '/v1/me', { name: 'Alice A.', role: 'admin' });
    await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  });

  it('refuses the admin role route to a user, even for themselves', async () => {
    await expectRefusedAccess(
      await asAlice('PATCH', `/v1/admin/users/${alice.id}/role`, { role: 'admin' }),
    );
  });

  it('leaves the role as it was, and lets the name alone be changed', async () => {
    const updated = await dataOf(await asAlice('PATCH', '/v1/me', { name: 'Alice Renamed' }), 200);
    expect(updated).toMatchObject({ id: alice.id, name: 'Alice Renamed', role: 'user' });
    const { rows } = await worker.db.execute({
      sql: 'SELECT role FROM users WHERE id = ?',
      args: [alice.id],
    });
    expect(rows[0]?.role).toBe('user');
  });
});
