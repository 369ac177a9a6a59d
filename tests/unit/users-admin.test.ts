// The administrators' users API as a client sees it: list with offset pagination, sort and
// filters; read, edit, soft delete and restore; role changes with their audit row written in the
// same transaction; counts by role. The app from createApp on a local stack (Redis db 14).
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { auditLogs, oneTimeTokens, users } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { randomToken, sha256Hex } from '../../src/lib/opaque-tokens.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let app: App;
let deps: Deps;
let admin: SignedInUser;
let member: SignedInUser;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 14, migrate: true });
  ({ app, deps } = appOnStack(stack.env, { RATE_LIMIT_GENERAL: '100000/1m' }));
  [admin, member] = (await signedInUsers(deps, [
    { name: 'Root Admin', role: 'admin' },
    { name: 'Plain Member' },
  ])) as [SignedInUser, SignedInUser];
});

afterAll(async () => {
  await stack?.close();
});

const asAdmin = () => clientOf(app, admin);
const ids = (body: { data: { id: string }[] }) => body.data.map((user) => user.id);
const auditRowsOf = (targetId: string) =>
  deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, targetId));

/** A key the user creates with their session, and a GET that sends it as X-API-Key. */
async function apiKeyOf(user: SignedInUser, scopes: string[]) {
  const created = await clientOf(app, user).post('/v1/api-keys', { name: 'probe', scopes });
  expect(created.status).toBe(201);
  const key: string = created.body.data.key;
  return async (path: string) => {
    const res = await app.request(path, { headers: { 'X-API-Key': key } });
    return { status: res.status, code: ((await res.json()) as ErrorAnswer).error?.code };
  };
}
type ErrorAnswer = { error?: { code: string } };

describe('who may use the admin API', () => {
  it('refuses anonymous requests with 401 and non-admins with 403', async () => {
    for (const path of [
      '/v1/admin/users',
      '/v1/admin/users/counts',
      `/v1/admin/users/${admin.id}`,
    ]) {
      expect((await clientOf(app).get(path)).status).toBe(401);
      const res = await clientOf(app, member).get(path);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
  });
});

describe('the last active admin', () => {
  // First in the file: the root admin is still the only one.
  it('cannot demote or delete themselves, and nothing is written', async () => {
    const demote = await asAdmin().patch(`/v1/admin/users/${admin.id}/role`, { role: 'user' });
    expect(demote.status).toBe(409);
    expect(demote.body.error).toMatchObject({
      code: 'CONFLICT',
      details: { reason: 'last_admin' },
    });

    const remove = await asAdmin().delete(`/v1/admin/users/${admin.id}`);
    expect(remove.status).toBe(409);

    expect((await asAdmin().get(`/v1/admin/users/${admin.id}`)).body.data).toMatchObject({
      role: 'admin',
      deletedAt: null,
    });
    expect(await auditRowsOf(admin.id)).toEqual([]);
  });
});

describe('GET /v1/admin/users', () => {
  let listed: SignedInUser[];

  beforeAll(async () => {
    listed = await signedInUsers(deps, [
      { name: 'Listed Echo', createdAt: new Date('2026-01-05T00:00:00Z') },
      { name: 'Listed Alpha', createdAt: new Date('2026-01-03T00:00:00Z'), verified: false },
      { name: 'Listed Delta', createdAt: new Date('2026-01-01T00:00:00Z'), role: 'admin' },
      { name: 'Listed Charlie', createdAt: new Date('2026-01-04T00:00:00Z') },
      { name: 'Listed Bravo', createdAt: new Date('2026-01-02T00:00:00Z'), verified: false },
      { name: 'Listed Gone', deletedAt: new Date('2026-02-01T00:00:00Z') },
    ]);
  });

  const names = (body: { data: { name: string }[] }) => body.data.map((user) => user.name);

  it('answers one page, sorted, with the pagination block', async () => {
    const res = await asAdmin().get(
      '/v1/admin/users?q=listed&sortBy=name&sortOrder=asc&page=2&limit=2',
    );

    expect(res.status).toBe(200);
    expect(names(res.body)).toEqual(['Listed Charlie', 'Listed Delta']);
    expect(res.body.pagination).toEqual({
      page: 2,
      limit: 2,
      total: 5,
      totalPages: 3,
      hasNext: true,
      hasPrev: true,
    });
    expect(res.body.meta).toMatchObject({ requestId: expect.any(String) });
  });

  it('shows administrators the account state, never a hash', async () => {
    const res = await asAdmin().get('/v1/admin/users?q=listed%20alpha');

    expect(res.body.data).toEqual([
      {
        id: listed[1]?.id,
        name: 'Listed Alpha',
        avatar: null,
        email: listed[1]?.email,
        role: 'user',
        emailVerified: false,
        emailVerifiedAt: null,
        passwordChangedAt: null,
        deletedAt: null,
        createdAt: '2026-01-03T00:00:00.000Z',
        updatedAt: expect.any(String),
      },
    ]);
    expect(res.text).not.toMatch(/hash/i);
  });

  it('sorts newest first by default, and by any allowed column either way', async () => {
    const newestFirst = await asAdmin().get('/v1/admin/users?q=listed');
    expect(names(newestFirst.body)).toEqual([
      'Listed Echo',
      'Listed Charlie',
      'Listed Alpha',
      'Listed Bravo',
      'Listed Delta',
    ]);
    expect(newestFirst.body.pagination).toMatchObject({ page: 1, limit: 20, total: 5 });

    const byNameDesc = await asAdmin().get('/v1/admin/users?q=listed&sortBy=name&sortOrder=desc');
    expect(names(byNameDesc.body)).toEqual([
      'Listed Echo',
      'Listed Delta',
      'Listed Charlie',
      'Listed Bravo',
      'Listed Alpha',
    ]);

    const byEmail = await asAdmin().get('/v1/admin/users?q=listed&sortBy=email&sortOrder=asc');
    const emails = byEmail.body.data.map((user: { email: string }) => user.email);
    expect(emails).toEqual([...emails].sort());
  });

  it('filters by role, by verification and by text', async () => {
    const admins = await asAdmin().get('/v1/admin/users?q=listed&role=admin');
    expect(names(admins.body)).toEqual(['Listed Delta']);

    const unverified = await asAdmin().get(
      '/v1/admin/users?q=listed&verified=false&sortBy=name&sortOrder=asc',
    );
    expect(names(unverified.body)).toEqual(['Listed Alpha', 'Listed Bravo']);

    const verified = await asAdmin().get('/v1/admin/users?q=listed&verified=true');
    expect(verified.body.pagination.total).toBe(3);
  });

  it('hides soft-deleted users unless includeDeleted=true', async () => {
    const hidden = await asAdmin().get('/v1/admin/users?q=listed%20gone');
    expect(hidden.body.data).toEqual([]);
    expect(hidden.body.pagination).toMatchObject({ total: 0, totalPages: 0, hasNext: false });

    const shown = await asAdmin().get('/v1/admin/users?q=listed%20gone&includeDeleted=true');
    expect(ids(shown.body)).toEqual([listed[5]?.id]);
    expect(shown.body.data[0].deletedAt).toBe('2026-02-01T00:00:00.000Z');
  });

  it('answers an empty page past the end', async () => {
    const res = await asAdmin().get('/v1/admin/users?q=listed&page=9&limit=2');
    expect(res.body.data).toEqual([]);
    expect(res.body.pagination).toMatchObject({ page: 9, total: 5, hasNext: false, hasPrev: true });
  });

  it.each([
    'page=0',
    'limit=0',
    'limit=101',
    'page=1.5',
    'sortBy=passwordHash',
    'sortOrder=sideways',
    'role=root',
    'verified=yes',
  ])('refuses %s with 422', async (query) => {
    const res = await asAdmin().get(`/v1/admin/users?${query}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /v1/admin/users/{id}', () => {
  it('answers an active user, and a deleted one only with includeDeleted=true', async () => {
    const [gone] = (await signedInUsers(deps, [
      { name: 'Gone Reader', deletedAt: new Date('2026-02-01T00:00:00Z') },
    ])) as [SignedInUser];

    expect((await asAdmin().get(`/v1/admin/users/${member.id}`)).body.data).toMatchObject({
      id: member.id,
      email: member.email,
    });
    expect((await asAdmin().get(`/v1/admin/users/${gone.id}`)).status).toBe(404);
    const withDeleted = await asAdmin().get(`/v1/admin/users/${gone.id}?includeDeleted=true`);
    expect(withDeleted.body.data).toMatchObject({ id: gone.id, deletedAt: expect.any(String) });
  });
});

describe('PATCH /v1/admin/users/{id}', () => {
  it('changes name and email; the new email is lower-cased and unverified; audited', async () => {
    const [frank] = (await signedInUsers(deps, [{ name: 'Frank' }])) as [SignedInUser];
    const email = `Frank.New-${crypto.randomUUID()}@Example.com`;

    const res = await asAdmin().patch(`/v1/admin/users/${frank.id}`, { name: 'Franklin', email });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      name: 'Franklin',
      email: email.toLowerCase(),
      emailVerified: false,
      emailVerifiedAt: null,
    });
    expect(await auditRowsOf(frank.id)).toEqual([
      expect.objectContaining({
        actorId: admin.id,
        action: 'user.updated',
        changes: { fields: ['name', 'email'] },
      }),
    ]);
  });

  it('refuses an email another account uses with 409', async () => {
    const res = await asAdmin().patch(`/v1/admin/users/${member.id}`, { email: admin.email });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
  });

  it('spends the links mailed to the old address, unless the change is refused', async () => {
    const [olive] = (await signedInUsers(deps, [{ name: 'Olive Moved', verified: false }])) as [
      SignedInUser,
    ];
    const now = Date.now();
    const links = { password_reset: randomToken(), email_verification: randomToken() } as const;
    await deps.db.insert(oneTimeTokens).values(
      await Promise.all(
        Object.entries(links).map(async ([purpose, token]) => ({
          id: crypto.randomUUID(),
          userId: olive.id,
          purpose: purpose as keyof typeof links,
          tokenHash: await sha256Hex(token),
          expiresAt: new Date(now + 3_600_000),
          createdAt: new Date(now),
        })),
      ),
    );
    const unused = async () =>
      (await deps.db.select().from(oneTimeTokens).where(eq(oneTimeTokens.userId, olive.id))).filter(
        (row) => row.usedAt === null,
      );

    const taken = await asAdmin().patch(`/v1/admin/users/${olive.id}`, { email: admin.email });
    expect(taken.status).toBe(409);
    expect(await unused()).toHaveLength(2);

    const email = `olive-new-${crypto.randomUUID()}@example.com`;
    expect((await asAdmin().patch(`/v1/admin/users/${olive.id}`, { email })).status).toBe(200);

    const reset = await clientOf(app).post('/v1/auth/password/reset', {
      token: links.password_reset,
      password: 'Harbor!Violet42Compass',
    });
    expect(reset.status).toBe(400);
    expect(reset.body.error.code).toBe('TOKEN_INVALID');
    const verify = await clientOf(app).post('/v1/auth/verify-email/confirm', {
      token: links.email_verification,
    });
    expect(verify.status).toBe(400);
    expect(verify.body.error.code).toBe('TOKEN_INVALID');
  });

  it('refuses a role, a password hash or nothing at all with 422', async () => {
    for (const body of [{ role: 'admin' }, { name: 'X', passwordHash: 'x' }, {}]) {
      const res = await asAdmin().patch(`/v1/admin/users/${member.id}`, body);
      expect(res.status).toBe(422);
    }
    expect((await asAdmin().get(`/v1/admin/users/${member.id}`)).body.data.role).toBe('user');
  });
});

describe('PATCH /v1/users/{id} by an administrator', () => {
  it('renames another user, and the audit log says who did', async () => {
    const [lee] = (await signedInUsers(deps, [{ name: 'Lee Renamed' }])) as [SignedInUser];

    const res = await asAdmin().patch(`/v1/users/${lee.id}`, { name: 'Lee Renamed Twice' });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: lee.id, name: 'Lee Renamed Twice' });
    expect(await auditRowsOf(lee.id)).toEqual([
      expect.objectContaining({ actorId: admin.id, action: 'user.updated' }),
    ]);
  });
});

describe('soft delete and restore', () => {
  it('hides the user everywhere and ends their sessions; restore brings them back', async () => {
    const [gina] = (await signedInUsers(deps, [{ name: 'Gina Deletable' }])) as [SignedInUser];
    expect((await clientOf(app, gina).get('/v1/me')).status).toBe(200);

    const deleted = await asAdmin().delete(`/v1/admin/users/${gina.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toMatchObject({ id: gina.id, deletedAt: expect.any(String) });

    expect((await clientOf(app).get(`/v1/users/${gina.id}`)).status).toBe(404);
    expect((await asAdmin().get('/v1/admin/users?q=gina')).body.data).toEqual([]);
    expect((await clientOf(app, member).get('/v1/users/search?q=gina')).body.data).toEqual([]);
    expect((await asAdmin().get('/v1/admin/users/counts')).status).toBe(200);
    expect((await clientOf(app, gina).get('/v1/me')).status).toBe(401);
    expect((await asAdmin().delete(`/v1/admin/users/${gina.id}`)).status).toBe(404);

    const restored = await asAdmin().post(`/v1/admin/users/${gina.id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.data).toMatchObject({ id: gina.id, deletedAt: null });
    expect((await clientOf(app).get(`/v1/users/${gina.id}`)).body.data.name).toBe('Gina Deletable');
    expect(ids((await asAdmin().get('/v1/admin/users?q=gina')).body)).toEqual([gina.id]);

    expect((await asAdmin().post(`/v1/admin/users/${gina.id}/restore`)).status).toBe(404);
    expect((await auditRowsOf(gina.id)).map((row) => row.action).sort()).toEqual([
      'user.deleted',
      'user.restored',
    ]);
  });
});

describe('API keys of a deleted or demoted owner', () => {
  it('a deleted owner’s key is refused at once, not when its cached record expires', async () => {
    const [mia] = (await signedInUsers(deps, [{ name: 'Mia Keyholder' }])) as [SignedInUser];
    const send = await apiKeyOf(mia, ['users:search']);
    expect((await send('/v1/users/search?q=nobody')).status).toBe(200);

    expect((await asAdmin().delete(`/v1/admin/users/${mia.id}`)).status).toBe(200);

    expect(await send('/v1/users/search?q=nobody')).toEqual({
      status: 401,
      code: 'API_KEY_INVALID',
    });
  });

  it('a demoted admin’s key loses the admin permissions at once', async () => {
    const [lou] = (await signedInUsers(deps, [{ name: 'Lou Demoted', role: 'admin' }])) as [
      SignedInUser,
    ];
    const send = await apiKeyOf(lou, ['users:admin']);
    expect((await send('/v1/admin/users/counts')).status).toBe(200);

    expect((await asAdmin().patch(`/v1/admin/users/${lou.id}/role`, { role: 'user' })).status).toBe(
      200,
    );

    expect((await send('/v1/admin/users/counts')).status).toBe(403);
  });
});

describe('PATCH /v1/admin/users/{id}/role', () => {
  it('changes the role with an audit row, and the user’s old token stops working', async () => {
    const [hank] = (await signedInUsers(deps, [{ name: 'Hank Promoted' }])) as [SignedInUser];

    const res = await asAdmin().patch(`/v1/admin/users/${hank.id}/role`, { role: 'admin' });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: hank.id, role: 'admin' });
    expect(await auditRowsOf(hank.id)).toEqual([
      {
        id: expect.any(String),
        actorId: admin.id,
        action: 'user.role_changed',
        targetType: 'user',
        targetId: hank.id,
        changes: { role: { from: 'user', to: 'admin' } },
        createdAt: expect.any(Date),
      },
    ]);
    expect((await clientOf(app, hank).get('/v1/me')).status).toBe(401);
  });

  it('writes the role and its audit row in one transaction: no audit, no change', async () => {
    const [ivy] = (await signedInUsers(deps, [{ name: 'Ivy Unchanged' }])) as [SignedInUser];
    await deps.db.run(sql`ALTER TABLE audit_logs RENAME TO audit_logs_away`);
    let res: Awaited<ReturnType<ReturnType<typeof asAdmin>['patch']>>;
    try {
      res = await asAdmin().patch(`/v1/admin/users/${ivy.id}/role`, { role: 'admin' });
    } finally {
      await deps.db.run(sql`ALTER TABLE audit_logs_away RENAME TO audit_logs`);
    }

    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL_ERROR');
    expect(res.text).not.toMatch(/audit_logs|SQL/i);
    const [row] = await deps.db
      .select({ role: users.role })
      .from(users)
      .where(eq(users.id, ivy.id));
    expect(row?.role).toBe('user');
  });

  it('lets an admin step down while another admin remains', async () => {
    const [first, second] = (await signedInUsers(deps, [
      { name: 'Jo Admin', role: 'admin' },
      { name: 'Kim Admin', role: 'admin' },
    ])) as [SignedInUser, SignedInUser];

    const res = await clientOf(app, first).patch(`/v1/admin/users/${first.id}/role`, {
      role: 'user',
    });

    expect(res.status).toBe(200);
    expect(res.body.data.role).toBe('user');
    expect(
      await deps.db
        .select({ actorId: auditLogs.actorId })
        .from(auditLogs)
        .where(and(eq(auditLogs.targetId, first.id), eq(auditLogs.actorId, first.id))),
    ).toHaveLength(1);
    expect((await asAdmin().get(`/v1/admin/users/${second.id}`)).body.data.role).toBe('admin');
  });

  it('answers an unchanged role as it is, without an audit row', async () => {
    const res = await asAdmin().patch(`/v1/admin/users/${member.id}/role`, { role: 'user' });
    expect(res.status).toBe(200);
    expect(await auditRowsOf(member.id)).toEqual([]);
  });

  it('refuses an unknown role or extra fields with 422, an unknown user with 404', async () => {
    expect(
      (await asAdmin().patch(`/v1/admin/users/${member.id}/role`, { role: 'root' })).status,
    ).toBe(422);
    expect(
      (await asAdmin().patch(`/v1/admin/users/${member.id}/role`, { role: 'admin', name: 'x' }))
        .status,
    ).toBe(422);
    const unknown = await asAdmin().patch(`/v1/admin/users/${crypto.randomUUID()}/role`, {
      role: 'admin',
    });
    expect(unknown.status).toBe(404);
  });
});

describe('GET /v1/admin/users/counts', () => {
  it('counts active users by role', async () => {
    const before = (await asAdmin().get('/v1/admin/users/counts')).body.data;
    await signedInUsers(deps, [
      { name: 'Count One' },
      { name: 'Count Two' },
      { name: 'Count Three', role: 'admin' },
      { name: 'Count Gone', deletedAt: new Date('2026-02-01T00:00:00Z') },
    ]);

    const res = await asAdmin().get('/v1/admin/users/counts');

    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      total: before.total + 3,
      byRole: { admin: before.byRole.admin + 1, user: before.byRole.user + 2 },
    });
  });
});
