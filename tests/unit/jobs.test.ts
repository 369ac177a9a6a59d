// The edge's job endpoints as QStash meets them (signed deliveries to /jobs/<type>: once-only
// effects, refusals QStash acts on), the jobs the edge runs, and GET /v1/jobs/{id}.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import { apiKeys, apiKeyUsage, oneTimeTokens, outbox, refreshTokens } from '../../src/db/schema.ts';
import { enqueueJob } from '../../src/jobs/enqueue.ts';
import { sweepOutbox } from '../../src/jobs/outbox.ts';
import { AppError } from '../../src/lib/errors.ts';
import { weekOf } from '../../src/modules/users/weekly-digest.job.ts';
import { deliver, type JobsStack, startJobsStack } from '../support/jobs-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let jobs: JobsStack;
let owner: SignedInUser;
let other: SignedInUser;
let admin: SignedInUser;

beforeAll(async () => {
  jobs = await startJobsStack();
  [owner, other, admin] = (await signedInUsers(jobs.deps, [
    { name: 'Owner' },
    { name: 'Other' },
    { name: 'Admin', role: 'admin' },
  ])) as [SignedInUser, SignedInUser, SignedInUser];
}, 30_000);

afterAll(async () => {
  await jobs?.close();
});

const auditJob = (userId: string, id = randomUUID()) => ({
  id,
  type: 'audit.record',
  payload: {
    eventId: randomUUID(),
    event: 'user.registered',
    userId,
    occurredAt: '2026-11-20T10:00:00.000Z',
  },
  ownerId: userId,
});

async function auditRows(eventId: string) {
  const { rows } = await jobs.sql.execute({
    sql: 'SELECT action, target_id, actor_id, changes FROM audit_logs WHERE id = ?',
    args: [eventId],
  });
  return rows;
}

describe('POST /jobs/{type}', () => {
  it('runs a job once, however often QStash delivers it', async () => {
    const job = auditJob(owner.id);
    const first = await deliver(jobs, '/jobs/audit.record', job, { messageId: 'msg_first' });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({
      key: job.id,
      type: 'audit.record',
      duplicate: false,
      result: { recorded: true },
    });
    const again = await deliver(jobs, '/jobs/audit.record', job, { messageId: 'msg_again' });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ key: job.id, duplicate: true });

    const rows = await auditRows(job.payload.eventId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'user.registered',
      target_id: owner.id,
      actor_id: owner.id,
    });
    expect(JSON.parse(String(rows[0]?.changes))).toEqual({ occurredAt: job.payload.occurredAt });
  });

  it('writes the audit row once even when the Redis claim was lost', async () => {
    const job = auditJob(owner.id);
    await deliver(jobs, '/jobs/audit.record', job);
    const sameEvent = { ...job, id: randomUUID() };
    const res = await deliver(jobs, '/jobs/audit.record', sameEvent);
    expect(res.body.data).toMatchObject({
      duplicate: false,
      result: { recorded: false },
    });
    expect(await auditRows(job.payload.eventId)).toHaveLength(1);
  });

  it('refuses a delivery signed with another key, with no effect', async () => {
    const job = auditJob(owner.id);
    const res = await deliver(jobs, '/jobs/audit.record', job, {
      signingKey: 'sig_not-the-stack-key-000000000000',
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SIGNATURE_INVALID');
    expect(await auditRows(job.payload.eventId)).toHaveLength(0);
    expect(await jobs.deps.jobState.read(job.id)).toBeNull();
  });

  it('refuses a delivery signed for another URL', async () => {
    const res = await deliver(jobs, '/jobs/audit.record', auditJob(owner.id), {
      signedUrl: `${jobs.publicUrl}/jobs/digest.weekly`,
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SIGNATURE_WRONG_URL');
  });

  it('answers 489 with Upstash-NonRetryable-Error to a payload that can never succeed', async () => {
    const job = { ...auditJob(owner.id), payload: { eventId: 'not-a-uuid' } };
    const res = await deliver(jobs, '/jobs/audit.record', job);
    expect(res.status).toBe(489);
    expect(res.headers.get('upstash-nonretryable-error')).toBe('true');
    expect(res.body).toMatchObject({ success: false, error: { code: 'JOB_PAYLOAD_INVALID' } });
    expect(await jobs.deps.jobState.read(job.id)).toMatchObject({
      state: { status: 'failed' },
      permanent: true,
    });
  });

  it('answers 489 to a job of another type than the endpoint', async () => {
    const res = await deliver(jobs, '/jobs/digest.weekly', auditJob(owner.id));
    expect(res.status).toBe(489);
    expect(res.body.error.code).toBe('JOB_PAYLOAD_INVALID');
  });

  it('answers 404 for a type the edge does not run', async () => {
    for (const type of ['email.verification', 'no.such-job']) {
      const res = await deliver(jobs, `/jobs/${type}`, { type, payload: {} });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
  });

  it('is not rate limited by address', async () => {
    const strict = jobs.appWith({ RATE_LIMIT_GENERAL: '1/1h' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const job = auditJob(owner.id);
      const bytes = JSON.stringify(job);
      const res = await strict.request('/jobs/audit.record', {
        method: 'POST',
        headers: {
          'cf-connecting-ip': '10.9.9.9',
          'upstash-signature': signDelivery({
            url: `${jobs.publicUrl}/jobs/audit.record`,
            body: new TextEncoder().encode(bytes),
            signingKey: jobs.stack.env.QSTASH_CURRENT_SIGNING_KEY,
            nowMs: Date.now(),
          }),
        },
        body: bytes,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200]);
  });
});

describe('GET /v1/jobs/{id}', () => {
  let jobId: string;

  /** The status view of a job, as its owner reads it. */
  const statusView = (id: string, type: string, attempts: number, state: object) => ({
    id,
    type,
    attempts,
    updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    ...state,
  });

  beforeAll(async () => {
    const job = auditJob(owner.id);
    jobId = job.id;
    expect((await deliver(jobs, '/jobs/audit.record', job)).status).toBe(200);
  });

  it('shows the owner the completed job with its result', async () => {
    const res = await clientOf(jobs.app, owner).get(`/v1/jobs/${jobId}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(
      statusView(jobId, 'audit.record', 1, { status: 'completed', result: { recorded: true } }),
    );
  });

  it('shows an admin anyone’s job', async () => {
    const res = await clientOf(jobs.app, admin).get(`/v1/jobs/${jobId}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: jobId, status: 'completed' });
  });

  it('tells another user the job does not exist', async () => {
    const res = await clientOf(jobs.app, other).get(`/v1/jobs/${jobId}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    const unknown = await clientOf(jobs.app, owner).get(`/v1/jobs/${randomUUID()}`);
    expect(unknown.status).toBe(404);
  });

  it('needs a signed-in caller', async () => {
    const res = await clientOf(jobs.app).get(`/v1/jobs/${jobId}`);
    expect(res.status).toBe(401);
  });

  it('shows its owner a job enqueued for later as pending, before any delivery', async () => {
    const { jobId: later } = await enqueueJob(
      jobs.deps,
      'email.welcome',
      { to: 'later@example.com', name: 'Later' },
      { delaySeconds: 3600, ownerId: owner.id },
    );
    const res = await clientOf(jobs.app, owner).get(`/v1/jobs/${later}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual(statusView(later, 'email.welcome', 0, { status: 'pending' }));
    expect((await clientOf(jobs.app, other).get(`/v1/jobs/${later}`)).status).toBe(404);
  });

  it('shows a failed job with its error', async () => {
    const job = { ...auditJob(owner.id), payload: { eventId: 'bad' } };
    await deliver(jobs, '/jobs/audit.record', job);
    const res = await clientOf(jobs.app, admin).get(`/v1/jobs/${job.id}`);
    expect(res.body.data).toMatchObject({
      id: job.id,
      status: 'failed',
      error: expect.stringContaining('invalid payload'),
    });
  });
});

describe('enqueueJob', () => {
  const welcome = { to: 'timed@example.com', name: 'Timed' };

  it('delivers a job no earlier than its delay', async () => {
    const enqueuedAt = Date.now();
    const { jobId } = await enqueueJob(jobs.deps, 'email.welcome', welcome, { delaySeconds: 2 });
    const delivered = await jobs.receiver.waitFor(
      (job) => (job.body as { id?: string }).id === jobId,
    );
    expect(Date.now() - enqueuedAt).toBeGreaterThanOrEqual(1_000);
    expect(delivered.path).toBe('/jobs/email.welcome');
    expect(delivered.body).toMatchObject({ type: 'email.welcome', payload: welcome });
  });

  it.each([
    ['a time in the past', new Date(Date.now() - 1_000)],
    ['a date that is no time', new Date('not a date')],
  ])('refuses %s with 422 and hands QStash nothing', async (_, runAt) => {
    const id = `refused-${randomUUID()}`;
    const refused = await enqueueJob(jobs.deps, 'email.welcome', welcome, { runAt, id }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
    expect(await jobs.deps.jobState.read(id)).toBeNull();
  });
});

describe('maintenance.token-cleanup', () => {
  it('deletes only tokens expired or used more than a day ago', async () => {
    const now = Date.now();
    const hours = (n: number) => new Date(now + n * 3_600_000);
    const token = (name: string, expiresAt: Date, usedAt: Date | null = null) => ({
      id: `${name}-${randomUUID()}`,
      userId: owner.id,
      purpose: 'email_verification' as const,
      tokenHash: randomUUID(),
      expiresAt,
      usedAt,
    });
    const oneTime = {
      expiredLongAgo: token('expired-long-ago', hours(-48)),
      usedLongAgo: token('used-long-ago', hours(2), hours(-30)),
      expiredRecently: token('expired-recently', hours(-1)),
      usedRecently: token('used-recently', hours(2), hours(-1)),
      valid: token('valid', hours(2)),
    };
    const refresh = (name: string, expiresAt: Date) => ({
      id: `${name}-${randomUUID()}`,
      userId: owner.id,
      familyId: randomUUID(),
      tokenHash: randomUUID(),
      expiresAt,
    });
    const refreshes = {
      expiredLongAgo: refresh('expired-long-ago', hours(-25)),
      expiredRecently: refresh('expired-recently', hours(-23)),
      valid: refresh('valid', hours(24)),
    };
    await jobs.deps.db.batch([
      jobs.deps.db.insert(oneTimeTokens).values(Object.values(oneTime)),
      jobs.deps.db.insert(refreshTokens).values(Object.values(refreshes)),
    ]);

    const res = await deliver(jobs, '/jobs/maintenance.token-cleanup', {
      type: 'maintenance.token-cleanup',
      payload: {},
    });
    expect(res.status).toBe(200);
    const { result } = res.body.data;
    expect(result.oneTimeTokens).toBeGreaterThanOrEqual(2);
    expect(result.refreshTokens).toBeGreaterThanOrEqual(1);

    const left = async (table: string, ids: string[]) => {
      const { rows } = await jobs.sql.execute({
        sql: `SELECT id FROM ${table} WHERE id IN (${ids.map(() => '?').join(',')})`,
        args: ids,
      });
      return rows.map((row) => String(row.id)).sort();
    };
    expect(
      await left(
        'one_time_tokens',
        Object.values(oneTime).map((row) => row.id),
      ),
    ).toEqual([oneTime.expiredRecently.id, oneTime.usedRecently.id, oneTime.valid.id].sort());
    expect(
      await left(
        'refresh_tokens',
        Object.values(refreshes).map((row) => row.id),
      ),
    ).toEqual([refreshes.expiredRecently.id, refreshes.valid.id].sort());
  });
});

describe('maintenance.housekeeping', () => {
  /** A welcome email's outbox row, as a request staged it at `createdAt`. */
  const staged = (createdAt: Date, fields: Partial<typeof outbox.$inferInsert> = {}) => {
    const id = randomUUID();
    return {
      id,
      type: 'email.welcome',
      message: {
        id,
        type: 'email.welcome',
        payload: { to: 'left-behind@example.com', name: 'Left Behind' },
        ownerId: owner.id,
      },
      priority: 'normal',
      createdAt,
      ...fields,
    };
  };

  it('publishes outbox rows left behind, and deletes old usage rows', async () => {
    const leftBehind = staged(new Date(Date.now() - 60_000));
    const inFlight = staged(new Date());
    const keyId = randomUUID();
    await jobs.deps.db.batch([
      jobs.deps.db.insert(outbox).values([leftBehind, inFlight]),
      jobs.deps.db.insert(apiKeys).values({
        id: keyId,
        userId: owner.id,
        name: 'housekeeping',
        prefix: 'sk_house',
        keyHash: randomUUID(),
        scopes: ['profile:read'],
      }),
    ]);
    await jobs.deps.db.insert(apiKeyUsage).values([
      {
        apiKeyId: keyId,
        method: 'GET',
        endpoint: '/old',
        status: 200,
        createdAt: new Date(Date.now() - 91 * 86_400_000),
      },
      { apiKeyId: keyId, method: 'GET', endpoint: '/recent', status: 200 },
    ]);

    const res = await deliver(jobs, '/jobs/maintenance.housekeeping', {
      type: 'maintenance.housekeeping',
      payload: {},
    });
    expect(res.status).toBe(200);
    const { result } = res.body.data;
    expect(result.outbox.published).toBeGreaterThanOrEqual(1);
    expect(result.apiKeyUsage).toBeGreaterThanOrEqual(1);

    const delivered = await jobs.receiver.waitFor(
      (job) => (job.body as { id?: string }).id === leftBehind.id,
    );
    expect(delivered.path).toBe('/jobs/email.welcome');
    const { rows: outboxLeft } = await jobs.sql.execute({
      sql: 'SELECT id FROM outbox WHERE id IN (?, ?)',
      args: [leftBehind.id, inFlight.id],
    });
    expect(outboxLeft.map((row) => row.id)).toEqual([inFlight.id]);
    const { rows: usageLeft } = await jobs.sql.execute({
      sql: 'SELECT endpoint FROM api_key_usage WHERE api_key_id = ?',
      args: [keyId],
    });
    expect(usageLeft.map((row) => row.endpoint)).toEqual(['/recent']);
  });

  it('drains more than a page in one run, past rows that are no job and one QStash refuses', async () => {
    const base = Date.now() - 10 * 60_000;
    const row = (offsetMs: number, fields: Partial<typeof outbox.$inferInsert> = {}) =>
      staged(new Date(base + offsetMs), fields);
    // Oldest first: what the sweep meets at the head of its first page.
    const noJob = row(0, { message: { note: 'not a job' } });
    const unknownPriority = row(1, { priority: 'urgent' });
    const refusedByQstash = row(2, { notBefore: -1 });
    const publishable = Array.from({ length: 150 }, (_, index) => row(10 + index));
    await jobs.deps.db
      .insert(outbox)
      .values([noJob, unknownPriority, refusedByQstash, ...publishable]);

    const result = await sweepOutbox(jobs.deps);

    expect(result.published).toBeGreaterThanOrEqual(publishable.length);
    expect(result.unreadable).toBeGreaterThanOrEqual(2);
    expect(result.failed).toBeGreaterThanOrEqual(1);
    const ours = [noJob, unknownPriority, refusedByQstash, ...publishable].map((job) => job.id);
    const { rows: left } = await jobs.sql.execute({
      sql: `SELECT id, attempts, last_error FROM outbox WHERE id IN (${ours.map(() => '?').join(',')})`,
      args: ours,
    });
    expect(left.map((job) => job.id).sort()).toEqual(
      [noJob.id, unknownPriority.id, refusedByQstash.id].sort(),
    );
    expect(left.find((job) => job.id === refusedByQstash.id)).toMatchObject({
      attempts: 1,
      last_error: expect.stringContaining('400'),
    });
    const last = publishable.at(-1)?.id ?? '';
    await jobs.receiver.waitFor((job) => (job.body as { id?: string }).id === last);
    expect(await jobs.deps.jobState.read(last)).toMatchObject({
      ownerId: owner.id,
      state: { status: 'pending' },
    });
  });

  it('gets past a whole page of rows QStash refuses to the rows behind them', async () => {
    const base = Date.now() - 20 * 60_000;
    const refused = Array.from({ length: 100 }, (_, index) =>
      staged(new Date(base + index), { notBefore: -1 }),
    );
    const behind = Array.from({ length: 3 }, (_, index) => staged(new Date(base + 1_000 + index)));
    await jobs.deps.db.insert(outbox).values([...refused, ...behind]);

    const result = await sweepOutbox(jobs.deps);

    expect(result.failed).toBeGreaterThanOrEqual(refused.length);
    const ours = [...refused, ...behind].map((job) => job.id);
    const { rows: left } = await jobs.sql.execute({
      sql: `SELECT id, attempts FROM outbox WHERE id IN (${ours.map(() => '?').join(',')})`,
      args: ours,
    });
    expect(left.map((job) => job.id).sort()).toEqual(refused.map((job) => job.id).sort());
    expect(new Set(left.map((job) => job.attempts))).toEqual(new Set([1]));
  });

  it('deletes API keys expired or revoked over 30 days ago, with their usage, and keeps the rest', async () => {
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    const key = (name: string, ended: { expiresAt?: Date; revokedAt?: Date }) => ({
      id: randomUUID(),
      userId: owner.id,
      name,
      prefix: 'sk_test',
      keyHash: randomUUID(),
      scopes: ['profile:read'],
      ...ended,
    });
    const longExpired = key('long expired', { expiresAt: daysAgo(31) });
    const longRevoked = key('long revoked', { revokedAt: daysAgo(40) });
    const recentlyExpired = key('recently expired', { expiresAt: daysAgo(2) });
    const live = key('live', {});
    await jobs.deps.db.insert(apiKeys).values([longExpired, longRevoked, recentlyExpired, live]);
    await jobs.deps.db
      .insert(apiKeyUsage)
      .values({ apiKeyId: longExpired.id, method: 'GET', endpoint: '/x', status: 200 });

    const res = await deliver(jobs, '/jobs/maintenance.housekeeping', {
      type: 'maintenance.housekeeping',
      payload: {},
    });
    expect(res.status).toBe(200);
    expect(res.body.data.result.expiredApiKeys).toBeGreaterThanOrEqual(2);

    const { rows } = await jobs.sql.execute({
      sql: 'SELECT name FROM api_keys WHERE id IN (?, ?, ?, ?) ORDER BY name',
      args: [longExpired.id, longRevoked.id, recentlyExpired.id, live.id],
    });
    expect(rows.map((row) => row.name)).toEqual(['live', 'recently expired']);
  });
});

describe('digest.weekly', () => {
  it('enqueues one digest per verified, active user, and none more on a re-run', async () => {
    const [alice, bob, unverified, deleted] = await signedInUsers(jobs.deps, [
      { name: 'Digest Alice' },
      { name: 'Digest Bob' },
      { name: 'Digest Unverified', verified: false },
      { name: 'Digest Deleted', deletedAt: new Date() },
    ]);
    const digestsFor = (userId: string) =>
      jobs.receiver.jobs.filter(
        (job) =>
          job.path === '/jobs/email.weekly-digest' &&
          (job.body as { payload?: { to?: string }; ownerId?: string }).ownerId === userId,
      );
    const run = async () => {
      const res = await deliver(jobs, '/jobs/digest.weekly', {
        type: 'digest.weekly',
        payload: {},
      });
      expect(res.status).toBe(200);
      return res.body.data.result;
    };

    const week = weekOf(new Date());
    const result = await run();
    expect(result.weekOf).toBe(week);
    const { rows } = await jobs.sql.execute(
      'SELECT count(*) AS n FROM users WHERE email_verified_at IS NOT NULL AND deleted_at IS NULL',
    );
    expect(result.users).toBe(Number(rows[0]?.n));

    const aliceDigest = await jobs.receiver.waitFor(
      (job) => (job.body as { id?: string }).id === `digest-${week}-${alice?.id}`,
    );
    expect(aliceDigest.body).toMatchObject({
      type: 'email.weekly-digest',
      payload: {
        to: alice?.email,
        name: 'Digest Alice',
        weekOf: week,
        stats: { newUsers: expect.any(Number), activeApiKeys: expect.any(Number) },
      },
    });
    await jobs.receiver.waitFor(
      (job) => (job.body as { id?: string }).id === `digest-${week}-${bob?.id}`,
    );

    await run();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(digestsFor(alice?.id ?? '')).toHaveLength(1);
    expect(digestsFor(bob?.id ?? '')).toHaveLength(1);
    expect(digestsFor(unverified?.id ?? '')).toHaveLength(0);
    expect(digestsFor(deleted?.id ?? '')).toHaveLength(0);
  });

  it('names the Monday of the week', () => {
    expect(weekOf(new Date('2026-11-22T23:59:00Z'))).toBe('2026-11-16');
    expect(weekOf(new Date('2026-11-23T00:00:00Z'))).toBe('2026-11-23');
    expect(weekOf(new Date('2026-11-25T12:00:00Z'))).toBe('2026-11-23');
  });
});
