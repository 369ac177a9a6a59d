// What an account change leaves for the queue: its email and its domain events' jobs, staged in the
// outbox in the same transaction as the change. QStash is unreachable here, so the rows stay where
// the sweep would find them and the test reads exactly what was staged; a change that does not
// happen stages nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domainEventJobs } from '../../src/jobs/domain-events.ts';
import { createAuthRepository } from '../../src/modules/auth/auth.repository.ts';
import {
  type AuthStack,
  authApp,
  dataOf,
  errorOf,
  newAccount,
  startAuthStack,
} from '../support/auth-flows.ts';

let auth: AuthStack;

beforeAll(async () => {
  auth = await startAuthStack();
});

afterAll(async () => {
  await auth?.close();
});

const fixedClock = { now: () => new Date('2026-11-02T10:00:00.000Z') };
const user = {
  userId: '0b0e8f5e-3f43-4f7c-9d7e-0d7f5b5f0c11',
  email: 'ada@example.com',
  name: 'Ada',
};

describe('domainEventJobs', () => {
  it('fans each event out to its handlers, one job per handler under one event id', () => {
    const registered = domainEventJobs(
      { clock: fixedClock },
      { event: 'user.registered', ...user },
    );
    expect(registered.map((job) => job.type)).toEqual(['email.welcome', 'audit.record']);
    const [welcome, audit] = registered;
    if (welcome === undefined || audit === undefined) throw new Error('two jobs expected');
    const { eventId } = audit.message.payload as { eventId: string };
    expect(welcome.id).toBe(`${eventId}:email.welcome`);
    expect(welcome.message).toMatchObject({
      type: 'email.welcome',
      ownerId: user.userId,
      payload: { to: user.email, name: user.name },
    });
    expect(audit.id).toBe(`${eventId}:audit.record`);
    expect(audit.message.payload).toEqual({
      eventId,
      event: 'user.registered',
      userId: user.userId,
      occurredAt: '2026-11-02T10:00:00.000Z',
    });

    const changed = domainEventJobs(
      { clock: fixedClock },
      { event: 'user.password-changed', ...user },
    );
    expect(changed.map((job) => job.type)).toEqual(['email.password-changed', 'audit.record']);
    const verified = domainEventJobs(
      { clock: fixedClock },
      { event: 'user.email-verified', ...user },
    );
    expect(verified.map((job) => job.type)).toEqual(['audit.record']);
    // A new event each time: its handlers run again, unlike a repeated delivery of the same one.
    const again = domainEventJobs({ clock: fixedClock }, { event: 'user.email-verified', ...user });
    expect(again[0]?.id).not.toBe(verified[0]?.id);
  });
});

interface StagedJob {
  id: string;
  type: string;
  attempts: number;
  lastError: string | null;
  message: { id: string; type: string; ownerId?: string; payload: Record<string, unknown> };
}

async function stagedFor(userId: string): Promise<StagedJob[]> {
  const { rows } = await auth.db.execute({
    sql: `SELECT id, type, attempts, last_error, message FROM outbox
      WHERE json_extract(message, '$.ownerId') = ? ORDER BY created_at, rowid`,
    args: [userId],
  });
  return rows.map((row) => ({
    id: String(row.id),
    type: String(row.type),
    attempts: Number(row.attempts),
    lastError: row.last_error === null ? null : String(row.last_error),
    message: JSON.parse(String(row.message)),
  }));
}

const tokenIn = (job: StagedJob | undefined) => {
  const token = new URL(String(job?.message.payload.link)).searchParams.get('token');
  if (token === null) throw new Error(`no token in ${JSON.stringify(job)}`);
  return token;
};

describe('jobs staged with the change, QStash unreachable', () => {
  const offlineApp = () => authApp(auth, { QSTASH_URL: 'http://127.0.0.1:9' });

  async function registerOffline(api: ReturnType<typeof offlineApp>, label: string) {
    const account = newAccount(label);
    const data = await dataOf<{ user: { id: string }; session: { accessToken: string } }>(
      await api.call('POST', '/v1/auth/register', { body: account }),
      201,
    );
    await api.settled();
    return { ...account, id: data.user.id, accessToken: data.session.accessToken };
  }

  it('registration still answers 201 and leaves its email and user.registered jobs in the outbox', async () => {
    const api = offlineApp();
    const account = await registerOffline(api, 'offline-register');

    const staged = await stagedFor(account.id);
    expect(staged.map((job) => job.type).sort()).toEqual([
      'audit.record',
      'email.verification',
      'email.welcome',
    ]);
    for (const job of staged) {
      expect(job.message.id).toBe(job.id);
      // The request tried once, then left the row for the sweep.
      expect(job.attempts).toBe(1);
      expect(job.lastError).toEqual(expect.any(String));
    }
    const email = staged.find((job) => job.type === 'email.verification');
    expect(email?.id).toMatch(/^email\.verification-[0-9a-f-]{36}$/);
    expect(email?.message.payload).toEqual({
      to: account.email,
      name: account.name,
      link: expect.stringMatching(/^https:\/\/app\.example\.com\/verify-email\?token=[\w-]{43}$/),
    });
    const audit = staged.find((job) => job.type === 'audit.record');
    const eventId = String(audit?.message.payload.eventId);
    expect(audit?.message.payload).toMatchObject({ event: 'user.registered', userId: account.id });
    expect(audit?.id).toBe(`${eventId}:audit.record`);
    expect(staged.find((job) => job.type === 'email.welcome')?.id).toBe(`${eventId}:email.welcome`);

    // The same email again is refused, and the refused registration stages nothing.
    const again = { email: account.email, name: account.name, password: account.password };
    await errorOf(await api.call('POST', '/v1/auth/register', { body: again }), 409, 'CONFLICT');
    await api.settled();
    const { rows } = await auth.db.execute({
      sql: "SELECT count(*) AS n FROM outbox WHERE json_extract(message, '$.payload.to') = ?",
      args: [account.email],
    });
    expect(Number(rows[0]?.n)).toBe(2);
  });

  it('a password change stages user.password-changed; a refused one stages nothing', async () => {
    const api = offlineApp();
    const account = await registerOffline(api, 'offline-change');
    const before = (await stagedFor(account.id)).length;
    const change = (currentPassword: string) =>
      api.call('POST', '/v1/auth/password/change', {
        token: account.accessToken,
        body: { currentPassword, newPassword: 'Granite#Harbor77Willow' },
      });

    await errorOf(await change('Not#The8Password'), 401, 'INVALID_CREDENTIALS');
    await api.settled();
    expect(await stagedFor(account.id)).toHaveLength(before);

    await dataOf(await change(account.password), 200);
    await api.settled();
    const added = (await stagedFor(account.id)).slice(before);
    expect(added.map((job) => job.type)).toEqual(['email.password-changed', 'audit.record']);
    expect(added[0]?.message.payload).toEqual({ to: account.email, name: account.name });
    expect(added[1]?.message.payload).toMatchObject({
      event: 'user.password-changed',
      userId: account.id,
    });
  });

  it('a link used by several requests at once stages its event once', async () => {
    const api = offlineApp();
    const account = await registerOffline(api, 'offline-links');
    const verification = (await stagedFor(account.id)).find(
      (job) => job.type === 'email.verification',
    );
    const confirms = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.call('POST', '/v1/auth/verify-email/confirm', {
          body: { token: tokenIn(verification) },
        }),
      ),
    );
    expect(confirms.map((response) => response.status).sort()).toEqual([200, 400, 400, 400]);

    expect(
      (await api.call('POST', '/v1/auth/password/forgot', { body: { email: account.email } }))
        .status,
    ).toBe(202);
    await api.settled();
    const resetEmail = (await stagedFor(account.id)).find(
      (job) => job.type === 'email.password-reset',
    );
    const resets = await Promise.all(
      ['Cobalt#River31Falcon', 'Cobalt#River32Falcon', 'Cobalt#River33Falcon'].map((password) =>
        api.call('POST', '/v1/auth/password/reset', {
          body: { token: tokenIn(resetEmail), password },
        }),
      ),
    );
    expect(resets.map((response) => response.status).sort()).toEqual([204, 400, 400]);
    await api.settled();

    const events = (await stagedFor(account.id))
      .filter((job) => job.type === 'audit.record')
      .map((job) => job.message.payload.event);
    expect(events).toEqual(['user.registered', 'user.email-verified', 'user.password-changed']);
    expect(
      (await stagedFor(account.id)).filter((job) => job.type === 'email.password-changed'),
    ).toHaveLength(1);
  });

  it('a token already spent changes nothing and stages nothing, even past the lookup', async () => {
    const api = offlineApp();
    const account = await registerOffline(api, 'offline-spent');
    const { rows } = await auth.db.execute({
      sql: "SELECT id FROM one_time_tokens WHERE user_id = ? AND purpose = 'email_verification'",
      args: [account.id],
    });
    const tokenId = String(rows[0]?.id);
    // The repository's own batch, as a request whose lookup raced another's spend would run it.
    const accounts = createAuthRepository(api.deps.db);
    const event = { event: 'user.email-verified', userId: account.id } as const;
    const jobsFor = () =>
      domainEventJobs(api.deps, { ...event, email: account.email, name: account.name });
    const before = (await stagedFor(account.id)).length;

    expect(await accounts.confirmEmail(tokenId, account.id, new Date(), jobsFor())).toMatchObject({
      id: account.id,
    });
    expect(await accounts.confirmEmail(tokenId, account.id, new Date(), jobsFor())).toBeUndefined();
    expect(
      await accounts.resetPassword(tokenId, account.id, 'unused-hash', new Date(), jobsFor()),
    ).toBe(false);
    expect((await stagedFor(account.id)).length).toBe(before + 1);
  });
});
