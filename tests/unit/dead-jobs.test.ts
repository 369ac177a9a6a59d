// Dead jobs: QStash's failure callback records each job it gave up on, and administrators list,
// inspect, requeue and delete them under /v1/admin/jobs/dead.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishRequest } from '../../src/jobs/enqueue.ts';
import { deliver, eventually, type JobsStack, startJobsStack } from '../support/jobs-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let jobs: JobsStack;
let admin: SignedInUser;
let user: SignedInUser;

beforeAll(async () => {
  jobs = await startJobsStack();
  [admin, user] = (await signedInUsers(jobs.deps, [
    { name: 'Dead Jobs Admin', role: 'admin' },
    { name: 'Dead Jobs User' },
  ])) as [SignedInUser, SignedInUser];
}, 30_000);

afterAll(async () => {
  await jobs?.close();
});

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** A welcome job; `null` for a scheduled run's message, which carries no id. */
const welcomeJob = (id: string | null = randomUUID()) => ({
  ...(id !== null && { id }),
  type: 'email.welcome',
  payload: { to: 'dead@example.com', name: 'Dead Letter' },
  createdAt: '2026-11-20T10:00:00.000Z',
});

/** The body QStash posts to the failure callback (local-stack/qstash/callbacks.ts). */
const callbackFor = (source: string, overrides: Record<string, unknown> = {}) => ({
  status: 500,
  header: { 'Content-Type': ['application/json'] },
  body: base64('{"success":false,"error":{"code":"INTERNAL_ERROR"}}'),
  retried: 5,
  maxRetries: 5,
  dlqId: `dlq_${randomUUID()}`,
  sourceMessageId: `msg_${randomUUID()}`,
  url: `${jobs.receiver.url}/jobs/email.welcome`,
  method: 'POST',
  sourceHeader: {},
  sourceBody: base64(source),
  notBefore: '0',
  createdAt: String(Date.now()),
  ...overrides,
});

const recordDead = async (source: string, overrides: Record<string, unknown> = {}) => {
  const res = await deliver(jobs, '/jobs/failed', callbackFor(source, overrides));
  expect(res.status).toBe(200);
  return res.body.data as { id: string; type: string };
};

const asAdmin = () => clientOf(jobs.app, admin);

describe('the failure callback', () => {
  it('records a job the broker gave up on, and its status turns failed', async () => {
    const id = randomUUID();
    // A payload that can never succeed: the edge answers 489 and the broker moves it to its DLQ
    // at once, then calls back.
    await jobs.deps.queue.publish(
      publishRequest(jobs.deps.config, {
        id,
        type: 'audit.record',
        message: { id, type: 'audit.record', payload: { eventId: 'not-a-uuid' } },
        priority: 'low',
      }),
    );
    const dead = await eventually(async () => {
      const res = await asAdmin().get(`/v1/admin/jobs/dead/${id}`);
      return res.status === 200 ? res.body.data : undefined;
    });
    expect(dead).toMatchObject({
      id,
      type: 'audit.record',
      message: { id, type: 'audit.record', payload: { eventId: 'not-a-uuid' } },
      messageId: expect.any(String),
      dlqId: expect.any(String),
      lastStatus: 489,
      lastResponse: expect.stringContaining('JOB_PAYLOAD_INVALID'),
      retried: 0,
      requeuedAt: null,
      requeueCount: 0,
    });
    const status = await asAdmin().get(`/v1/jobs/${id}`);
    expect(status.body.data).toMatchObject({
      status: 'failed',
      error: 'QStash gave up after 0 retries: 489',
    });

    // Deleting it drops the broker's DLQ entry too.
    const deleted = await asAdmin().delete(`/v1/admin/jobs/dead/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id, deleted: true });
    const dlq = await fetch(`${jobs.stack.env.QSTASH_URL}/v2/dlq/${dead.dlqId}`, {
      headers: { authorization: `Bearer ${jobs.stack.env.QSTASH_TOKEN}` },
    });
    expect(dlq.status).toBe(404);
    expect((await asAdmin().get(`/v1/admin/jobs/dead/${id}`)).status).toBe(404);
    expect((await asAdmin().delete(`/v1/admin/jobs/dead/${id}`)).status).toBe(404);
  });

  it('tells the owner their job failed, though it never reached a handler', async () => {
    const job = { ...welcomeJob(), ownerId: user.id };
    await recordDead(JSON.stringify(job));
    const status = await clientOf(jobs.app, user).get(`/v1/jobs/${job.id}`);
    expect(status.status).toBe(200);
    expect(status.body.data).toMatchObject({ id: job.id, status: 'failed' });
  });

  it('shows no live reset link to administrators, and a requeue still sends it', async () => {
    const link = `https://app.example.com/reset-password?token=${randomUUID()}`;
    const job = {
      id: randomUUID(),
      type: 'email.password-reset',
      payload: { to: 'reset@example.com', name: 'Reset Me', link },
    };
    await recordDead(JSON.stringify(job));
    const res = await asAdmin().get(`/v1/admin/jobs/dead/${job.id}`);
    expect(res.body.data.message.payload).toEqual({
      to: 'reset@example.com',
      name: 'Reset Me',
      link: '[redacted]',
    });
    const listed = await asAdmin().get('/v1/admin/jobs/dead?limit=100');
    expect(JSON.stringify(listed.body)).not.toContain(link);

    expect((await asAdmin().post(`/v1/admin/jobs/dead/${job.id}/requeue`)).status).toBe(202);
    const delivered = await jobs.receiver.waitFor(
      (received) => (received.body as { id?: string }).id === job.id,
    );
    expect(delivered.body).toMatchObject({ payload: { link } });
  });

  it('records a repeated callback once', async () => {
    const job = welcomeJob();
    const callback = callbackFor(JSON.stringify(job));
    for (let i = 0; i < 2; i += 1) {
      const res = await deliver(jobs, '/jobs/failed', callback);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ id: job.id, type: 'email.welcome' });
    }
    const { rows } = await jobs.sql.execute({
      sql: 'SELECT count(*) AS n FROM dead_jobs WHERE id = ?',
      args: [job.id ?? ''],
    });
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('keeps a message that is no job, as type unknown', async () => {
    const sourceMessageId = `msg_${randomUUID()}`;
    const dead = await recordDead('not json at all', { sourceMessageId });
    expect(dead).toEqual({ id: `msg:${sourceMessageId}`, type: 'unknown' });
    const res = await asAdmin().get(`/v1/admin/jobs/dead/${encodeURIComponent(dead.id)}`);
    expect(res.body.data).toMatchObject({ type: 'unknown', message: { body: 'not json at all' } });
    const requeue = await asAdmin().post(
      `/v1/admin/jobs/dead/${encodeURIComponent(dead.id)}/requeue`,
    );
    expect(requeue.status).toBe(409);
    expect(requeue.body.error.code).toBe('CONFLICT');
  });

  it('refuses a callback not signed by QStash, recording nothing', async () => {
    const job = welcomeJob();
    const res = await deliver(jobs, '/jobs/failed', callbackFor(JSON.stringify(job)), {
      signingKey: 'sig_somebody-else-0000000000000000',
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('SIGNATURE_INVALID');
    expect((await asAdmin().get(`/v1/admin/jobs/dead/${job.id}`)).status).toBe(404);
  });
});

describe('the dead-letter queue', () => {
  it('lists dead jobs newest first, one page at a time', async () => {
    const older = await recordDead(JSON.stringify(welcomeJob()));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const newer = await recordDead(JSON.stringify(welcomeJob()));
    const res = await asAdmin().get('/v1/admin/jobs/dead?limit=2');
    expect(res.status).toBe(200);
    expect(res.body.data.map((job: { id: string }) => job.id)).toEqual([newer.id, older.id]);
    expect(res.body.pagination).toMatchObject({ page: 1, limit: 2, hasPrev: false });
    expect(res.body.pagination.total).toBeGreaterThanOrEqual(2);
  });

  it('is for administrators only', async () => {
    expect((await clientOf(jobs.app, user).get('/v1/admin/jobs/dead')).status).toBe(403);
    expect((await clientOf(jobs.app).get('/v1/admin/jobs/dead')).status).toBe(401);
    const dead = await recordDead(JSON.stringify(welcomeJob()));
    const requeue = await clientOf(jobs.app, user).post(`/v1/admin/jobs/dead/${dead.id}/requeue`);
    expect(requeue.status).toBe(403);
  });

  it('requeues a dead job, which is delivered again under its id', async () => {
    const job = welcomeJob();
    const dead = await recordDead(JSON.stringify(job));
    const res = await asAdmin().post(`/v1/admin/jobs/dead/${dead.id}/requeue`);
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({ id: job.id, messageId: expect.any(String) });

    const delivered = await jobs.receiver.waitFor(
      (received) => (received.body as { id?: string }).id === job.id,
    );
    expect(delivered.path).toBe('/jobs/email.welcome');
    expect(delivered.body).toMatchObject({ type: 'email.welcome', payload: job.payload });
    const record = await asAdmin().get(`/v1/admin/jobs/dead/${dead.id}`);
    expect(record.body.data).toMatchObject({ requeueCount: 1, requeuedAt: expect.any(String) });
    const status = await asAdmin().get(`/v1/jobs/${dead.id}`);
    expect(status.body.data).toMatchObject({ status: 'pending' });
  });

  it('gives a requeued scheduled run its key as job id', async () => {
    const sourceMessageId = `msg_${randomUUID()}`;
    const dead = await recordDead(JSON.stringify(welcomeJob(null)), { sourceMessageId });
    expect(dead.id).toBe(`msg:${sourceMessageId}`);
    const res = await asAdmin().post(`/v1/admin/jobs/dead/${encodeURIComponent(dead.id)}/requeue`);
    expect(res.status).toBe(202);
    await jobs.receiver.waitFor((received) => (received.body as { id?: string }).id === dead.id);
  });

  it('answers 404 to requeuing an unknown job', async () => {
    const res = await asAdmin().post(`/v1/admin/jobs/dead/${randomUUID()}/requeue`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 503 and changes nothing when QStash is down', async () => {
    const job = welcomeJob();
    const dead = await recordDead(JSON.stringify(job));
    const offline = clientOf(jobs.appWith({ QSTASH_URL: 'http://127.0.0.1:9' }), admin);
    const res = await offline.post(`/v1/admin/jobs/dead/${dead.id}/requeue`);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
    const record = await asAdmin().get(`/v1/admin/jobs/dead/${dead.id}`);
    expect(record.body.data).toMatchObject({ requeueCount: 0, requeuedAt: null });
    const status = await asAdmin().get(`/v1/jobs/${dead.id}`);
    expect(status.body.data, status.text).toMatchObject({ status: 'failed' });
  });
});
