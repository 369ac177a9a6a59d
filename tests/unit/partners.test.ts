// The administrators' partners API as a client sees it: register a partner and get its secret
// once, list partners without secrets, rotate with a grace period, revoke a secret or a partner,
// each change audited in the same batch. The app from createApp on a local stack (Redis db 8).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { auditLogs, partnerSecrets } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import type { LogFields } from '../../src/lib/logger.ts';
import { openSecret } from '../../src/lib/secret-box.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let app: App;
let deps: Deps;
let logLines: LogFields[];
let admin: SignedInUser;
let member: SignedInUser;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 8, migrate: true });
  ({ app, deps, logLines } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
  }));
  [admin, member] = (await signedInUsers(deps, [
    { name: 'Partner Admin', role: 'admin' },
    { name: 'Partner Member' },
  ])) as [SignedInUser, SignedInUser];
});

afterAll(async () => {
  await stack?.close();
});

const asAdmin = () => clientOf(app, admin);
const uniqueName = (label: string) => `${label} ${crypto.randomUUID()}`;
const hourMs = 3_600_000;

async function createPartner(scheme: 'hmac-sha256' | 'standard-webhooks' = 'hmac-sha256') {
  const res = await asAdmin().post('/v1/admin/partners', { name: uniqueName('Acme'), scheme });
  expect(res.status, res.text).toBe(201);
  return res.body.data as {
    partner: { id: string; name: string; secrets: { id: string }[] };
    secret: { id: string; secret: string; hint: string; createdAt: string };
  };
}

async function listed(partnerId: string) {
  const res = await asAdmin().get('/v1/admin/partners');
  expect(res.status).toBe(200);
  return {
    text: res.text,
    partner: res.body.data.find((partner: { id: string }) => partner.id === partnerId),
  };
}

describe('who may manage partners', () => {
  it('refuses anonymous callers with 401 and non-admins with 403', async () => {
    const { partner } = await createPartner();
    const attempts = [
      ['GET', '/v1/admin/partners', undefined],
      ['POST', '/v1/admin/partners', { name: uniqueName('Nope'), scheme: 'hmac-sha256' }],
      ['POST', `/v1/admin/partners/${partner.id}/secrets`, {}],
      ['DELETE', `/v1/admin/partners/${partner.id}/secrets/${partner.secrets[0]?.id}`, undefined],
      ['DELETE', `/v1/admin/partners/${partner.id}`, undefined],
    ] as const;
    for (const [method, path, body] of attempts) {
      const send = (client: ReturnType<typeof clientOf>) =>
        method === 'GET'
          ? client.get(path)
          : method === 'DELETE'
            ? client.delete(path)
            : client.post(path, body);
      expect((await send(clientOf(app))).status).toBe(401);
      const refused = await send(clientOf(app, member));
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
    }
    expect((await listed(partner.id)).partner.revokedAt).toBeNull();
  });

  it('lets an admin API key in only with the partners:manage scope', async () => {
    const keyWith = async (scopes: string[]) => {
      const created = await asAdmin().post('/v1/api-keys', { name: 'partners', scopes });
      expect(created.status, created.text).toBe(201);
      return created.body.data.key as string;
    };
    const list = (key: string) =>
      app.request('/v1/admin/partners', { headers: { 'X-API-Key': key } });
    expect((await list(await keyWith(['partners:manage']))).status).toBe(200);
    expect((await list(await keyWith(['users:admin']))).status).toBe(403);
  });
});

describe('POST /v1/admin/partners', () => {
  it('shows an hmac-sha256 secret once and keeps it only encrypted', async () => {
    const { partner, secret } = await createPartner('hmac-sha256');
    expect(secret.secret).toMatch(/^pws_[A-Za-z0-9_-]{43}$/);
    expect(secret.hint).toBe(secret.secret.slice(-4));
    expect(partner).toMatchObject({
      scheme: 'hmac-sha256',
      revokedAt: null,
      secrets: [{ id: secret.id, hint: secret.hint, active: true, expiresAt: null }],
    });

    const [row] = await deps.db
      .select()
      .from(partnerSecrets)
      .where(eq(partnerSecrets.id, secret.id));
    expect(row?.encryptedSecret).not.toContain(secret.secret);
    expect(await openSecret(deps.config, row?.encryptedSecret ?? '')).toBe(secret.secret);

    const { text } = await listed(partner.id);
    expect(text).not.toContain(secret.secret);
    expect(JSON.stringify(logLines)).not.toContain(secret.secret);
  });

  it('gives a standard-webhooks partner a whsec_ secret', async () => {
    const { partner, secret } = await createPartner('standard-webhooks');
    expect(partner).toMatchObject({ scheme: 'standard-webhooks' });
    expect(secret.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  });

  it('audits the creation, naming the admin', async () => {
    const { partner } = await createPartner();
    const rows = await deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, partner.id));
    expect(rows).toMatchObject([
      { actorId: admin.id, action: 'partner.created', targetType: 'partner' },
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/pws_/);
  });

  it('refuses a taken name with 409 and a bad body with 422', async () => {
    const { partner } = await createPartner();
    const taken = await asAdmin().post('/v1/admin/partners', {
      name: partner.name,
      scheme: 'hmac-sha256',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CONFLICT');
    for (const body of [
      { name: uniqueName('Bad'), scheme: 'md5' },
      { name: '', scheme: 'hmac-sha256' },
      { name: 'x'.repeat(101), scheme: 'hmac-sha256' },
      { name: uniqueName('Extra'), scheme: 'hmac-sha256', secret: 'mine' },
    ]) {
      const res = await asAdmin().post('/v1/admin/partners', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('POST /v1/admin/partners/{id}/secrets', () => {
  it('adds a secret and ends the others after the grace period', async () => {
    const { partner, secret: first } = await createPartner();
    const before = Date.now();
    const res = await asAdmin().post(`/v1/admin/partners/${partner.id}/secrets`, {
      graceHours: 2,
    });
    expect(res.status, res.text).toBe(201);
    const second = res.body.data;
    expect(second.secret).toMatch(/^pws_/);
    expect(second.secret).not.toBe(first.secret);

    const { partner: shown, text } = await listed(partner.id);
    expect(text).not.toContain(second.secret);
    const old = shown.secrets.find((secret: { id: string }) => secret.id === first.id);
    const fresh = shown.secrets.find((secret: { id: string }) => secret.id === second.id);
    expect(old.active).toBe(true);
    expect(Date.parse(old.expiresAt)).toBeGreaterThanOrEqual(before + 2 * hourMs - 1000);
    expect(Date.parse(old.expiresAt)).toBeLessThanOrEqual(Date.now() + 2 * hourMs);
    expect(fresh).toMatchObject({ active: true, expiresAt: null, hint: second.secret.slice(-4) });

    const audit = await deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, partner.id));
    expect(audit.map((row) => row.action).sort()).toEqual([
      'partner.created',
      'partner.secret-rotated',
    ]);
  });

  it('defaults to 24 hours of grace, and 0 ends the old secrets at once', async () => {
    const { partner, secret: first } = await createPartner();
    const rotate = (body: unknown) =>
      asAdmin().post(`/v1/admin/partners/${partner.id}/secrets`, body);
    const second = (await rotate({})).body.data;
    let shown = (await listed(partner.id)).partner;
    const expiry = (id: string) =>
      Date.parse(shown.secrets.find((secret: { id: string }) => secret.id === id).expiresAt);
    expect(expiry(first.id)).toBeGreaterThan(Date.now() + 23 * hourMs);

    const third = (await rotate({ graceHours: 0 })).body.data;
    shown = (await listed(partner.id)).partner;
    const active = shown.secrets
      .filter((secret: { active: boolean }) => secret.active)
      .map((secret: { id: string }) => secret.id);
    expect(active).toEqual([third.id]);
    expect(second.id).not.toBe(third.id);
  });

  it('refuses graceHours over 168 with 422 and an unknown or revoked partner with 404', async () => {
    const { partner } = await createPartner();
    const tooLong = await asAdmin().post(`/v1/admin/partners/${partner.id}/secrets`, {
      graceHours: 169,
    });
    expect(tooLong.status).toBe(422);
    const unknown = await asAdmin().post(`/v1/admin/partners/${crypto.randomUUID()}/secrets`, {});
    expect(unknown.status).toBe(404);
    expect((await asAdmin().delete(`/v1/admin/partners/${partner.id}`)).status).toBe(200);
    const revoked = await asAdmin().post(`/v1/admin/partners/${partner.id}/secrets`, {});
    expect(revoked.status).toBe(404);
    expect(revoked.body.error.code).toBe('NOT_FOUND');
    expect((await listed(partner.id)).partner.secrets).toHaveLength(1);
  });
});

describe('DELETE /v1/admin/partners/{id}/secrets/{secretId}', () => {
  it('revokes the secret at once, and a second revocation changes nothing', async () => {
    const { partner, secret } = await createPartner();
    const path = `/v1/admin/partners/${partner.id}/secrets/${secret.id}`;
    const first = await asAdmin().delete(path);
    expect(first.status, first.text).toBe(200);
    expect(first.body.data).toMatchObject({ id: secret.id, active: false });
    expect(first.body.data.revokedAt).not.toBeNull();
    const again = await asAdmin().delete(path);
    expect(again.body.data.revokedAt).toBe(first.body.data.revokedAt);

    const audit = await deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, partner.id));
    expect(audit.filter((row) => row.action === 'partner.secret-revoked')).toHaveLength(1);
  });

  it('answers 404 for a secret of another partner', async () => {
    const one = await createPartner();
    const other = await createPartner();
    const res = await asAdmin().delete(
      `/v1/admin/partners/${one.partner.id}/secrets/${other.secret.id}`,
    );
    expect(res.status).toBe(404);
    expect((await listed(other.partner.id)).partner.secrets[0].active).toBe(true);
  });
});

describe('DELETE /v1/admin/partners/{id}', () => {
  it('revokes the partner once and audits it once', async () => {
    const { partner } = await createPartner();
    const first = await asAdmin().delete(`/v1/admin/partners/${partner.id}`);
    expect(first.status).toBe(200);
    expect(first.body.data.revokedAt).not.toBeNull();
    const again = await asAdmin().delete(`/v1/admin/partners/${partner.id}`);
    expect(again.body.data.revokedAt).toBe(first.body.data.revokedAt);
    expect((await listed(partner.id)).partner.revokedAt).toBe(first.body.data.revokedAt);
    const audit = await deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, partner.id));
    expect(audit.filter((row) => row.action === 'partner.revoked')).toHaveLength(1);
    expect((await asAdmin().delete(`/v1/admin/partners/${crypto.randomUUID()}`)).status).toBe(404);
  });
});
