// Partners' signed webhooks as a partner sees them: a correctly signed event is answered 202 and
// stored once, its partner.event job published through the local QStash broker and, when
// delivered back to the app, marking the event processed; every refused request (tampered, wrong
// secret, stale, replayed, unknown or revoked partner) answers 401 with its code and stores
// nothing. The app from createApp on a local stack (Redis db 8), the broker delivering edge jobs
// to a receiver that stands in for API_PUBLIC_URL.
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import type { LocalStack } from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { outbox, partnerEvents } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import type { LogFields } from '../../src/lib/logger.ts';
import { signPartnerHmac } from '../../src/lib/signatures/partner-hmac.ts';
import { signStandardWebhook } from '../../src/lib/signatures/standard-webhooks.ts';
import { newIp } from '../support/auth-flows.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { type DeliveredJob, type JobReceiver, startJobReceiver } from '../support/job-receiver.ts';
import { breakRedisRequests, transactions } from '../support/redis-faults.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let receiver: JobReceiver;
let app: App;
let deps: Deps;
let logLines: LogFields[];
let admin: SignedInUser;
const context = collectingExecutionContext();

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 8, migrate: true });
  receiver = await startJobReceiver();
  ({ app, deps, logLines } = appOnStack(stack.env, {
    RATE_LIMIT_GENERAL: '100000/1m',
    RATE_LIMIT_WEBHOOK: '100000/1m',
    API_PUBLIC_URL: receiver.url,
  }));
  [admin] = (await signedInUsers(deps, [{ name: 'Webhook Admin', role: 'admin' }])) as [
    SignedInUser,
  ];
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

type Scheme = 'hmac-sha256' | 'standard-webhooks';

async function createPartner(scheme: Scheme = 'hmac-sha256') {
  const res = await clientOf(app, admin).post('/v1/admin/partners', {
    name: `Partner ${crypto.randomUUID()}`,
    scheme,
  });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.data.partner.id as string, secret: res.body.data.secret.secret as string };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const eventBody = (id: string = crypto.randomUUID(), extra: object = {}) =>
  JSON.stringify({ id, type: 'invoice.paid', data: { amount: 4200 }, ...extra });

async function hmacHeaders(secret: string, body: string, timestamp = nowSeconds()) {
  return {
    'X-Timestamp': String(timestamp),
    'X-Signature': await signPartnerHmac(secret, timestamp, body),
  };
}

async function standardHeaders(secret: string, body: string, id = `msg_${crypto.randomUUID()}`) {
  const timestamp = nowSeconds();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signStandardWebhook(secret, id, timestamp, body),
  };
}

async function deliver(partnerId: string, body: string, headers: Record<string, string>) {
  const res = await app.request(
    `/webhooks/partners/${partnerId}`,
    { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body },
    {},
    context.executionCtx,
  );
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever the envelope carries.
  return { status: res.status, body: (await res.json()) as any };
}

const eventsOf = (partnerId: string) =>
  deps.db.select().from(partnerEvents).where(eq(partnerEvents.partnerId, partnerId));
const stagedFor = async (partnerId: string) =>
  (await deps.db.select().from(outbox)).filter((row) => row.id.includes(partnerId));

async function expectRefused(
  partnerId: string,
  answer: { status: number; body: { error: { code: string } } },
  code: string,
) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(401);
  expect(answer.body.error.code).toBe(code);
  expect(await eventsOf(partnerId)).toHaveLength(0);
  expect(await stagedFor(partnerId)).toHaveLength(0);
}

/** Hands the broker's delivery of a job to the app, as QStash would at API_PUBLIC_URL. */
/**
 * Hands the app a job the broker delivered to the receiver: as it came, or (`resigned`) as QStash
 * would retry it, signed anew under the same message id.
 */
async function runDelivered(job: DeliveredJob, { resigned = false } = {}) {
  const header = (name: string) => String(job.headers[name] ?? '');
  const body = JSON.stringify(job.body);
  const signature = resigned
    ? signDelivery({
        url: `${receiver.url}${job.path}`,
        body: new TextEncoder().encode(body),
        signingKey: stack.env.QSTASH_CURRENT_SIGNING_KEY,
        nowMs: Date.now(),
      })
    : header('upstash-signature');
  const res = await app.request(job.path, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Upstash-Signature': signature,
      'Upstash-Message-Id': header('upstash-message-id'),
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as { data: unknown; error?: unknown } };
}

describe('an accepted hmac-sha256 event', () => {
  it('is stored once, and its job marks it processed when delivered', async () => {
    const partner = await createPartner();
    const body = eventBody('evt_1');
    const answer = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body.data).toEqual({ received: true, eventId: 'evt_1', duplicate: false });

    const [event] = await eventsOf(partner.id);
    expect(event).toMatchObject({
      eventId: 'evt_1',
      type: 'invoice.paid',
      payload: { id: 'evt_1', type: 'invoice.paid', data: { amount: 4200 } },
      processedAt: null,
    });

    await context.settled();
    expect(await stagedFor(partner.id)).toHaveLength(0);
    const job = await receiver.waitFor(
      (delivered) =>
        delivered.path === '/jobs/partner.event' &&
        JSON.stringify(delivered.body).includes(partner.id),
    );
    expect(job.body).toMatchObject({
      type: 'partner.event',
      payload: { partnerId: partner.id, eventId: 'evt_1' },
    });

    const run = await runDelivered(job);
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const [processed] = await eventsOf(partner.id);
    expect(processed?.processedAt).toBeInstanceOf(Date);
    // The same signed request again is a replay; QStash's own retry is signed anew.
    const replayed = await runDelivered(job);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: { code: 'SIGNATURE_REPLAYED' } });
    const again = await runDelivered(job, { resigned: true });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect((await eventsOf(partner.id))[0]?.processedAt).toEqual(processed?.processedAt);
  });

  it('answers a repeated event id with duplicate: true and stores nothing new', async () => {
    const partner = await createPartner();
    const body = eventBody('evt_twice');
    const first = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(first.status).toBe(202);
    await context.settled();
    // The partner's retry: the same event, signed anew a second later, after the job was published.
    const retry = await deliver(
      partner.id,
      body,
      await hmacHeaders(partner.secret, body, nowSeconds() + 1),
    );
    expect(retry.status).toBe(202);
    expect(retry.body.data).toEqual({ received: true, eventId: 'evt_twice', duplicate: true });
    expect(await eventsOf(partner.id)).toHaveLength(1);
    await context.settled();
    expect(await stagedFor(partner.id)).toHaveLength(0);
  });

  it('keeps the one staged job for the sweep when QStash is down, however often the event comes', async () => {
    const partner = await createPartner();
    const offline = appOnStack(stack.env, {
      QSTASH_URL: 'http://127.0.0.1:9',
    }).app;
    const background = collectingExecutionContext();
    const body = eventBody('evt_offline');
    for (const offset of [0, 1]) {
      const res = await offline.request(
        `/webhooks/partners/${partner.id}`,
        {
          method: 'POST',
          headers: await hmacHeaders(partner.secret, body, nowSeconds() + offset),
          body,
        },
        {},
        background.executionCtx,
      );
      expect(res.status).toBe(202);
      await background.settled();
    }
    const staged = await stagedFor(partner.id);
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatchObject({ type: 'partner.event', attempts: 1 });
    expect(await eventsOf(partner.id)).toHaveLength(1);
  });
});

describe('refused deliveries', () => {
  it('refuses a tampered body, and the untouched request is still accepted afterwards', async () => {
    const partner = await createPartner();
    const body = eventBody();
    const headers = await hmacHeaders(partner.secret, body);
    const tampered = body.replace('4200', '4201');
    await expectRefused(
      partner.id,
      await deliver(partner.id, tampered, headers),
      'SIGNATURE_INVALID',
    );
    expect((await deliver(partner.id, body, headers)).status).toBe(202);
  });

  it('refuses a wrong secret, a stale or future timestamp, and missing or malformed headers', async () => {
    const partner = await createPartner();
    const body = eventBody();
    const other = await createPartner();
    await expectRefused(
      partner.id,
      await deliver(partner.id, body, await hmacHeaders(other.secret, body)),
      'SIGNATURE_INVALID',
    );
    await expectRefused(
      partner.id,
      await deliver(partner.id, body, await hmacHeaders(partner.secret, body, nowSeconds() - 301)),
      'SIGNATURE_EXPIRED',
    );
    await expectRefused(
      partner.id,
      await deliver(partner.id, body, await hmacHeaders(partner.secret, body, nowSeconds() + 400)),
      'SIGNATURE_EXPIRED',
    );
    await expectRefused(partner.id, await deliver(partner.id, body, {}), 'SIGNATURE_MISSING');
    await expectRefused(
      partner.id,
      await deliver(partner.id, body, { 'X-Timestamp': 'yesterday', 'X-Signature': 'abc' }),
      'SIGNATURE_MALFORMED',
    );
  });

  it('refuses a replayed signature, storing the event once', async () => {
    const partner = await createPartner();
    const body = eventBody();
    const headers = await hmacHeaders(partner.secret, body);
    expect((await deliver(partner.id, body, headers)).status).toBe(202);
    for (const replay of [
      headers,
      { ...headers, 'X-Signature': headers['X-Signature'].toUpperCase() },
    ]) {
      const answer = await deliver(partner.id, body, replay);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('SIGNATURE_REPLAYED');
    }
    expect(await eventsOf(partner.id)).toHaveLength(1);
  });

  it('refuses unknown and revoked partners alike, with SIGNATURE_INVALID', async () => {
    const partner = await createPartner();
    const body = eventBody();
    const unknown = await deliver(
      crypto.randomUUID(),
      body,
      await hmacHeaders(partner.secret, body),
    );
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('SIGNATURE_INVALID');
    const notAnId = await deliver('not-a-partner', body, await hmacHeaders(partner.secret, body));
    expect(notAnId.body.error.code).toBe('SIGNATURE_INVALID');

    // Accepted once first, so the revocation meets the partner's record in the cache.
    const before = eventBody();
    expect(
      (await deliver(partner.id, before, await hmacHeaders(partner.secret, before))).status,
    ).toBe(202);
    await context.settled();
    expect((await clientOf(app, admin).delete(`/v1/admin/partners/${partner.id}`)).status).toBe(
      200,
    );
    const revoked = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(revoked.body.error).toMatchObject(unknown.body.error);
    expect(revoked.status).toBe(401);
    expect(revoked.body.error.code).toBe('SIGNATURE_INVALID');
    expect(await eventsOf(partner.id)).toHaveLength(1);
  });

  it('logs one warning with the partner and code, never the signature', async () => {
    const partner = await createPartner();
    const body = eventBody();
    const headers = await hmacHeaders(partner.secret, body);
    await deliver(partner.id, body.replace('4200', '1'), headers);
    const warnings = logLines.filter(
      (line) => line.msg === 'partner webhook refused' && line.partnerId === partner.id,
    );
    expect(warnings).toMatchObject([{ level: 'warn', code: 'SIGNATURE_INVALID' }]);
    const logged = JSON.stringify(logLines);
    expect(logged).not.toContain(headers['X-Signature']);
    expect(logged).not.toContain(partner.secret);
  });

  it('answers a correctly signed body that is not an event with 422, storing nothing', async () => {
    const partner = await createPartner();
    for (const body of [
      'not json',
      JSON.stringify({ type: 'no.id' }),
      eventBody('x'.repeat(201)),
    ]) {
      const headers = await hmacHeaders(partner.secret, body);
      // Sent twice: a request that was not accepted leaves no replay mark, so the sender's retry
      // meets the same answer, not SIGNATURE_REPLAYED.
      for (const attempt of [1, 2]) {
        const answer = await deliver(partner.id, body, headers);
        expect(answer.status, `${body} #${attempt}`).toBe(422);
        expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      }
    }
    expect(await eventsOf(partner.id)).toHaveLength(0);
  });
});

describe('secret rotation', () => {
  it('accepts the old and the new secret during the grace period, then only the new', async () => {
    const partner = await createPartner();
    const rotated = await clientOf(app, admin).post(`/v1/admin/partners/${partner.id}/secrets`, {
      graceHours: 1,
    });
    const fresh: string = rotated.body.data.secret;
    for (const secret of [partner.secret, fresh]) {
      const body = eventBody();
      expect((await deliver(partner.id, body, await hmacHeaders(secret, body))).status).toBe(202);
    }

    const oldSecretId = (await clientOf(app, admin).get('/v1/admin/partners')).body.data
      .find((shown: { id: string }) => shown.id === partner.id)
      .secrets.find((secret: { id: string }) => secret.id !== rotated.body.data.id).id;
    const revoke = await clientOf(app, admin).delete(
      `/v1/admin/partners/${partner.id}/secrets/${oldSecretId}`,
    );
    expect(revoke.status).toBe(200);
    const body = eventBody('after-revoke');
    const refused = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(refused.body.error.code).toBe('SIGNATURE_INVALID');
    expect((await deliver(partner.id, body, await hmacHeaders(fresh, body))).status).toBe(202);
  });
});

describe("the partner's cached record", () => {
  /** The request log line of the last delivery to the partner. */
  const lastRequestLine = (partnerId: string) =>
    logLines.findLast(
      (line) => line.msg === 'request' && line.path === `/webhooks/partners/${partnerId}`,
    );

  const refusedConnection = () => Promise.reject(new Error('connect ECONNREFUSED'));

  /**
   * The admin API as an app whose cache clearings meet a broken Redis (`send` answers each
   * MULTI, the cache's only one); the app's own Redis timeout is short enough to wait out a hang.
   */
  function adminWithBrokenClearing(send: () => Promise<never>) {
    const impatient = appOnStack(stack.env, {
      RATE_LIMIT_GENERAL: '100000/1m',
      CACHE_TIMEOUT_MS: '2000',
    });
    return {
      /** Sends one admin request while the clearings fail. */
      async failing(method: 'post' | 'delete', path: string, json?: unknown) {
        const multi = breakRedisRequests(transactions, send);
        try {
          return method === 'post'
            ? await clientOf(impatient.app, admin).post(path, json)
            : await clientOf(impatient.app, admin).delete(path);
        } finally {
          multi.mockRestore();
        }
      },
      client: clientOf(impatient.app, admin),
    };
  }

  async function deliverAccepted(partnerId: string, secret: string) {
    const body = eventBody();
    const answer = await deliver(partnerId, body, await hmacHeaders(secret, body));
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    await context.settled();
  }

  it('is read from the cache, with the rate limit, from the second delivery on', async () => {
    const partner = await createPartner();
    await deliverAccepted(partner.id, partner.secret);
    expect(lastRequestLine(partner.id)).toMatchObject({ status: 202, cache: 'miss' });
    await deliverAccepted(partner.id, partner.secret);
    expect(lastRequestLine(partner.id)).toMatchObject({ status: 202, cache: 'hit' });
  });

  it('gives way to a rotation at once: with no grace, the old secret is refused next', async () => {
    const partner = await createPartner();
    await deliverAccepted(partner.id, partner.secret);
    const rotated = await clientOf(app, admin).post(`/v1/admin/partners/${partner.id}/secrets`, {
      graceHours: 0,
    });
    expect(rotated.status).toBe(201);

    const body = eventBody();
    const refused = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('SIGNATURE_INVALID');
    await deliverAccepted(partner.id, rotated.body.data.secret);
  });

  it.each([
    ['fails', refusedConnection],
    ['never answers', () => new Promise<never>(() => {})],
  ])(
    'answers a secret revocation 503 when the cache invalidation %s; repeating it finishes the job',
    async (_, send) => {
      const broken = adminWithBrokenClearing(send);
      const partner = await createPartner();
      await deliverAccepted(partner.id, partner.secret);
      const [secret] = (await clientOf(app, admin).get('/v1/admin/partners')).body.data.find(
        (shown: { id: string }) => shown.id === partner.id,
      ).secrets;
      const path = `/v1/admin/partners/${partner.id}/secrets/${secret.id}`;

      const failed = await broken.failing('delete', path);
      expect(failed.status).toBe(503);
      expect(failed.body.error).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        details: { backend: 'cache' },
      });

      const repeated = await broken.client.delete(path);
      expect(repeated.status).toBe(200);
      expect(repeated.body.data).toMatchObject({ id: secret.id, active: false });
      const body = eventBody();
      const refused = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
      expect(refused.body.error.code).toBe('SIGNATURE_INVALID');
    },
  );

  it('answers a rotation without grace 503 when the cache cannot be cleared; repeating it ends the old secret', async () => {
    const broken = adminWithBrokenClearing(refusedConnection);
    const partner = await createPartner();
    await deliverAccepted(partner.id, partner.secret);
    const path = `/v1/admin/partners/${partner.id}/secrets`;

    const failed = await broken.failing('post', path, { graceHours: 0 });
    expect(failed.status).toBe(503);
    expect(failed.body.error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      details: { backend: 'cache' },
    });

    const repeated = await broken.client.post(path, { graceHours: 0 });
    expect(repeated.status).toBe(201);
    const body = eventBody();
    const refused = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(refused.body.error.code).toBe('SIGNATURE_INVALID');
    await deliverAccepted(partner.id, repeated.body.data.secret);
  });

  it('still shows the new secret of a rotation with grace when the cache cannot be cleared', async () => {
    const broken = adminWithBrokenClearing(refusedConnection);
    const partner = await createPartner();
    const rotated = await broken.failing('post', `/v1/admin/partners/${partner.id}/secrets`, {
      graceHours: 1,
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.data.secret).toMatch(/^pws_/);
  });
});

describe('a standard-webhooks partner', () => {
  it('is accepted, and webhook-id is the event id when the body has none', async () => {
    const partner = await createPartner('standard-webhooks');
    const body = JSON.stringify({ type: 'invoice.paid', data: { amount: 1 } });
    const headers = await standardHeaders(partner.secret, body, 'msg_standard_1');
    const answer = await deliver(partner.id, body, headers);
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body.data).toEqual({
      received: true,
      eventId: 'msg_standard_1',
      duplicate: false,
    });
    expect(await eventsOf(partner.id)).toMatchObject([{ eventId: 'msg_standard_1' }]);

    const replay = await deliver(partner.id, body, headers);
    expect(replay.body.error.code).toBe('SIGNATURE_REPLAYED');
    const hmacStyle = await deliver(partner.id, body, await hmacHeaders(partner.secret, body));
    expect(hmacStyle.body.error.code).toBe('SIGNATURE_MISSING');
    expect(
      await deps.db
        .select()
        .from(partnerEvents)
        .where(and(eq(partnerEvents.partnerId, partner.id))),
    ).toHaveLength(1);
  });
});

describe('the webhook rate limit', () => {
  it('counts per partner and address, with its own policy', async () => {
    const limited = appOnStack(stack.env, {
      RATE_LIMIT_GENERAL: '100000/1m',
      RATE_LIMIT_WEBHOOK: '2/1d',
    }).app;
    const path = `/webhooks/partners/${crypto.randomUUID()}`;
    const stranger = newIp();
    const send = (ip: string, to = path) =>
      limited.request(to, { method: 'POST', body: '{}', headers: { 'CF-Connecting-IP': ip } });
    expect((await send(stranger)).status).toBe(401);
    expect((await send(stranger)).status).toBe(401);
    const third = await send(stranger);
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { details: unknown } }).error.details).toMatchObject({
      policy: 'webhook',
    });
    const otherPartner = await send(stranger, `/webhooks/partners/${crypto.randomUUID()}`);
    expect(otherPartner.status).toBe(401);
    // Unsigned requests from a stranger do not spend the partner's own allowance.
    expect((await send(newIp())).status).toBe(401);
  });

  it('counts look-ups of partners not in the cache per address, so made-up ids cannot flood the database', async () => {
    const metered = appOnStack(stack.env, {
      RATE_LIMIT_GENERAL: '2/1d',
      RATE_LIMIT_WEBHOOK: '100000/1m',
    }).app;
    const partner = await createPartner();
    const ip = newIp();
    const send = async (partnerId: string, secret = partner.secret) => {
      const body = eventBody();
      return metered.request(
        `/webhooks/partners/${partnerId}`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'CF-Connecting-IP': ip,
            ...(await hmacHeaders(secret, body)),
          },
          body,
        },
        {},
        context.executionCtx,
      );
    };
    // The real partner's first delivery misses the cache and is counted; its record is cached.
    expect((await send(partner.id)).status).toBe(202);
    await context.settled();
    expect((await send(crypto.randomUUID())).status).toBe(401);
    const flooding = await send(crypto.randomUUID());
    expect(flooding.status).toBe(429);
    expect(
      ((await flooding.json()) as { error: { details: unknown } }).error.details,
    ).toMatchObject({ policy: 'general' });
    // A partner found in the cache is not counted: it keeps being served from that address.
    expect((await send(partner.id)).status).toBe(202);
  });
});
