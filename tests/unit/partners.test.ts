// The administrators' partners API as a client sees it: register a partner and get its secret
// once, list partners without secrets, rotate with a grace period, revoke a secret or a partner,
// subscribe it to our events, each change audited in the same batch. Then the partner.notify job's
// handler against receivers on this machine: what it skips, what it refuses, what it calls a
// failure. The app from createApp on a local stack (Redis db 8), with PARTNER_WEBHOOK_ALLOW_PRIVATE
// off as in production, and a second app on the same stack with it on, for the local receivers.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { auditLogs, partnerSecrets } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import type { JobPayload } from '../../src/jobs/catalogue.ts';
import { PermanentJobError } from '../../src/jobs/job-delivery.ts';
import type { LogFields } from '../../src/lib/logger.ts';
import { openSecret } from '../../src/lib/secret-box.ts';
import {
  maxResponseBytes,
  outboundBody,
  postEvent,
  signedHeaders,
} from '../../src/modules/partners/outbound-webhook.ts';
import { partnerNotifyJob } from '../../src/modules/partners/partner-notify.job.ts';
import { createPartnersRepository } from '../../src/modules/partners/partners.repository.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let app: App;
let deps: Deps;
let logLines: LogFields[];
let privateApp: App;
let privateDeps: Deps;
let admin: SignedInUser;
let member: SignedInUser;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 8, migrate: true });
  ({ app, deps, logLines } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
  }));
  ({ app: privateApp, deps: privateDeps } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
    PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true',
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

/** Any method, PUT included, as `user` (anonymous without one). */
async function send(
  on: App,
  user: SignedInUser | undefined,
  method: string,
  path: string,
  json?: unknown,
) {
  const headers: Record<string, string> = {};
  if (user) headers.Authorization = `Bearer ${user.accessToken}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await on.request(path, {
    method,
    headers,
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

const subscription = {
  webhookUrl: 'https://hooks.acme.example/nexus',
  events: ['product.updated', 'product.created'],
};
const subscribe = (partnerId: string, body: unknown = subscription, on = app) =>
  send(on, admin, 'PUT', `/v1/admin/partners/${partnerId}/subscription`, body);
const unsubscribe = (partnerId: string) =>
  send(app, admin, 'DELETE', `/v1/admin/partners/${partnerId}/subscription`);
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
      ['PUT', `/v1/admin/partners/${partner.id}/subscription`, subscription],
      ['DELETE', `/v1/admin/partners/${partner.id}/subscription`, undefined],
    ] as const;
    for (const [method, path, body] of attempts) {
      expect((await send(app, undefined, method, path, body)).status).toBe(401);
      const refused = await send(app, member, method, path, body);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
    }
    expect((await listed(partner.id)).partner).toMatchObject({ revokedAt: null, webhookUrl: null });
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
      webhookUrl: null,
      subscribedEvents: [],
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

describe('PUT and DELETE /v1/admin/partners/{id}/subscription', () => {
  const auditOf = async (partnerId: string) =>
    (await deps.db.select().from(auditLogs).where(eq(auditLogs.targetId, partnerId)))
      .map((row) => ({ action: row.action, actorId: row.actorId, changes: row.changes }))
      .filter(({ action }) => action !== 'partner.created');

  it('subscribes the partner, shows it, and audits each change once', async () => {
    const { partner } = await createPartner();
    const res = await subscribe(partner.id);
    expect(res.status, res.text).toBe(200);
    // The events in the catalogue's order, whatever order they were given in.
    const expected = {
      id: partner.id,
      webhookUrl: 'https://hooks.acme.example/nexus',
      subscribedEvents: ['product.created', 'product.updated'],
    };
    expect(res.body.data).toMatchObject(expected);
    expect((await listed(partner.id)).partner).toMatchObject(expected);
    expect((await subscribe(partner.id)).status).toBe(200);

    const moved = await subscribe(partner.id, {
      webhookUrl: 'https://Hooks.Acme.example:8443/v2/../nexus',
      events: ['product.deleted'],
    });
    expect(moved.body.data).toMatchObject({
      webhookUrl: 'https://hooks.acme.example:8443/nexus',
      subscribedEvents: ['product.deleted'],
    });

    const ended = await unsubscribe(partner.id);
    expect(ended.status, ended.text).toBe(200);
    expect(ended.body.data).toMatchObject({ webhookUrl: null, subscribedEvents: [] });
    expect((await unsubscribe(partner.id)).status).toBe(200);
    expect((await listed(partner.id)).partner).toMatchObject({
      webhookUrl: null,
      subscribedEvents: [],
    });

    // The repeated subscription and the repeated unsubscription changed nothing: not audited.
    expect(await auditOf(partner.id)).toEqual([
      {
        action: 'partner.subscribed',
        actorId: admin.id,
        changes: { webhookUrl: expected.webhookUrl, events: expected.subscribedEvents },
      },
      {
        action: 'partner.subscribed',
        actorId: admin.id,
        changes: {
          webhookUrl: 'https://hooks.acme.example:8443/nexus',
          events: ['product.deleted'],
        },
      },
      { action: 'partner.unsubscribed', actorId: admin.id, changes: {} },
    ]);
  });

  it('refuses, with PARTNER_WEBHOOK_ALLOW_PRIVATE off, URLs that point inside our network: 422 naming webhookUrl', async () => {
    const { partner } = await createPartner();
    for (const webhookUrl of [
      'http://127.0.0.1:8080/hooks',
      'http://hooks.acme.example/nexus',
      'https://127.0.0.1/hooks',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::1]/',
      'https://localhost:8443/',
      'https://10.1.2.3/',
      'https://192.168.0.10/',
      'https://100.64.0.1/',
      'https://169.254.169.254/latest/meta-data',
      'https://metadata.google.internal/',
      'https://user:pass@hooks.acme.example/',
    ]) {
      const res = await subscribe(partner.id, { webhookUrl, events: ['product.created'] });
      expect(res.status, webhookUrl).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { target: 'json', fields: [{ path: 'webhookUrl', code: 'custom' }] },
      });
      expect(res.body.error.message).toMatch(/^webhookUrl must/);
    }
    // The second app, with the flag on, takes the local receiver the first refused.
    const local = await subscribe(
      partner.id,
      { webhookUrl: 'http://127.0.0.1:8080/hooks', events: ['product.created'] },
      privateApp,
    );
    expect(local.status, local.text).toBe(200);
    expect(await auditOf(partner.id)).toHaveLength(1);
  });

  it('refuses a body that is not a subscription with 422', async () => {
    const { partner } = await createPartner();
    for (const [body, field] of [
      [{ webhookUrl: 'not a url', events: ['product.created'] }, 'webhookUrl'],
      [{ webhookUrl: 'ftp://hooks.acme.example/', events: ['product.created'] }, 'webhookUrl'],
      [
        {
          webhookUrl: `https://hooks.acme.example/${'a'.repeat(2048)}`,
          events: ['product.created'],
        },
        'webhookUrl',
      ],
      [{ webhookUrl: subscription.webhookUrl, events: [] }, 'events'],
      [{ webhookUrl: subscription.webhookUrl, events: ['order.paid'] }, 'events.0'],
      [
        { webhookUrl: subscription.webhookUrl, events: ['product.created', 'product.created'] },
        'events',
      ],
      [{ webhookUrl: subscription.webhookUrl }, 'events'],
      [{ ...subscription, secret: 'mine' }, 'secret'],
    ] as const) {
      const res = await subscribe(partner.id, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
    expect((await listed(partner.id)).partner.subscribedEvents).toEqual([]);
  });

  it('answers 404 for an unknown or revoked partner, and a revocation keeps no subscriber', async () => {
    expect((await subscribe(crypto.randomUUID())).status).toBe(404);
    expect((await unsubscribe(crypto.randomUUID())).status).toBe(404);
    const { partner } = await createPartner();
    expect((await subscribe(partner.id)).status).toBe(200);
    const repository = createPartnersRepository(deps.db);
    expect(await repository.subscribersOf('product.created')).toContain(partner.id);
    expect((await asAdmin().delete(`/v1/admin/partners/${partner.id}`)).status).toBe(200);
    expect(await repository.subscribersOf('product.created')).not.toContain(partner.id);
    const revoked = await subscribe(partner.id);
    expect(revoked.status).toBe(404);
    expect(revoked.body.error.code).toBe('NOT_FOUND');
    expect((await unsubscribe(partner.id)).status).toBe(404);
  });
});

describe('the partner.notify handler', () => {
  interface Hit {
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }
  let server: Server;
  let base: string;
  const hits = new Map<string, Hit[]>();
  /** What each path answers: a status, and optionally a body size or headers. */
  const routes: Record<
    string,
    { status: number; bytes?: number; headers?: Record<string, string> }
  > = {
    '/ok': { status: 200 },
    '/huge': { status: 200, bytes: 5 * 1024 * 1024 },
    '/gone': { status: 410 },
    '/broken': { status: 500, bytes: 10 },
    '/moved': { status: 302, headers: { location: '/ok' } },
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        hits.set(path, [
          ...(hits.get(path) ?? []),
          { headers: request.headers, body: Buffer.concat(chunks).toString() },
        ]);
        if (path === '/hang') return;
        const route = routes[path] ?? { status: 404 };
        response.writeHead(route.status, route.headers);
        response.end('x'.repeat(route.bytes ?? 0));
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((closed) => server.close(closed));
  });

  const event = (partnerId: string): JobPayload<'partner.notify'> => ({
    eventId: crypto.randomUUID(),
    event: 'product.created',
    occurredAt: '2026-06-01T09:00:00.000Z',
    data: { id: crypto.randomUUID(), name: 'Walnut desk lamp' },
    partnerId,
  });

  const run = (payload: JobPayload<'partner.notify'>, on: Deps = privateDeps) =>
    partnerNotifyJob(on)({
      key: `${payload.eventId}:${payload.partnerId}`,
      type: 'partner.notify',
      payload,
      message: { id: payload.eventId, type: 'partner.notify', payload },
      messageId: `msg_${crypto.randomUUID()}`,
      attempt: 1,
      progress: async () => {},
      logger: on.logger,
    });

  /** A partner subscribed to product.created at `path` on the local receiver. */
  async function subscribedPartner(path: string, scheme?: 'hmac-sha256' | 'standard-webhooks') {
    const created = await createPartner(scheme);
    const res = await subscribe(
      created.partner.id,
      { webhookUrl: `${base}${path}`, events: ['product.created'] },
      privateApp,
    );
    expect(res.status, res.text).toBe(200);
    return created;
  }

  it('sends the signed event and reads at most 64 KB of a 2xx answer', async () => {
    const { partner } = await subscribedPartner('/huge', 'standard-webhooks');
    const payload = event(partner.id);
    expect(await run(payload)).toEqual({ delivered: true, status: 200 });
    const [hit] = hits.get('/huge') ?? [];
    expect(JSON.parse(hit?.body ?? '')).toEqual({
      id: payload.eventId,
      type: 'product.created',
      occurredAt: payload.occurredAt,
      data: payload.data,
    });
    expect(hit?.headers['webhook-id']).toBe(payload.eventId);
    const outcome = await postEvent(new URL(`${base}/huge`), {}, '{}');
    expect(outcome).toMatchObject({ kind: 'answered', status: 200 });
    expect(maxResponseBytes).toBe(65_536);
  });

  it('skips a partner revoked or no longer subscribed to the event, sending nothing', async () => {
    const revoked = await subscribedPartner('/ok?revoked');
    expect((await asAdmin().delete(`/v1/admin/partners/${revoked.partner.id}`)).status).toBe(200);
    expect(await run(event(revoked.partner.id))).toEqual({
      delivered: false,
      skipped: 'partner-revoked',
    });
    const moved = await subscribedPartner('/ok?moved');
    expect(
      (
        await subscribe(
          moved.partner.id,
          { webhookUrl: `${base}/ok?moved`, events: ['product.deleted'] },
          privateApp,
        )
      ).status,
    ).toBe(200);
    expect(await run(event(moved.partner.id))).toEqual({
      delivered: false,
      skipped: 'not-subscribed',
    });
    expect((await unsubscribe(moved.partner.id)).status).toBe(200);
    expect(await run(event(moved.partner.id))).toEqual({
      delivered: false,
      skipped: 'not-subscribed',
    });
    expect(hits.get('/ok?revoked')).toBeUndefined();
    expect(hits.get('/ok?moved')).toBeUndefined();
  });

  it('refuses for good a stored URL the rules now refuse, before any request', async () => {
    const { partner } = await subscribedPartner('/ok?stored-earlier');
    // The same partner and URL, delivered by a deployment with the flag off.
    const refused = run(event(partner.id), deps);
    await expect(refused).rejects.toBeInstanceOf(PermanentJobError);
    await expect(refused).rejects.toThrow(/webhook URL is refused: it must use https/);
    expect(hits.get('/ok?stored-earlier')).toBeUndefined();
  });

  it('refuses for good a partner with no active secret to sign with', async () => {
    const { partner, secret } = await subscribedPartner('/ok?unsigned');
    const revoke = await asAdmin().delete(`/v1/admin/partners/${partner.id}/secrets/${secret.id}`);
    expect(revoke.status).toBe(200);
    await expect(run(event(partner.id))).rejects.toBeInstanceOf(PermanentJobError);
    expect(hits.get('/ok?unsigned')).toBeUndefined();
  });

  it('dead-letters on 410 Gone, and retries on 5xx, on a redirect and when unreachable', async () => {
    const gone = await subscribedPartner('/gone');
    const goneRun = run(event(gone.partner.id));
    await expect(goneRun).rejects.toBeInstanceOf(PermanentJobError);
    await expect(goneRun).rejects.toThrow(/answered 410 Gone/);

    const retried = async (path: string, message: RegExp) => {
      const { partner } = await subscribedPartner(path);
      const attempt = run(event(partner.id));
      await expect(attempt).rejects.toThrow(message);
      await expect(attempt).rejects.not.toBeInstanceOf(PermanentJobError);
    };
    await retried('/broken', /answered 500: xxxxxxxxxx$/);
    await retried('/moved', /answered 302 \(redirects are not followed\)/);
    expect(hits.get('/moved')).toHaveLength(1);
    expect(hits.get('/ok')).toBeUndefined();

    // Nothing listens on port 9.
    const { partner } = await createPartner();
    await subscribe(
      partner.id,
      { webhookUrl: 'http://127.0.0.1:9/hooks', events: ['product.created'] },
      privateApp,
    );
    await expect(run(event(partner.id))).rejects.toThrow(/127\.0\.0\.1:9 could not be reached/);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    const outcome = await postEvent(new URL(`${base}/hang`), {}, '{}', { timeoutMs: 200 });
    expect(outcome).toEqual({ kind: 'unreachable', reason: 'no answer within 200 ms' });
  });
});

describe("the receiving example of the partners' guide (docs/partner-webhooks.md)", () => {
  it('accepts what partner.notify signs, and refuses another secret or an altered body', async () => {
    const guide = readFileSync(new URL('../../docs/partner-webhooks.md', import.meta.url), 'utf8');
    const example = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((match) => match[1] ?? '')
      .find((block) => block.includes('async function receiveNexusEvent'));
    expect(example).toBeDefined();
    const folder = await mkdtemp(join(tmpdir(), 'partner-guide-receive-'));
    try {
      const file = join(folder, 'receive-nexus-event.ts');
      await writeFile(file, `${example}\nexport { receiveNexusEvent };\n`);
      const { receiveNexusEvent } = (await import(file)) as {
        receiveNexusEvent: (request: Request, secret: string) => Promise<unknown>;
      };
      const secret = 'pws_guide-receiving-example';
      const event = {
        eventId: crypto.randomUUID(),
        event: 'product.updated' as const,
        occurredAt: '2026-06-01T09:00:00.000Z',
        data: { id: crypto.randomUUID(), name: 'Lampe « noyer » "40 W"' },
      };
      const body = outboundBody(event);
      const headers = await signedHeaders(
        'hmac-sha256',
        [secret],
        event,
        Math.floor(Date.now() / 1000),
        body,
      );
      const request = (text: string) =>
        new Request('https://hooks.acme.example/nexus', { method: 'POST', headers, body: text });
      await expect(receiveNexusEvent(request(body), secret)).resolves.toEqual({
        id: event.eventId,
        type: event.event,
        occurredAt: event.occurredAt,
        data: event.data,
      });
      await expect(receiveNexusEvent(request(body), 'pws_another')).rejects.toThrow(
        'bad signature',
      );
      await expect(
        receiveNexusEvent(request(body.replace('40 W', '60 W')), secret),
      ).rejects.toThrow('bad signature');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
