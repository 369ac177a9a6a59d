// OWASP API1:2023, broken object level authorization, on the real Worker: user A knows the ids of
// user B's product, files, direct upload, API key and job, and tries every route that takes one,
// with a session and with a key holding every scope a user can have. Each refusal is the one its
// module documents (403 for products and profiles, whose ids are public; 404 for files, keys and
// jobs, whose ids are not), and B's rows and stored objects are exactly as they were. Objects
// named otherwise than by id are tried too: an Idempotency-Key B used, a partner's webhook
// endpoint signed with another partner's secret, a signed upload URL retargeted at B's upload.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productBody } from '../support/product-fixtures.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import { call, dataOf, type IdentityWorker, startIdentityWorker } from './harness/identity.ts';
import {
  type Actor,
  type CreatedKey,
  createApiKey,
  createPartner,
  deliverPartnerEvent,
  type FileView,
  newActor,
  pdfBytes,
  rowsOf,
  type Send,
  sendAs,
  sendWithKey,
  serverFailures,
  sha256Hex,
  storedFor,
  uploadFiles,
  userScopes,
} from './harness/owasp.ts';

let worker: IdentityWorker;
let attacker: Actor;
let victim: Actor;
/** B's things, by id. */
const victims = {
  productId: '',
  fileId: '',
  uploadId: '',
  keyId: '',
  key: '',
  avatarId: '',
  jobId: '',
};
let attackerKey: CreatedKey;

beforeAll(async () => {
  worker = await startIdentityWorker();
  [attacker, victim] = await Promise.all([newActor(worker, 'bola-a'), newActor(worker, 'bola-b')]);
  const asVictim = sendAs(worker, victim);
  victims.productId = (
    await dataOf<{ id: string }>(await asVictim('POST', '/v1/products', productBody()), 201)
  ).id;
  const [file] = await dataOf<FileView[]>(
    await uploadFiles(worker, victim, [{ name: 'payslip.pdf', bytes: pdfBytes() }]),
    201,
  );
  victims.fileId = file?.id ?? '';
  const announced = pdfBytes(2_000);
  victims.uploadId = (
    await dataOf<{ file: FileView }>(
      await asVictim('POST', '/v1/files/uploads', {
        name: 'contract.pdf',
        size: announced.byteLength,
        sha256: sha256Hex(announced),
      }),
      201,
    )
  ).file.id;
  const key = await createApiKey(worker, victim, ['profile:read']);
  victims.keyId = key.id;
  victims.key = key.key;
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#226' } })
    .png()
    .toBuffer();
  const avatar = await dataOf<FileView>(
    await uploadFiles(
      worker,
      victim,
      [{ name: 'me.png', bytes: new Uint8Array(png) }],
      '/v1/users/me/avatar',
      'avatar',
    ),
    202,
  );
  victims.avatarId = avatar.id;
  // The avatar's dispatch job is B's: its status is recorded once it is published.
  victims.jobId = `${avatar.id}:avatar.dispatch`;
  await eventually('the avatar job recorded as pending', async () => {
    const response = await asVictim('GET', `/v1/jobs/${victims.jobId}`);
    return response.status === 200 ? response : undefined;
  });
  attackerKey = await createApiKey(worker, attacker, userScopes);
});

afterAll(async () => {
  await worker?.close();
});

/** Everything of B's that no attack may change: their rows and the objects under their prefix. */
async function victimState() {
  const owned = (sql: string) => rowsOf(worker, sql, [victim.id]);
  return {
    user: await owned('SELECT * FROM users WHERE id = ?'),
    // Not last_used_at: written after the response whenever B uses the key.
    keys: await owned(
      'SELECT id, name, key_hash, scopes, expires_at, revoked_at FROM api_keys WHERE user_id = ?',
    ),
    products: await owned('SELECT * FROM products WHERE owner_id = ?'),
    files: await owned('SELECT * FROM files WHERE owner_id = ? ORDER BY id'),
    stored: await storedFor(worker, victim.id),
  };
}

interface Credential {
  send: () => Send;
  /** Key management takes a session: a key is refused before any key is looked up. */
  revokeRefusal: [number, string];
}

const credentials: [string, Credential][] = [
  ['a session', { send: () => sendAs(worker, attacker), revokeRefusal: [404, 'NOT_FOUND'] }],
  [
    'an API key with every scope of a user',
    {
      send: () => sendWithKey(worker, attacker, attackerKey.key),
      revokeRefusal: [403, 'FORBIDDEN'],
    },
  ],
];

describe.each(credentials)("user A, with %s, and user B's objects", (_credential, credential) => {
  const attackerSend = credential.send;

  it("refuses changing, deleting and restoring B's listed product with 403, and leaves it", async () => {
    const as = attackerSend();
    const before = await victimState();
    const path = `/v1/products/${victims.productId}`;
    for (const refused of [
      await as('PATCH', path, { price: { amount: 1, currency: 'EUR' } }),
      await as('DELETE', path),
      await as('POST', `${path}/restore`),
    ]) {
      await expectErrorEnvelope(refused, 403, 'FORBIDDEN');
    }
    // Anyone may read a listed product: its id is public, so the 403 above tells nothing new.
    expect((await dataOf<{ id: string }>(await as('GET', path), 200)).id).toBe(victims.productId);
    // Neither the export nor the deleted rows of someone else's catalogue.
    await expectErrorEnvelope(
      await as('GET', `/v1/products/export?ownerId=${victim.id}`),
      403,
      'FORBIDDEN',
    );
    await expectErrorEnvelope(
      await as('GET', `/v1/products?ownerId=${victim.id}&includeDeleted=true`),
      403,
      'FORBIDDEN',
    );
    expect(await victimState()).toEqual(before);
  });

  it("answers 404 for B's deleted product, as for one that does not exist, and leaves it deleted", async () => {
    const as = attackerSend();
    const asVictim = sendAs(worker, victim);
    const path = `/v1/products/${victims.productId}`;
    await dataOf(await asVictim('DELETE', path), 200);
    try {
      const before = await victimState();
      for (const refused of [
        await as('GET', path),
        await as('PATCH', path, { name: 'Taken over' }),
        await as('DELETE', path),
        await as('POST', `${path}/restore`),
      ]) {
        await expectErrorEnvelope(refused, 404, 'NOT_FOUND');
      }
      // Deleted products are for products:admin, asked for before anything is looked up.
      await expectErrorEnvelope(await as('GET', `${path}?includeDeleted=true`), 403, 'FORBIDDEN');
      expect(await victimState()).toEqual(before);
    } finally {
      await dataOf(await asVictim('POST', `${path}/restore`), 200);
    }
  });

  it("answers 404 for B's file, its content and its deletion, as for a file that does not exist", async () => {
    const as = attackerSend();
    const before = await victimState();
    const missing = crypto.randomUUID();
    for (const id of [victims.fileId, victims.avatarId, missing]) {
      for (const refused of [
        await as('GET', `/v1/files/${id}`),
        await as('DELETE', `/v1/files/${id}`),
      ]) {
        const body = await expectErrorEnvelope(refused, 404, 'NOT_FOUND');
        expect(body.error.message).toBe('File not found');
      }
    }
    // A pending avatar is its owner's alone: only a ready one is public.
    for (const id of [victims.fileId, victims.avatarId]) {
      await expectErrorEnvelope(await as('GET', `/v1/files/${id}/content`), 404, 'NOT_FOUND');
    }
    // A's list is A's own: none of B's files.
    const listed = await as('GET', '/v1/files?limit=100');
    const text = await listed.text();
    expect(listed.status).toBe(200);
    for (const id of [victims.fileId, victims.avatarId, victims.uploadId]) {
      expect(text).not.toContain(id);
    }
    expect(await victimState()).toEqual(before);
  });

  it("refuses completing B's direct upload with 404, and it stays B's, uploading", async () => {
    const as = attackerSend();
    const before = await victimState();
    await expectErrorEnvelope(
      await as('POST', `/v1/files/uploads/${victims.uploadId}/complete`),
      404,
      'NOT_FOUND',
    );
    expect(await victimState()).toEqual(before);
    const [upload] = await rowsOf(worker, 'SELECT owner_id, status FROM files WHERE id = ?', [
      victims.uploadId,
    ]);
    expect(upload).toEqual({ owner_id: victim.id, status: 'uploading' });
  });

  it("refuses revoking B's API key, and the key keeps working", async () => {
    const as = attackerSend();
    const before = await victimState();
    const [status, code] = credential.revokeRefusal;
    await expectErrorEnvelope(await as('DELETE', `/v1/api-keys/${victims.keyId}`), status, code);
    expect(await victimState()).toEqual(before);
    const me = await call(worker, 'GET', '/v1/me', { apiKey: victims.key, ip: victim.ip });
    expect((await dataOf<{ id: string }>(me, 200)).id).toBe(victim.id);
  });

  it("answers 404 for B's job, word for word as for a job that does not exist", async () => {
    const as = attackerSend();
    const theirs = await expectErrorEnvelope(
      await as('GET', `/v1/jobs/${victims.jobId}`),
      404,
      'NOT_FOUND',
    );
    const none = await expectErrorEnvelope(
      await as('GET', `/v1/jobs/${crypto.randomUUID()}:avatar.dispatch`),
      404,
      'NOT_FOUND',
    );
    expect(theirs.error).toEqual(none.error);
  });

  it("shows B's public profile only, and refuses B's private data and changes to it with 403", async () => {
    const as = attackerSend();
    const before = await victimState();
    const profile = await as('GET', `/v1/users/${victim.id}`);
    const text = await profile.text();
    expect(profile.status).toBe(200);
    expect(Object.keys(JSON.parse(text).data).sort()).toEqual([
      'avatar',
      'createdAt',
      'id',
      'name',
    ]);
    expect(text).not.toContain(victim.email);

    for (const refused of [
      await as('GET', `/v1/admin/users/${victim.id}`),
      await as('PATCH', `/v1/users/${victim.id}`, { name: 'Renamed by A' }),
      await as('PATCH', `/v1/admin/users/${victim.id}`, { email: 'attacker@e2e.test' }),
      await as('DELETE', `/v1/admin/users/${victim.id}`),
    ]) {
      await expectErrorEnvelope(refused, 403, 'FORBIDDEN');
    }
    // Searching by B's email finds nobody: only names are matched for a user.
    const found = await dataOf<{ id: string }[]>(
      await as('GET', `/v1/users/search?q=${encodeURIComponent(victim.email)}`),
      200,
    );
    expect(found).toEqual([]);
    expect(await victimState()).toEqual(before);
  });
});

describe('an Idempotency-Key B used', () => {
  it("gives A a creation of A's own, never B's stored answer", async () => {
    const idempotencyKey = crypto.randomUUID();
    const body = productBody({ name: 'Shared key lamp' });
    const send = (actor: Actor) =>
      call(worker, 'POST', '/v1/products', {
        token: actor.token,
        ip: actor.ip,
        body,
        headers: { 'idempotency-key': idempotencyKey },
      });
    const theirs = await dataOf<{ id: string }>(await send(victim), 201);
    const response = await send(attacker);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    const mine = await dataOf<{ id: string; owner: { id: string } }>(response, 201);
    expect(mine.id).not.toBe(theirs.id);
    expect(mine.owner.id).toBe(attacker.id);
  });
});

describe("partner A's signature on partner B's endpoint", () => {
  it('is refused with 401 SIGNATURE_INVALID, and B receives no event', async () => {
    const admin = await newActor(worker, 'bola-admin', { admin: true });
    const [partnerA, partnerB] = await Promise.all([
      createPartner(worker, admin, 'BOLA partner A'),
      createPartner(worker, admin, 'BOLA partner B'),
    ]);
    const event = JSON.stringify({ id: 'evt_1', type: 'order.paid', data: { orderId: 'o_1' } });
    const deliver = (partnerId: string, secret: string) =>
      deliverPartnerEvent(worker, partnerId, secret, event, attacker.ip);
    await expectErrorEnvelope(
      await deliver(partnerB.partner.id, partnerA.secret.secret),
      401,
      'SIGNATURE_INVALID',
    );
    const events = (partnerId: string) =>
      rowsOf(worker, 'SELECT event_id FROM partner_events WHERE partner_id = ?', [partnerId]);
    expect(await events(partnerB.partner.id)).toEqual([]);
    // The control: A's own endpoint takes A's signature.
    await dataOf(await deliver(partnerA.partner.id, partnerA.secret.secret), 202);
    expect(await events(partnerA.partner.id)).toEqual([{ event_id: 'evt_1' }]);
  });
});

describe("A's upload named into B's folder", () => {
  it("is stored under A's own prefix: storage keys never come from names", async () => {
    const before = await victimState();
    const [file] = await dataOf<FileView[]>(
      await uploadFiles(worker, attacker, [
        { name: `../../users/${victim.id}/payslip.pdf`, bytes: pdfBytes() },
      ]),
      201,
    );
    expect(file?.name).toBe('payslip.pdf');
    expect(await storedFor(worker, attacker.id)).toHaveLength(1);
    expect(await victimState()).toEqual(before);
  });
});

describe("A's signed upload URL", () => {
  it("is refused with 401 when pointed at B's direct upload, and B's upload takes nothing", async () => {
    const before = await victimState();
    const bytes = pdfBytes(2_000);
    const own = await dataOf<{ upload: { url: string; headers: Record<string, string> } }>(
      await sendAs(worker, attacker)('POST', '/v1/files/uploads', {
        name: 'mine.pdf',
        size: bytes.byteLength,
        sha256: sha256Hex(bytes),
      }),
      201,
    );
    const url = new URL(own.upload.url);
    const retargeted = url.pathname.replace(/\/uploads\/[^/]+\//, `/uploads/${victims.uploadId}/`);
    expect(retargeted).not.toBe(url.pathname);
    const refused = await worker.fetch(`${retargeted}${url.search}`, {
      method: 'PUT',
      headers: { ...own.upload.headers, 'cf-connecting-ip': attacker.ip },
      body: bytes,
    });
    await expectErrorEnvelope(refused, 401, 'SIGNATURE_INVALID');
    expect(await victimState()).toEqual(before);
  });
});

describe("user B's own access, the control", () => {
  it('reads and downloads the file and reads the job A was refused', async () => {
    const asVictim = sendAs(worker, victim);
    expect(
      (await dataOf<FileView>(await asVictim('GET', `/v1/files/${victims.fileId}`), 200)).id,
    ).toBe(victims.fileId);
    const content = await asVictim('GET', `/v1/files/${victims.fileId}/content`);
    expect(content.status).toBe(200);
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(pdfBytes());
    const job = await dataOf<{ id: string }>(
      await asVictim('GET', `/v1/jobs/${victims.jobId}`),
      200,
    );
    expect(job.id).toBe(victims.jobId);
    const me = await dataOf<{ email: string }>(await asVictim('GET', '/v1/me'), 200);
    expect(me.email).toBe(victim.email);
  });
});

it('answered none of it with a 5xx, and logged no error', () => {
  expect(serverFailures(worker)).toEqual([]);
});
