// Users and their own profile, as a client sees it: GET/PATCH /v1/me, PATCH /v1/users/{id}, and
// search. A user reads and changes only their own profile, only the fields meant for them, and
// never sees anyone else's private fields. The app from createApp on a local stack (Redis db 14).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { users } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import {
  clientOf,
  type JsonAnswer,
  type SignedInUser,
  signedInUsers,
} from '../support/users-fixtures.ts';

let stack: LocalStack;
let app: App;
let deps: Deps;
let alice: SignedInUser;
let bob: SignedInUser;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 14, migrate: true });
  ({ app, deps } = appOnStack(stack.env, { RATE_LIMIT_GENERAL: '100000/1m' }));
  [alice, bob] = (await signedInUsers(deps, [
    { name: 'Alice Liddell' },
    { name: 'Bob Builder', verified: false },
  ])) as [SignedInUser, SignedInUser];
  await deps.db
    .update(users)
    .set({ passwordHash: 'pbkdf2-sha256$100000$c2FsdA==$aGFzaA==' })
    .where(eq(users.id, alice.id));
});

afterAll(async () => {
  await stack?.close();
});

const roleOf = async (id: string) =>
  (await deps.db.select({ role: users.role }).from(users).where(eq(users.id, id)))[0]?.role;

describe('GET /v1/me', () => {
  it('answers the caller’s profile, with private fields but never the password hash', async () => {
    const res = await clientOf(app, alice).get('/v1/me');

    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      id: alice.id,
      name: 'Alice Liddell',
      avatar: null,
      email: alice.email,
      role: 'user',
      emailVerified: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(res.text).not.toContain('pbkdf2');
    expect(res.text).not.toMatch(/passwordHash|deletedAt/);
  });

  it('tells an unverified user so', async () => {
    const res = await clientOf(app, bob).get('/v1/me');
    expect(res.body.data).toMatchObject({ id: bob.id, emailVerified: false });
  });

  it('refuses an anonymous request with 401', async () => {
    const res = await clientOf(app).get('/v1/me');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('PATCH /v1/me', () => {
  it('renames the caller, and the public profile shows the new name at once', async () => {
    const [carol] = (await signedInUsers(deps, [{ name: 'Carol Old' }])) as [SignedInUser];
    const client = clientOf(app, carol);
    // Read once so the profile sits in the cache.
    expect((await client.get(`/v1/users/${carol.id}`)).body.data.name).toBe('Carol Old');

    const res = await client.patch('/v1/me', { name: '  Carol New  ' });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: carol.id, name: 'Carol New', role: 'user' });
    expect((await client.get(`/v1/users/${carol.id}`)).body.data.name).toBe('Carol New');
  });

  it.each([
    ['role', { name: 'Alice', role: 'admin' }],
    ['email', { email: 'someone-else@example.com' }],
    ['passwordHash', { passwordHash: 'pbkdf2-sha256$1$AA==$AA==' }],
    ['emailVerifiedAt', { name: 'Alice', emailVerifiedAt: '2026-01-01T00:00:00Z' }],
    ['deletedAt', { deletedAt: null }],
  ])('refuses a body that sets %s with 422, and changes nothing', async (field, body) => {
    const res = await clientOf(app, alice).patch('/v1/me', body);

    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.error.details)).toContain(field);
    expect(await roleOf(alice.id)).toBe('user');
    const me = await clientOf(app, alice).get('/v1/me');
    expect(me.body.data).toMatchObject({ name: 'Alice Liddell', email: alice.email });
  });

  it('refuses an empty name with 422', async () => {
    const res = await clientOf(app, alice).patch('/v1/me', { name: '   ' });
    expect(res.status).toBe(422);
  });
});

describe('PATCH /v1/users/{id}', () => {
  it('lets users rename themselves by id', async () => {
    const [dave] = (await signedInUsers(deps, [{ name: 'Dave' }])) as [SignedInUser];
    const res = await clientOf(app, dave).patch(`/v1/users/${dave.id}`, { name: 'David' });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: dave.id, name: 'David' });
  });

  it('refuses user A renaming user B with 403, and B stays as they were', async () => {
    const res = await clientOf(app, alice).patch(`/v1/users/${bob.id}`, { name: 'Hacked' });

    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
    expect((await clientOf(app, bob).get('/v1/me')).body.data.name).toBe('Bob Builder');
  });

  it('asks an API key for profile:write, as PATCH /v1/me does: 403 SCOPE_MISSING without it', async () => {
    const [erin] = (await signedInUsers(deps, [{ name: 'Erin' }])) as [SignedInUser];
    const keyWith = async (scopes: string[]) => {
      const created = await clientOf(app, erin).post('/v1/api-keys', { name: 'k', scopes });
      expect(created.status).toBe(201);
      return created.body.data.key as string;
    };
    const renameWith = async (key: string, name: string) => {
      const res = await app.request(`/v1/users/${erin.id}`, {
        method: 'PATCH',
        headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      return { status: res.status, body: (await res.json()) as JsonAnswer['body'] };
    };

    const readOnly = await keyWith(['profile:read']);
    const refused = await renameWith(readOnly, 'Renamed by a read-only key');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: 'SCOPE_MISSING',
      details: { permission: 'profile:write' },
    });
    expect((await clientOf(app, erin).get('/v1/me')).body.data.name).toBe('Erin');

    const writer = await keyWith(['profile:write']);
    const renamed = await renameWith(writer, 'Erin Renamed');
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ id: erin.id, name: 'Erin Renamed' });
  });

  it('refuses setting one’s own role through it with 422', async () => {
    const res = await clientOf(app, alice).patch(`/v1/users/${alice.id}`, { role: 'admin' });

    expect(res.status).toBe(422);
    expect(await roleOf(alice.id)).toBe('user');
  });
});

describe('what user A may not do to user B', () => {
  it('cannot read B’s private profile: 403 from the admin API, public fields only', async () => {
    const adminRead = await clientOf(app, alice).get(`/v1/admin/users/${bob.id}`);
    expect(adminRead.status).toBe(403);
    expect(adminRead.body.error.code).toBe('FORBIDDEN');

    const publicRead = await clientOf(app, alice).get(`/v1/users/${bob.id}`);
    expect(publicRead.status).toBe(200);
    expect(Object.keys(publicRead.body.data).sort()).toEqual(['avatar', 'createdAt', 'id', 'name']);
    expect(publicRead.text).not.toContain(bob.email);
  });

  it('cannot delete B: 403, and B is still there', async () => {
    const res = await clientOf(app, alice).delete(`/v1/admin/users/${bob.id}`);

    expect(res.status).toBe(403);
    expect((await clientOf(app, bob).get('/v1/me')).status).toBe(200);
  });

  it('cannot give anyone a role, themselves included: 403', async () => {
    for (const target of [alice, bob]) {
      const res = await clientOf(app, alice).patch(`/v1/admin/users/${target.id}/role`, {
        role: 'admin',
      });
      expect(res.status).toBe(403);
    }
    expect(await roleOf(alice.id)).toBe('user');
  });
});

describe('GET /v1/users/search', () => {
  it('finds by name, ignoring case, never the caller, never a deleted user', async () => {
    const [seeker] = (await signedInUsers(deps, [{ name: 'Zephyr Seeker' }])) as [SignedInUser];
    const [byName] = await signedInUsers(deps, [
      { name: 'Zephyr Found' },
      { name: 'Someone', email: `zephyr-mail-${crypto.randomUUID()}@example.com` },
      { name: 'Zephyr Gone', deletedAt: new Date('2026-02-01T00:00:00Z') },
    ]);

    const res = await clientOf(app, seeker).get('/v1/users/search?q=ZEPHYR');

    expect(res.status).toBe(200);
    expect(res.body.data.map((user: { id: string }) => user.id)).toEqual([byName?.id]);
  });

  it('tells a user nothing of who has an email address; an administrator finds by email', async () => {
    const email = `kept-secret-${crypto.randomUUID()}@example.com`;
    const [owner, user, admin] = (await signedInUsers(deps, [
      { name: 'Owner Of An Address', email },
      { name: 'Curious User' },
      { name: 'Search Admin', role: 'admin' },
    ])) as [SignedInUser, SignedInUser, SignedInUser];
    const query = `/v1/users/search?q=${encodeURIComponent(email)}`;

    const asUser = await clientOf(app, user).get(query);
    expect(asUser.status).toBe(200);
    expect(asUser.body.data).toEqual([]);
    const byPart = await clientOf(app, user).get('/v1/users/search?q=kept-secret');
    expect(byPart.body.data).toEqual([]);

    const asAdmin = await clientOf(app, admin).get(query);
    expect(asAdmin.body.data.map((found: { id: string }) => found.id)).toEqual([owner.id]);
    expect(asAdmin.text).not.toContain(email);
  });

  it('shows public profiles only: no email, role or timestamps but the creation date', async () => {
    const [, match] = await signedInUsers(deps, [
      { name: 'Quincy Caller' },
      { name: 'Quincy Match', role: 'admin' },
    ]);
    const res = await clientOf(app, alice).get('/v1/users/search?q=quincy match');

    expect(res.body.data).toEqual([
      { id: match?.id, name: 'Quincy Match', avatar: null, createdAt: expect.any(String) },
    ]);
    expect(res.text).not.toContain(match?.email);
    expect(res.text).not.toMatch(/admin|role|email|hash/i);
  });

  it('answers at most 10 users, by name', async () => {
    await signedInUsers(
      deps,
      Array.from({ length: 12 }, (_, index) => ({
        name: `Many ${String(12 - index).padStart(2, '0')}`,
      })),
    );
    const res = await clientOf(app, alice).get('/v1/users/search?q=many');

    expect(res.body.data).toHaveLength(10);
    expect(res.body.data.map((user: { name: string }) => user.name)).toEqual(
      Array.from({ length: 10 }, (_, index) => `Many ${String(index + 1).padStart(2, '0')}`),
    );
  });

  it('takes % and _ literally', async () => {
    const [percent, , underscore] = await signedInUsers(deps, [
      { name: 'Deal 50% Off' },
      { name: 'Deal 500 Off' },
      { name: 'snake_case' },
      { name: 'snakeXcase' },
    ]);
    const search = (q: string) =>
      clientOf(app, alice).get(`/v1/users/search?q=${encodeURIComponent(q)}`);

    expect((await search('50%')).body.data.map((user: { id: string }) => user.id)).toEqual([
      percent?.id,
    ]);
    expect((await search('e_c')).body.data.map((user: { id: string }) => user.id)).toEqual([
      underscore?.id,
    ]);
  });

  it('needs a signed-in caller and a query of 2 to 100 characters', async () => {
    expect((await clientOf(app).get('/v1/users/search?q=alice')).status).toBe(401);
    for (const query of ['', '?q=a', `?q=${'x'.repeat(101)}`]) {
      const res = await clientOf(app, alice).get(`/v1/users/search${query}`);
      expect(res.status).toBe(422);
    }
  });
});
