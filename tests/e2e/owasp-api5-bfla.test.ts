// OWASP API5:2023, broken function level authorization, on the real Worker: every administrator's
// function (the admin users API and export, product administration, partners, the dead-letter
// queue, metrics) is called by a user's session, by a user's key holding every scope a user can
// have, and by an administrator's key without the function's scope. The first two are refused
// 403 FORBIDDEN (the role lacks the permission), the third 403 SCOPE_MISSING, each naming the
// permission, and nothing changes. Other users' files and jobs, which files:admin and jobs:manage
// reach, stay missing (404) to a key without those scopes. A key's scopes are fixed at its
// creation and bounded by its owner's role at each request: a promotion does not widen a user's
// key, a demotion narrows an administrator's at once. The routes meant for QStash and the Node
// worker take a signature, never a session.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import { dataOf, type IdentityWorker, login, startIdentityWorker } from './harness/identity.ts';
import {
  type Actor,
  createApiKey,
  createPartner,
  newActor,
  pdfBytes,
  rowsOf,
  type Send,
  sendAs,
  sendWithKey,
  serverFailures,
  uploadFiles,
  userScopes,
} from './harness/owasp.ts';

let worker: IdentityWorker;
let user: Actor;
let admin: Actor;
let target: Actor;
let partnerId: string;
let secretId: string;
const deadJobId = `${crypto.randomUUID()}:email.welcome`;

beforeAll(async () => {
  worker = await startIdentityWorker();
  [user, admin, target] = await Promise.all([
    newActor(worker, 'bfla-user'),
    newActor(worker, 'bfla-admin', { admin: true }),
    newActor(worker, 'bfla-target'),
  ]);
  const created = await createPartner(worker, admin, 'BFLA partner');
  partnerId = created.partner.id;
  secretId = created.secret.id;
  // A job QStash gave up on, as its failure callback records it.
  await worker.db.execute({
    sql: `INSERT INTO dead_jobs (id, type, message, message_id, retried, failed_at)
          VALUES (?, 'email.welcome', ?, 'msg_bfla', 3, ?)`,
    args: [
      deadJobId,
      JSON.stringify({ type: 'email.welcome', payload: { to: target.email, name: target.name } }),
      Date.now(),
    ],
  });
});

afterAll(async () => {
  await worker?.close();
});

/** Every administrator's function, with the permission it takes and a valid body where it has one. */
function adminFunctions(): [string, string, string, unknown?][] {
  const partner = `/v1/admin/partners/${partnerId}`;
  const dead = `/v1/admin/jobs/dead/${encodeURIComponent(deadJobId)}`;
  const users = `/v1/admin/users/${target.id}`;
  return [
    ['users:admin', 'GET', '/v1/admin/users'],
    ['users:admin', 'GET', '/v1/admin/users/counts'],
    ['users:admin', 'GET', '/v1/admin/users/export'],
    ['users:admin', 'GET', users],
    ['users:admin', 'PATCH', users, { name: 'Renamed by a user' }],
    ['users:admin', 'DELETE', users],
    ['users:admin', 'POST', `${users}/restore`],
    ['users:admin', 'PATCH', `${users}/role`, { role: 'admin' }],
    ['users:admin', 'PATCH', `/v1/users/${target.id}`, { name: 'Renamed by a user' }],
    ['products:admin', 'GET', '/v1/admin/products/analytics'],
    ['products:admin', 'GET', '/v1/products?includeDeleted=true'],
    ['partners:manage', 'GET', '/v1/admin/partners'],
    ['partners:manage', 'POST', '/v1/admin/partners', { name: 'Rogue', scheme: 'hmac-sha256' }],
    ['partners:manage', 'POST', `${partner}/secrets`, { graceHours: 0 }],
    ['partners:manage', 'DELETE', `${partner}/secrets/${secretId}`],
    [
      'partners:manage',
      'PUT',
      `${partner}/subscription`,
      { webhookUrl: 'https://attacker.example/hook', events: ['product.created'] },
    ],
    ['partners:manage', 'DELETE', `${partner}/subscription`],
    ['partners:manage', 'DELETE', partner],
    ['jobs:manage', 'GET', '/v1/admin/jobs/dead'],
    ['jobs:manage', 'GET', dead],
    ['jobs:manage', 'POST', `${dead}/requeue`],
    ['jobs:manage', 'DELETE', dead],
    ['metrics:read', 'GET', '/metrics'],
  ];
}

/** What only administrators may change. */
async function adminState() {
  return {
    users: await rowsOf(worker, 'SELECT * FROM users ORDER BY id'),
    partners: await rowsOf(worker, 'SELECT * FROM partners ORDER BY id'),
    secrets: await rowsOf(worker, 'SELECT * FROM partner_secrets ORDER BY id'),
    deadJobs: await rowsOf(worker, 'SELECT * FROM dead_jobs ORDER BY id'),
  };
}

async function expectEveryFunctionRefused(send: Send, code: 'FORBIDDEN' | 'SCOPE_MISSING') {
  const before = await adminState();
  for (const [permission, method, path, body] of adminFunctions()) {
    const refused = await expectErrorEnvelope(await send(method, path, body), 403, code);
    expect(refused.error.details, `${method} ${path}`).toEqual({ permission });
  }
  expect(await adminState()).toEqual(before);
}

describe("an administrator's function", () => {
  it('is refused to a user’s session: 403 FORBIDDEN naming the permission', async () => {
    await expectEveryFunctionRefused(sendAs(worker, user), 'FORBIDDEN');
  });

  it('is refused to a user’s key with every scope a user can have: 403 FORBIDDEN', async () => {
    const key = await createApiKey(worker, user, userScopes);
    await expectEveryFunctionRefused(sendWithKey(worker, user, key.key), 'FORBIDDEN');
  });

  it('is refused to an administrator’s key without its scope: 403 SCOPE_MISSING', async () => {
    const key = await createApiKey(worker, admin, userScopes);
    await expectEveryFunctionRefused(sendWithKey(worker, admin, key.key), 'SCOPE_MISSING');
  });

  it('is refused to a key holding another administrator’s scope', async () => {
    const key = await createApiKey(worker, admin, ['users:admin']);
    const send = sendWithKey(worker, admin, key.key);
    for (const [permission, method, path, body] of adminFunctions()) {
      if (permission === 'users:admin') continue;
      const refused = await expectErrorEnvelope(
        await send(method, path, body),
        403,
        'SCOPE_MISSING',
      );
      expect(refused.error.details).toEqual({ permission });
    }
    // The scope it holds works: the refusals are the scopes', not the key's.
    await dataOf(await send('GET', '/v1/admin/users/counts'), 200);
  });

  it('is refused to anyone without credentials: 401', async () => {
    const anonymous: Send = (method, path, body) =>
      worker.fetch(path, {
        method,
        headers: { 'cf-connecting-ip': user.ip, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    for (const [, method, path, body] of adminFunctions()) {
      if (path.includes('includeDeleted')) continue;
      await expectErrorEnvelope(await anonymous(method, path, body), 401, 'UNAUTHORIZED');
    }
  });

  it('is answered to an administrator’s session and to a key with its scope: the control', async () => {
    const asAdmin = sendAs(worker, admin);
    for (const path of [
      '/v1/admin/users/counts',
      '/v1/admin/partners',
      `/v1/admin/jobs/dead/${encodeURIComponent(deadJobId)}`,
      '/v1/admin/products/analytics',
    ]) {
      await dataOf(await asAdmin('GET', path), 200);
    }
    const scraper = await createApiKey(worker, admin, ['metrics:read']);
    const metrics = await sendWithKey(worker, admin, scraper.key)('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('http_requests_total');
  });

  it('cannot be reached by sending the admin flag twice or in another spelling', async () => {
    const asUser = sendAs(worker, user);
    for (const query of [
      'includeDeleted=false&includeDeleted=true',
      'includeDeleted=TRUE',
      'includeDeleted=1',
    ]) {
      const response = await asUser('GET', `/v1/products?${query}`);
      await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
    }
  });
});

describe("another user's objects behind an administrator's scope", () => {
  it('are missing (404) to an administrator’s key without files:admin or jobs:manage, found with it', async () => {
    const [document] = await dataOf<{ id: string }[]>(
      await uploadFiles(worker, target, [{ name: 'private.pdf', bytes: pdfBytes() }]),
      201,
    );
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#363' } })
      .png()
      .toBuffer();
    const avatar = await dataOf<{ id: string }>(
      await uploadFiles(
        worker,
        target,
        [{ name: 'me.png', bytes: new Uint8Array(png) }],
        '/v1/users/me/avatar',
        'avatar',
      ),
      202,
    );
    const job = `/v1/jobs/${avatar.id}:avatar.dispatch`;
    await eventually('the avatar job recorded', async () => {
      const response = await sendAs(worker, target)('GET', job);
      return response.status === 200 ? true : undefined;
    });
    const file = `/v1/files/${document?.id}`;
    const before = await rowsOf(worker, 'SELECT * FROM files WHERE owner_id = ? ORDER BY id', [
      target.id,
    ]);

    const narrow = sendWithKey(worker, admin, (await createApiKey(worker, admin, userScopes)).key);
    for (const [method, path] of [
      ['GET', file],
      ['GET', `${file}/content`],
      ['DELETE', file],
      ['GET', job],
    ] as const) {
      await expectErrorEnvelope(await narrow(method, path), 404, 'NOT_FOUND');
    }
    expect(
      await rowsOf(worker, 'SELECT * FROM files WHERE owner_id = ? ORDER BY id', [target.id]),
    ).toEqual(before);

    const wide = sendWithKey(
      worker,
      admin,
      (await createApiKey(worker, admin, ['files:read', 'files:admin', 'jobs:manage'])).key,
    );
    await dataOf(await wide('GET', file), 200);
    await dataOf(await wide('GET', job), 200);
  });

  it('are matched by email in a user search only with users:read, which a key may leave out', async () => {
    const search = `/v1/users/search?q=${encodeURIComponent(target.email)}`;
    const byName = await createApiKey(worker, admin, ['users:search']);
    const found = async (key: string) =>
      dataOf<{ id: string }[]>(await sendWithKey(worker, admin, key)('GET', search), 200);
    expect(await found(byName.key)).toEqual([]);
    const byEmail = await createApiKey(worker, admin, ['users:search', 'users:read']);
    expect((await found(byEmail.key)).map(({ id }) => id)).toEqual([target.id]);
  });

  it('include deleted products in an export only for products:admin: 403 for a user', async () => {
    await expectErrorEnvelope(
      await sendAs(worker, user)('GET', '/v1/products/export?includeDeleted=true'),
      403,
      'FORBIDDEN',
    );
  });
});

describe('a key across role changes', () => {
  it('made by a user keeps its scopes after the user is promoted: 403 SCOPE_MISSING', async () => {
    const riser = await newActor(worker, 'bfla-riser');
    const key = await createApiKey(worker, riser, userScopes);
    await dataOf(
      await sendAs(worker, admin)('PATCH', `/v1/admin/users/${riser.id}/role`, { role: 'admin' }),
      200,
    );
    const refused = await expectErrorEnvelope(
      await sendWithKey(worker, riser, key.key)('GET', '/v1/admin/users'),
      403,
      'SCOPE_MISSING',
    );
    expect(refused.error.details).toEqual({ permission: 'users:admin' });
  });

  it('made by an administrator loses its admin scopes the moment its owner is demoted', async () => {
    const faller = await newActor(worker, 'bfla-faller', { admin: true });
    const key = await createApiKey(worker, faller, ['users:admin', 'profile:read']);
    const asKey = sendWithKey(worker, faller, key.key);
    await dataOf(await asKey('GET', '/v1/admin/users/counts'), 200);

    await dataOf(
      await sendAs(worker, admin)('PATCH', `/v1/admin/users/${faller.id}/role`, { role: 'user' }),
      200,
    );
    const refused = await expectErrorEnvelope(
      await asKey('GET', '/v1/admin/users/counts'),
      403,
      'FORBIDDEN',
    );
    expect(refused.error.details).toEqual({ permission: 'users:admin' });
    await dataOf(await asKey('GET', '/v1/me'), 200);
    // Their admin session ended with the role; a new one is a user's.
    await expectErrorEnvelope(await sendAs(worker, faller)('GET', '/v1/me'), 401, 'UNAUTHORIZED');
    const session = await login(worker, faller);
    await expectErrorEnvelope(
      await sendAs(worker, { ...faller, token: session.accessToken })('GET', '/v1/admin/users'),
      403,
      'FORBIDDEN',
    );
  });
});

describe('the routes meant for QStash and the Node worker', () => {
  it('refuse an administrator’s session without their signature: 401', async () => {
    const asAdmin = sendAs(worker, admin);
    const before = await adminState();
    await expectErrorEnvelope(
      await asAdmin('POST', '/jobs/email.welcome', { type: 'email.welcome', payload: {} }),
      401,
      'SIGNATURE_MISSING',
    );
    await expectErrorEnvelope(await asAdmin('POST', '/jobs/failed', {}), 401, 'SIGNATURE_MISSING');
    const fileId = crypto.randomUUID();
    await expectErrorEnvelope(
      await asAdmin('GET', `/v1/files/${fileId}/source`),
      401,
      'SIGNATURE_MISSING',
    );
    await expectErrorEnvelope(
      await asAdmin('PUT', `/v1/files/${fileId}/rendition`),
      401,
      'SIGNATURE_MISSING',
    );
    expect(await adminState()).toEqual(before);
  });
});

it('answered none of it with a 5xx, and logged no error', () => {
  expect(serverFailures(worker)).toEqual([]);
});
