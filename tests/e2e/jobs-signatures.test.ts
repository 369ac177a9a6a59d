// Signed endpoints refuse what QStash or a partner did not sign, with 401 and a code naming the
// check that failed, and do nothing; a delivery signed with QStash's next key passes (rotation).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './harness/eventually.ts';
import { type Account, call, dataOf, register } from './harness/identity.ts';
import {
  adminSession,
  expectRefusal,
  type JobsSystem,
  startJobsSystem,
} from './harness/jobs-system.ts';

let system: JobsSystem;
let user: Account;

beforeAll(async () => {
  system = await startJobsSystem();
  user = await register(system, 'signed');
}, 60_000);

afterAll(async () => {
  await system?.close();
}, 60_000);

function auditJob(eventId = crypto.randomUUID()) {
  return {
    eventId,
    body: JSON.stringify({
      id: `${eventId}:audit.record`,
      type: 'audit.record',
      payload: {
        eventId,
        event: 'user.email-verified',
        userId: user.id,
        occurredAt: new Date().toISOString(),
      },
    }),
  };
}

async function auditRows(eventId: string): Promise<number> {
  const { rows } = await system.db.execute({
    sql: 'SELECT count(*) AS n FROM audit_logs WHERE id = ?',
    args: [eventId],
  });
  return Number(rows[0]?.n);
}

const wrongKey = 'sig_3mWQqzrEvcZR5aT1iCLcbbK8HnpQ';

describe('QStash deliveries to the edge (/jobs/audit.record)', () => {
  const url = () => `${system.edgeUrl}/jobs/audit.record`;
  const post = (delivery: { headers: Record<string, string>; body: string }) =>
    fetch(url(), { method: 'POST', ...delivery });

  it('refuses a tampered body with SIGNATURE_BODY_MISMATCH and records nothing', async () => {
    const signed = auditJob();
    const tampered = auditJob();
    const delivery = system.signedDelivery(url(), signed.body);
    await expectRefusal(
      await post({ ...delivery, body: tampered.body }),
      401,
      'SIGNATURE_BODY_MISMATCH',
    );
    expect(await auditRows(signed.eventId)).toBe(0);
    expect(await auditRows(tampered.eventId)).toBe(0);
  });

  it('refuses a signature made with another key with SIGNATURE_INVALID', async () => {
    const job = auditJob();
    await expectRefusal(
      await post(system.signedDelivery(url(), job.body, { signingKey: wrongKey })),
      401,
      'SIGNATURE_INVALID',
    );
    expect(await auditRows(job.eventId)).toBe(0);
  });

  it('refuses an expired token with SIGNATURE_EXPIRED', async () => {
    const job = auditJob();
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    await expectRefusal(
      await post(system.signedDelivery(url(), job.body, { nowMs: tenMinutesAgo })),
      401,
      'SIGNATURE_EXPIRED',
    );
    expect(await auditRows(job.eventId)).toBe(0);
  });

  it('refuses a token signed for another URL with SIGNATURE_WRONG_URL', async () => {
    const job = auditJob();
    const otherUrl = `${system.edgeUrl}/jobs/maintenance.housekeeping`;
    const delivery = system.signedDelivery(url(), job.body, { signedUrl: otherUrl });
    const requestId = 'e2e-qstash-wrong-url-0001';
    await expectRefusal(
      await post({ ...delivery, headers: { ...delivery.headers, 'x-request-id': requestId } }),
      401,
      'SIGNATURE_WRONG_URL',
    );
    expect(await auditRows(job.eventId)).toBe(0);
    // The operator's log names the failed check, as the sender's envelope does.
    expect(await system.logs.requestLine(requestId)).toMatchObject({
      status: 401,
      errorCode: 'SIGNATURE_WRONG_URL',
    });
  });

  it('refuses a delivery with no signature with SIGNATURE_MISSING', async () => {
    const job = auditJob();
    await expectRefusal(
      await fetch(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: job.body,
      }),
      401,
      'SIGNATURE_MISSING',
    );
    expect(await auditRows(job.eventId)).toBe(0);
  });

  it('accepts a delivery signed with the next key, once', async () => {
    const job = auditJob();
    const nextKey = system.stackEnv.QSTASH_NEXT_SIGNING_KEY;
    const first = await post(system.signedDelivery(url(), job.body, { signingKey: nextKey }));
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toMatchObject({ success: true, data: { duplicate: false } });
    expect(await auditRows(job.eventId)).toBe(1);

    const again = await post(system.signedDelivery(url(), job.body, { signingKey: nextKey }));
    expect(await again.json()).toMatchObject({ success: true, data: { duplicate: true } });
    expect(await auditRows(job.eventId)).toBe(1);
  });
});

describe('a scheduled delivery (no job id, keyed by its message id)', () => {
  const url = () => `${system.edgeUrl}/jobs/maintenance.token-cleanup`;
  const body = JSON.stringify({ type: 'maintenance.token-cleanup', payload: {} });
  const post = (delivery: { headers: Record<string, string>; body: string }) =>
    fetch(url(), { method: 'POST', ...delivery });

  it('refuses a captured delivery sent again under another message id with SIGNATURE_REPLAYED', async () => {
    const captured = system.signedDelivery(url(), body);
    const first = await post(captured);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.json()).toMatchObject({ data: { duplicate: false } });

    const replayed = {
      ...captured,
      headers: { ...captured.headers, 'upstash-message-id': `msg_e2e_${crypto.randomUUID()}` },
    };
    await expectRefusal(await post(replayed), 401, 'SIGNATURE_REPLAYED');
    // The very same request again, header and all, is no better.
    await expectRefusal(await post(captured), 401, 'SIGNATURE_REPLAYED');
  });

  it("still knows QStash's own retry of a firing, signed anew, as a duplicate", async () => {
    const firing = system.signedDelivery(url(), body);
    expect((await post(firing)).status).toBe(200);
    const retry = system.signedDelivery(url(), body);
    retry.headers['upstash-message-id'] = firing.headers['upstash-message-id'] ?? '';
    const answer = await post(retry);
    expect(answer.status, await answer.clone().text()).toBe(200);
    expect(await answer.json()).toMatchObject({ data: { duplicate: true } });
  });
});

describe('QStash deliveries to the Node worker (/jobs/email.welcome)', () => {
  const url = () => `${system.workerUrl}/jobs/email.welcome`;
  const welcome = (to: string) =>
    JSON.stringify({
      id: `welcome-${crypto.randomUUID()}`,
      type: 'email.welcome',
      payload: { to, name: 'Signed Reader' },
    });

  it('refuses tampered, foreign-key, expired and misaddressed deliveries; sends nothing', async () => {
    const to = `refused-${crypto.randomUUID().slice(0, 8)}@e2e.test`;
    const body = welcome(to);
    const tampered = system.signedDelivery(url(), body);
    const cases: [{ headers: Record<string, string>; body: string }, string][] = [
      [
        { ...tampered, body: body.replace('Signed Reader', 'Evil Reader') },
        'SIGNATURE_BODY_MISMATCH',
      ],
      [system.signedDelivery(url(), body, { signingKey: wrongKey }), 'SIGNATURE_INVALID'],
      [
        system.signedDelivery(url(), body, { nowMs: Date.now() - 10 * 60_000 }),
        'SIGNATURE_EXPIRED',
      ],
      [
        system.signedDelivery(url(), body, { signedUrl: `${system.edgeUrl}/jobs/email.welcome` }),
        'SIGNATURE_WRONG_URL',
      ],
    ];
    for (const [delivery, code] of cases) {
      await expectRefusal(await fetch(url(), { method: 'POST', ...delivery }), 401, code);
    }
    expect(system.smtp.to(to)).toEqual([]);
  });

  it('sends the email for a delivery signed with the next key', async () => {
    const to = `next-key-${crypto.randomUUID().slice(0, 8)}@e2e.test`;
    const delivery = system.signedDelivery(url(), welcome(to), {
      signingKey: system.stackEnv.QSTASH_NEXT_SIGNING_KEY,
    });
    const response = await fetch(url(), { method: 'POST', ...delivery });
    expect(response.status, await response.text()).toBe(200);
    await system.smtp.waitFor(() => system.smtp.to(to).length === 1);
    expect(system.smtp.to(to)[0]?.text).toContain('Signed Reader');
  });
});

/** A partner as an admin registers it: its id and its secret, shown once. */
async function createPartner(name: string) {
  const admin = await adminSession(system);
  const created = await dataOf<{ partner: { id: string }; secret: { secret: string } }>(
    await call(system, 'POST', '/v1/admin/partners', {
      token: admin.token,
      ip: admin.ip,
      body: { name: `${name} ${crypto.randomUUID().slice(0, 8)}`, scheme: 'hmac-sha256' },
    }),
    201,
  );
  return { id: created.partner.id, secret: created.secret.secret };
}

/**
 * Sends `sent` to the partner's endpoint with the signature of `signed` (the same body unless a
 * test tampers with it), made by the partner guide's recipe: hex HMAC-SHA-256 over
 * `${timestamp}.${raw body}`.
 */
function sendSigned(
  partner: { id: string; secret: string },
  signed: string,
  timestamp: string,
  sent = signed,
) {
  const signature = createHmac('sha256', partner.secret)
    .update(`${timestamp}.${signed}`)
    .digest('hex');
  return fetch(`${system.edgeUrl}/webhooks/partners/${partner.id}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-timestamp': timestamp,
      'x-signature': signature,
    },
    body: sent,
  });
}

const nowSeconds = () => String(Math.floor(Date.now() / 1000));

describe('partner webhooks', () => {
  it('accept a signed event with 202 and refuse its replay with SIGNATURE_REPLAYED', {
    timeout: 60_000,
  }, async () => {
    const partner = await createPartner('Acme');
    const body = JSON.stringify({ id: 'evt_e2e_1', type: 'invoice.paid', data: { amount: 42 } });
    const timestamp = nowSeconds();
    const send = () => sendSigned(partner, body, timestamp);
    const events = async () => {
      const { rows } = await system.db.execute({
        sql: 'SELECT processed_at FROM partner_events WHERE partner_id = ? AND event_id = ?',
        args: [partner.id, 'evt_e2e_1'],
      });
      return rows;
    };

    const accepted = await send();
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    expect(await accepted.json()).toMatchObject({
      success: true,
      data: { eventId: 'evt_e2e_1', duplicate: false },
    });
    await expectRefusal(await send(), 401, 'SIGNATURE_REPLAYED');
    expect(await events()).toHaveLength(1);

    // The event is processed by a queued job, delivered by QStash to the edge.
    await eventually('the partner event is processed', async () => {
      const [row] = await events();
      return row?.processed_at === null ? undefined : row;
    });
    expect(await events()).toHaveLength(1);
  });

  it('refuses a tampered partner body with 401 and stores nothing', {
    timeout: 60_000,
  }, async () => {
    const partner = await createPartner('Globex');
    const body = JSON.stringify({ id: 'evt_e2e_2', type: 'invoice.paid', data: { amount: 1 } });
    await expectRefusal(
      await sendSigned(partner, body, nowSeconds(), body.replace('"amount":1', '"amount":1000')),
      401,
      'SIGNATURE_INVALID',
    );
    const { rows } = await system.db.execute({
      sql: 'SELECT count(*) AS n FROM partner_events WHERE partner_id = ?',
      args: [partner.id],
    });
    expect(Number(rows[0]?.n)).toBe(0);
  });
});
