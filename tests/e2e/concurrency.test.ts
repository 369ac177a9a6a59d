// Many requests at once on one Worker isolate, as clients all over the world send them: none may
// leave a client that other requests use in a state that blocks them, whatever happens to it
// (it finishes first, its client hangs up, the database stops answering under it). Judged by what
// clients see: every answer, readiness right after, and the requests that follow.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  newAccount,
  newClientIp,
  register,
  type Session,
  startIdentityWorker,
} from './harness/identity.ts';

interface Deployment {
  worker: IdentityWorker;
  knownUserId: string;
  /** Signed-in accounts; each is renamed at most once per test. */
  accounts: (Account & { session: Session })[];
}

/** The Worker under load. */
let loaded: Deployment;
/** A Worker whose database sits behind a proxy the test pauses; it waits 1 s for the database. */
let pausable: Deployment;
let databaseProxy: FaultProxy;
/** A Worker whose clients hang up while their queries are held at its database. */
let abandoned: Deployment;
let heldDatabase: FaultProxy;

async function signedIn(worker: IdentityWorker, count: number): Promise<Deployment['accounts']> {
  const accounts: Deployment['accounts'] = [];
  while (accounts.length < count) {
    const batch = Math.min(10, count - accounts.length);
    accounts.push(
      ...(await Promise.all(Array.from({ length: batch }, () => register(worker, 'load')))),
    );
  }
  return accounts;
}

async function deploy(worker: IdentityWorker, accounts: number): Promise<Deployment> {
  const known = await register(worker, 'known');
  return { worker, knownUserId: known.id, accounts: await signedIn(worker, accounts) };
}

beforeAll(async () => {
  [databaseProxy, heldDatabase] = await Promise.all([
    startFaultProxy({ target: await closedPortUrl() }),
    startFaultProxy({ target: await closedPortUrl() }),
  ]);
  // A loaded 2-core CI machine must not turn slow answers into timeouts: the load tests look for
  // requests left hanging, which no timeout this long would hide. Redis is never the backend
  // under test here, so its checks (rate limits, the deny-list) wait as long.
  const patientRedis = { RATE_LIMIT_TIMEOUT_MS: '20000' };
  const patient = { ...patientRedis, DATABASE_TIMEOUT_MS: '20000' };
  const [plain, paused, held] = await Promise.all([
    startIdentityWorker(patient),
    startIdentityWorker({
      ...patientRedis,
      TURSO_DATABASE_URL: databaseProxy.url,
      DATABASE_TIMEOUT_MS: '1000',
    }),
    startIdentityWorker({ ...patient, TURSO_DATABASE_URL: heldDatabase.url }),
  ]);
  databaseProxy.setTarget(paused.stackEnv.TURSO_DATABASE_URL);
  heldDatabase.setTarget(held.stackEnv.TURSO_DATABASE_URL);
  [loaded, pausable, abandoned] = await Promise.all([
    deploy(plain, 60),
    deploy(paused, 0),
    deploy(held, 0),
  ]);
}, 120_000);

afterAll(async () => {
  databaseProxy?.resume();
  heldDatabase?.resume();
  await Promise.allSettled([
    loaded?.worker.close(),
    pausable?.worker.close(),
    abandoned?.worker.close(),
  ]);
  await Promise.allSettled([databaseProxy?.close(), heldDatabase?.close()]);
});

type Kind = 'read' | 'missing' | 'register' | 'rename';

interface Outcome {
  kind: Kind;
  status: number;
  body: { success: boolean; error?: { code: string; details?: unknown } };
  /** What a write stored, when it was accepted: the new account's email, or the new name. */
  wrote?: { email: string } | { userId: string; name: string };
}

const expectedStatus: Record<Kind, number> = {
  read: 200,
  missing: 404,
  register: 201,
  rename: 200,
};

/** One client's request, from an address of its own. */
async function send(
  { worker, knownUserId, accounts }: Deployment,
  kind: Kind,
  signal?: AbortSignal,
): Promise<Outcome> {
  const ip = newClientIp();
  let response: Response;
  let wrote: Outcome['wrote'];
  if (kind === 'register') {
    const account = newAccount('concurrency');
    wrote = { email: account.email };
    response = await call(worker, 'POST', '/v1/auth/register', { body: account, ip });
  } else if (kind === 'rename') {
    const account = accounts.pop();
    if (account === undefined) throw new Error('no account left to rename');
    const name = `Renamed ${crypto.randomUUID().slice(0, 8)}`;
    wrote = { userId: account.id, name };
    response = await call(worker, 'PATCH', '/v1/me', {
      token: account.session.accessToken,
      body: { name },
      ip,
    });
  } else {
    const id = kind === 'read' ? knownUserId : crypto.randomUUID();
    response = await worker.fetch(`/v1/users/${id}`, {
      headers: { 'cf-connecting-ip': ip },
      ...(signal !== undefined && { signal }),
    });
  }
  const body = (await response.json()) as Outcome['body'];
  return { kind, status: response.status, body, ...(wrote !== undefined && { wrote }) };
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { kind, status } of outcomes) {
    counts[`${kind} ${status}`] = (counts[`${kind} ${status}`] ?? 0) + 1;
  }
  return counts;
}

async function expectServedNormally({ worker, knownUserId }: Deployment): Promise<void> {
  const ready = await worker.fetch('/health/ready');
  expect(ready.status, await ready.clone().text()).toBe(200);
  await dataOf(await worker.fetch(`/v1/users/${knownUserId}`), 200);
  const missing = await worker.fetch(`/v1/users/${crypto.randomUUID()}`);
  await expectErrorEnvelope(missing, 404, 'NOT_FOUND');
}

/** Every write answered as accepted is in the database: no accepted write was lost. */
async function expectStored({ worker }: Deployment, outcomes: Outcome[]): Promise<void> {
  for (const { status, kind, wrote } of outcomes) {
    if (status !== expectedStatus[kind] || wrote === undefined) continue;
    const { rows } =
      'email' in wrote
        ? await worker.db.execute({
            sql: 'SELECT name FROM users WHERE email = ?',
            args: [wrote.email],
          })
        : await worker.db.execute({
            sql: 'SELECT name FROM users WHERE id = ?',
            args: [wrote.userId],
          });
    expect(rows, JSON.stringify(wrote)).toHaveLength(1);
    if ('name' in wrote) expect(rows[0]?.name).toBe(wrote.name);
  }
}

describe('under concurrent load', { timeout: 120_000 }, () => {
  it('answers 200 concurrent reads of missing users with 404, and stays ready', async () => {
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => send(loaded, 'missing')));
    expect(tally(outcomes)).toEqual({ 'missing 404': 200 });
    await expectServedNormally(loaded);
  });

  it('answers 200 concurrent reads and writes, stores every write, and stays ready', async () => {
    const kinds: Kind[] = [
      ...Array<Kind>(50).fill('read'),
      ...Array<Kind>(50).fill('missing'),
      ...Array<Kind>(60).fill('rename'),
      ...Array<Kind>(40).fill('register'),
    ];
    const outcomes = await Promise.all(kinds.map((kind) => send(loaded, kind)));
    expect(tally(outcomes)).toEqual({
      'read 200': 50,
      'missing 404': 50,
      'rename 200': 60,
      'register 201': 40,
    });
    await expectStored(loaded, outcomes);
    await expectServedNormally(loaded);
  });

  it('serves everyone after 100 clients hang up while their queries wait at the database', async () => {
    const before = heldDatabase.counts.requests;
    heldDatabase.pause();
    const clients = Array.from({ length: 100 }, () => new AbortController());
    const hungUp = clients.map((client) =>
      send(abandoned, 'missing', client.signal).catch(() => undefined),
    );
    // At least as many queries as the libSQL client has slots (20) are held mid-request.
    await eventually('queries held at the database', () =>
      heldDatabase.counts.requests - before >= 20 ? true : undefined,
    );
    for (const client of clients) client.abort();
    await Promise.all(hungUp);
    heldDatabase.resume();

    const after = await Promise.all(Array.from({ length: 100 }, () => send(abandoned, 'missing')));
    expect(tally(after)).toEqual({ 'missing 404': 100 });
    await expectServedNormally(abandoned);
  });
});

describe('with the database paused for 2 s in the middle', { timeout: 120_000 }, () => {
  it('answers 503 naming the database meanwhile, loses no accepted write, and recovers by itself', async () => {
    // A steady stream of requests for 4 s (five every 50 ms), with the database paused from the
    // first second to the third.
    const cycle: Kind[] = ['missing', 'read', 'register', 'missing', 'read'];
    const pending: Promise<Outcome>[] = [];
    const started = Date.now();
    while (Date.now() - started < 4_000) {
      const elapsed = Date.now() - started;
      if (elapsed >= 1_000 && elapsed < 3_000) databaseProxy.pause();
      else databaseProxy.resume();
      for (const kind of cycle) pending.push(send(pausable, kind));
      await new Promise((resume) => setTimeout(resume, 50));
    }
    databaseProxy.resume();
    const outcomes = await Promise.all(pending);

    const refused = outcomes.filter(({ status }) => status === 503);
    const otherwise = outcomes.filter(
      ({ kind, status }) => status !== 503 && status !== expectedStatus[kind],
    );
    expect(otherwise).toEqual([]);
    expect(refused.length).toBeGreaterThan(0);
    for (const { body } of refused) {
      expect(body).toMatchObject({
        success: false,
        error: { code: 'SERVICE_UNAVAILABLE', details: { backend: 'database' } },
      });
    }
    await expectStored(pausable, outcomes);
    await expectServedNormally(pausable);
    // Recovered means every read is served again. Twenty at a time: this deployment allows each
    // database request 1 s, which a hundred at once can outlast on a loaded machine.
    const after: Outcome[] = [];
    for (let round = 0; round < 5; round += 1) {
      after.push(
        ...(await Promise.all(Array.from({ length: 20 }, () => send(pausable, 'missing')))),
      );
    }
    expect(tally(after)).toEqual({ 'missing 404': 100 });
  });
});
