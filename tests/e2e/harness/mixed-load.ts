// A mixed load for the fault tests (tests/e2e/faults-*.test.ts): clients that loop through what
// the catalogue's users do all day (create a product, read it back, list, search) and register an
// account, which queues two emails and an audit record. Every answer is kept with the phases of
// the test it started and ended in, so a test can inject a fault mid-load, remove it, then judge
// what the clients saw and count what was stored and delivered against what was accepted.
import { expect } from 'vitest';
import { productBody } from '../../support/product-fixtures.ts';
import { eventually, holdsFor } from './eventually.ts';
import { newAccount, newClientIp, register } from './identity.ts';
import type { JobsSystem } from './jobs-system.ts';

const operations = ['create', 'read', 'list', 'search', 'register'] as const;
export type Operation = (typeof operations)[number];

export interface LoadAnswer {
  client: number;
  operation: Operation;
  /** The phase the request started in, then the one it ended in when another. */
  phases: string[];
  requestId: string;
  /** 0 when no answer came within the client's limit. */
  status: number;
  code?: string;
  details?: unknown;
  durationMs: number;
}

export interface MixedLoad {
  /** Requests from now on start in phase `name` (the first is `before`). */
  phase(name: string): void;
  readonly answers: readonly LoadAnswer[];
  /** The products answered 201, by id. */
  readonly products: readonly string[];
  /** The accounts answered 201, the clients' own included. */
  readonly accounts: readonly { id: string; email: string }[];
  /**
   * Resolves once every client has had each operation, begun in the current phase, answered
   * `times` times.
   */
  everyOperation(times?: number): Promise<void>;
  /** Lets every client finish its round, and resolves when all have stopped. */
  stop(): Promise<void>;
}

interface EnvelopeBody {
  data?: Record<string, unknown>;
  error?: { code: string; details?: unknown };
}

interface Client {
  index: number;
  token: string;
  ip: string;
}

// A word in every product's name, so a search finds them.
const searchWord = 'orrery';
// A client waits this long for an answer before counting it as none: far past any deadline.
const answerLimitMs = 60_000;

/** Registers the clients' own accounts, then starts them looping until `stop()`. */
export async function startMixedLoad(system: JobsSystem, clientCount = 4): Promise<MixedLoad> {
  const answers: LoadAnswer[] = [];
  const products: string[] = [];
  const accounts: { id: string; email: string }[] = [];
  let phase = 'before';
  let stopped = false;
  let sent = 0;

  const clients: Client[] = await Promise.all(
    Array.from({ length: clientCount }, async (_, index) => {
      const account = await register(system, 'load');
      accounts.push({ id: account.id, email: account.email });
      return { index, token: account.session.accessToken, ip: account.ip };
    }),
  );

  async function send(
    client: Client,
    operation: Operation,
    method: string,
    path: string,
    options: { token?: string; ip?: string; body?: unknown } = {},
  ): Promise<{ answer: LoadAnswer; data?: Record<string, unknown> }> {
    sent += 1;
    const requestId = `load-${client.index}-${sent}`;
    const answer: LoadAnswer = {
      client: client.index,
      operation,
      phases: [phase],
      requestId,
      status: 0,
      durationMs: 0,
    };
    const headers: Record<string, string> = {
      'cf-connecting-ip': options.ip ?? client.ip,
      'x-request-id': requestId,
    };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const started = Date.now();
    let body: EnvelopeBody = {};
    try {
      const response = await system.fetch(path, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(answerLimitMs),
      });
      answer.status = response.status;
      body = JSON.parse(await response.text()) as EnvelopeBody;
    } catch {
      // No answer in time (status 0), or one that is no envelope (its status alone is kept).
    }
    answer.durationMs = Date.now() - started;
    if (!answer.phases.includes(phase)) answer.phases.push(phase);
    if (body.error !== undefined) {
      answer.code = body.error.code;
      answer.details = body.error.details;
    }
    answers.push(answer);
    return { answer, ...(body.data !== undefined && { data: body.data }) };
  }

  async function run(client: Client): Promise<void> {
    let lastProduct: string | undefined;
    for (let round = 1; !stopped; round += 1) {
      const created = await send(client, 'create', 'POST', '/v1/products', {
        token: client.token,
        body: productBody({ name: `${searchWord} lamp ${client.index}-${round}` }),
      });
      if (created.answer.status === 201 && typeof created.data?.id === 'string') {
        lastProduct = created.data.id;
        products.push(lastProduct);
      }
      if (lastProduct !== undefined) {
        await send(client, 'read', 'GET', `/v1/products/${lastProduct}`);
      }
      await send(client, 'list', 'GET', '/v1/products?limit=20');
      await send(client, 'search', 'GET', `/v1/products/search?q=${searchWord}`);
      // Signup is limited per address: each registration comes from one of its own.
      const registered = await send(client, 'register', 'POST', '/v1/auth/register', {
        ip: newClientIp(),
        body: newAccount('load'),
      });
      const user = registered.data?.user as { id: string; email: string } | undefined;
      if (registered.answer.status === 201 && user !== undefined) {
        accounts.push({ id: user.id, email: user.email });
      }
    }
  }

  const running = Promise.all(clients.map(run));

  return {
    phase(name) {
      phase = name;
    },
    answers,
    products,
    accounts,
    async everyOperation(times = 1) {
      const current = phase;
      const done = () => {
        const counts = new Map<string, number>();
        for (const { client, operation, phases } of answers) {
          if (phases[0] !== current) continue;
          const key = `${client} ${operation}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        return clients.every(({ index }) =>
          operations.every((operation) => (counts.get(`${index} ${operation}`) ?? 0) >= times),
        );
      };
      await eventually(
        `every operation of every client ${times} times in phase ${current}`,
        () => (done() ? true : undefined),
        60_000,
      );
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

const isSuccess = (answer: LoadAnswer): boolean => answer.status >= 200 && answer.status < 300;

/** Whether the request started or ended in `phase`. */
export const during = (answer: LoadAnswer, phase: string): boolean => answer.phases.includes(phase);

/** A 503 SERVICE_UNAVAILABLE whose details say why: the backend, or the policy, given. */
export const unavailable =
  (details: { backend: 'database' | 'redis' | 'queue' } | { policy: string }) =>
  (answer: LoadAnswer): boolean =>
    answer.status === 503 &&
    answer.code === 'SERVICE_UNAVAILABLE' &&
    Object.entries(details).every(
      ([name, value]) => (answer.details as Record<string, unknown> | undefined)?.[name] === value,
    );

/** The answers that are neither a success nor a refusal `allowed` expects. */
export function unexpectedAnswers(
  load: MixedLoad,
  allowed: (answer: LoadAnswer) => boolean = () => false,
): LoadAnswer[] {
  return load.answers.filter((answer) => !isSuccess(answer) && !allowed(answer));
}

export interface WriteCounts {
  /** Writes answered 201: products and accounts. */
  accepted: number;
  /** Rows of those kinds in the database. */
  stored: number;
}

/**
 * Every write answered 201 is in the database. A write answered 503 may be there too (its commit
 * may have happened before its answer was lost), so rows beyond the accepted ones are allowed up
 * to the number of refused writes, and no more.
 */
export async function expectNoAcceptedWriteLost(
  system: JobsSystem,
  load: MixedLoad,
): Promise<WriteCounts> {
  const ids = async (table: 'products' | 'users') =>
    new Set((await system.db.execute(`SELECT id FROM ${table}`)).rows.map((row) => String(row.id)));
  const [productIds, userIds] = await Promise.all([ids('products'), ids('users')]);
  expect(load.products.filter((id) => !productIds.has(id))).toEqual([]);
  expect(load.accounts.filter(({ id }) => !userIds.has(id))).toEqual([]);
  const accepted = load.products.length + load.accounts.length;
  const stored = productIds.size + userIds.size;
  const refusedWrites = load.answers.filter(
    (answer) =>
      (answer.operation === 'create' || answer.operation === 'register') && !isSuccess(answer),
  ).length;
  expect(stored).toBeGreaterThanOrEqual(accepted);
  expect(stored - accepted).toBeLessThanOrEqual(refusedWrites);
  return { accepted, stored };
}

export interface JobCounts {
  /** The jobs of the stored accounts: a verification email, a welcome email, an audit record. */
  jobs: number;
  /** Their effects: emails received and audit rows, each counted as often as it happened. */
  delivered: number;
}

const verificationSubject = 'Confirm your email address';
const welcomeSubject = 'Welcome to nexus-edge';

/**
 * Waits until every stored account's jobs have had their effect, then watches for a while that no
 * email comes twice: one verification email, one welcome email and one audit row per account.
 */
export async function expectEveryJobOnce(system: JobsSystem): Promise<JobCounts> {
  const { rows } = await system.db.execute('SELECT id, email FROM users');
  const users = rows.map((row) => ({ id: String(row.id), email: String(row.email) }));
  const emails = () =>
    users.map(({ email }) => {
      const subjects = system.smtp.to(email).map((mail) => mail.subject);
      return {
        verification: subjects.filter((subject) => subject === verificationSubject).length,
        welcome: subjects.filter((subject) => subject === welcomeSubject).length,
      };
    });
  const audited = async () => {
    const { rows: audits } = await system.db.execute(
      "SELECT target_id FROM audit_logs WHERE action = 'user.registered'",
    );
    return audits.map((row) => String(row.target_id));
  };
  await eventually(
    "every account's emails and audit row",
    async () => {
      const targets = new Set(await audited());
      const arrived =
        emails().every((user) => user.verification > 0 && user.welcome > 0) &&
        users.every(({ id }) => targets.has(id));
      return arrived ? true : undefined;
    },
    60_000,
  );
  const eachOnce = () => emails().every((user) => user.verification === 1 && user.welcome === 1);
  await holdsFor('one verification and one welcome email per account', eachOnce, 1_500);
  const audits = await audited();
  expect(audits.filter((target, index) => audits.indexOf(target) !== index)).toEqual([]);
  const mails = emails().reduce((sum, user) => sum + user.verification + user.welcome, 0);
  return { jobs: users.length * 3, delivered: mails + audits.length };
}

/**
 * Runs the outbox sweep as hourly housekeeping does: a signed delivery of maintenance.housekeeping
 * to the edge. The sweep leaves rows younger than 30 s to the request still publishing them, so
 * they are aged first, as the wait for the next run would. Resolves with the rows it found.
 */
export async function sweepOutbox(system: JobsSystem): Promise<number> {
  const { rowsAffected } = await system.db.execute(
    'UPDATE outbox SET created_at = created_at - 60000',
  );
  const url = `${system.edgeUrl}/jobs/maintenance.housekeeping`;
  const delivery = system.signedDelivery(
    url,
    JSON.stringify({ type: 'maintenance.housekeeping', payload: {} }),
  );
  const response = await fetch(url, { method: 'POST', ...delivery });
  expect(response.status, await response.text()).toBe(200);
  return rowsAffected;
}

/** Every staged job was handed to QStash, and QStash gave up on none. */
export async function expectEveryJobHandedOver(system: JobsSystem): Promise<void> {
  await eventually('an empty outbox', async () => {
    const { rows } = await system.db.execute('SELECT count(*) AS n FROM outbox');
    return Number(rows[0]?.n) === 0 ? true : undefined;
  });
  const dlq = (await (await system.broker.api('/v2/dlq')).json()) as { messages: unknown[] };
  expect(dlq.messages).toEqual([]);
}

/** Polls /health/ready until it names exactly `failing` (none: 200, every check ok). */
export async function expectReadiness(system: JobsSystem, failing: string[]): Promise<void> {
  await eventually(
    failing.length === 0 ? 'readiness ok' : `readiness naming ${failing.join(', ')}`,
    async () => {
      const response = await system.fetch('/health/ready');
      const body = (await response.json()) as { error?: { details?: { failing?: string[] } } };
      if (failing.length === 0) return response.status === 200 ? true : undefined;
      const named = body.error?.details?.failing ?? [];
      return response.status === 503 && named.join() === failing.join() ? true : undefined;
    },
    20_000,
  );
}

/** The line each fault test prints, to be quoted; `more` adds figures of the test's own. */
export function summaryLine(
  fault: string,
  load: MixedLoad,
  writes: WriteCounts,
  jobs: JobCounts,
  more: Record<string, number> = {},
): string {
  const figures = {
    answers: load.answers.length,
    refused: load.answers.filter((answer) => !isSuccess(answer)).length,
    ...writes,
    ...jobs,
    ...more,
  };
  const pairs = Object.entries(figures).map(([name, value]) => `${name}=${value}`);
  return `faults: ${fault} ${pairs.join(' ')}`;
}
