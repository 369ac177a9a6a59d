// The accounts tests' setting: the app from createApp on a local stack (Redis database 13), its
// jobs (the Node worker's and the edge's alike) published to the stack's QStash broker and
// delivered to a receiver, so a test reads the link a user would have received. Also the requests a client makes to get an account.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@libsql/client';
import { createClient } from '@libsql/client';
import { expect } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { createApp } from '../../src/app.ts';
import { ok } from '../../src/lib/envelope.ts';
import { principalOf, requireAuth } from '../../src/modules/auth/auth.middleware.ts';
import { collectingExecutionContext } from './execution-context.ts';
import { type JobReceiver, startJobReceiver } from './job-receiver.ts';
import { jsonRequest } from './json-request.ts';
import { offlineDeps } from './offline-deps.ts';
import { startTestStack } from './test-stack.ts';

export interface AuthStack {
  stack: LocalStack;
  jobs: JobReceiver;
  /** The database as it is, for what no route shows: hashes, expiries. */
  db: Client;
  close(): Promise<void>;
}

export async function startAuthStack(): Promise<AuthStack> {
  const stack = await startTestStack({ redisDb: 13, migrate: true });
  const jobs = await startJobReceiver();
  const db = createClient({
    url: stack.env.TURSO_DATABASE_URL,
    authToken: stack.env.TURSO_AUTH_TOKEN,
  });
  return {
    stack,
    jobs,
    db,
    async close() {
      db.close();
      await jobs.close();
      await stack.close();
    },
  };
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  ip?: string;
  headers?: Record<string, string>;
}

/**
 * A client address no other test (nor an earlier run: Redis keeps the counts) uses, so
 * per-address limits never cross tests.
 */
export function newIp(): string {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c}`;
}

/** The app over the stack, with its jobs sent to the receiver; `settled` waits for waitUntil work. */
export function authApp(auth: AuthStack, overrides: Record<string, string> = {}) {
  const built = offlineDeps({
    ...auth.stack.env,
    RATE_LIMIT_GENERAL: '100000/1m',
    JOBS_BASE_URL: auth.jobs.url,
    API_PUBLIC_URL: auth.jobs.url,
    PUBLIC_APP_URL: 'https://app.example.com',
    ...overrides,
  });
  const { deps, logLines } = built;
  const app = createApp(deps);
  // A guarded route of the test's own: whether a token still opens a door, whatever routes exist.
  app.get('/test/whoami', requireAuth(), (c) => ok(c, principalOf(c)));
  const { executionCtx, settled } = collectingExecutionContext();
  const call = (method: string, path: string, options: CallOptions = {}) =>
    app.request(
      path,
      jsonRequest(method, { ...options, ip: options.ip ?? newIp() }),
      {},
      executionCtx,
    );
  return { app, deps, logLines, call, settled };
}

export type AuthApp = ReturnType<typeof authApp>;

export interface ErrorBody {
  success: false;
  error: { code: string; message: string; details?: unknown };
}

export async function errorOf(
  response: Response,
  status: number,
  code: string,
): Promise<ErrorBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(body).toMatchObject({ success: false, error: { code } });
  return body;
}

export async function dataOf<T = Record<string, unknown>>(
  response: Response,
  status: number,
): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return (JSON.parse(text) as { data: T }).data;
}

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

let lastUser = 0;
/** A new account's details: the password meets the policy and shares nothing with name or email. */
export function newAccount(label: string) {
  lastUser += 1;
  return {
    email: `${label}-${lastUser}-${randomUUID().slice(0, 8)}@example.com`,
    name: `Tester ${lastUser}`,
    password: `Quartz#Meadow${lastUser}Lantern`,
  };
}

export async function registerAccount(api: AuthApp, label: string) {
  const account = newAccount(label);
  const data = await dataOf<{ user: { id: string }; session: SessionTokens }>(
    await api.call('POST', '/v1/auth/register', { body: account }),
    201,
  );
  return { ...account, id: data.user.id, session: data.session };
}

export async function loginAccount(
  api: AuthApp,
  account: { email: string; password: string },
): Promise<SessionTokens> {
  const data = await dataOf<{ session: SessionTokens }>(
    await api.call('POST', '/v1/auth/login', {
      body: { email: account.email, password: account.password },
    }),
    200,
  );
  return data.session;
}

/** An account email as the Node worker receives it: the job message QStash delivers. */
export interface EmailJob {
  id: string;
  type: string;
  ownerId?: string;
  createdAt: string;
  payload: { to: string; name: string; link: string };
}

/**
 * The emails of `type` delivered to `to` so far (at `/jobs/<type>`), oldest first, after waiting
 * for the `count`th.
 */
export async function emailsTo(
  jobs: JobReceiver,
  type: string,
  to: string,
  count = 1,
): Promise<EmailJob[]> {
  const matching = () =>
    jobs.jobs
      .filter((job) => job.path === `/jobs/${type}`)
      .map((job) => job.body as EmailJob)
      .filter((body) => body.type === type && body.payload?.to === to);
  await jobs.waitFor(() => matching().length >= count);
  return matching();
}

export function tokenOf(email: EmailJob | undefined): string {
  if (email === undefined) throw new Error('no such email');
  const token = new URL(email.payload.link).searchParams.get('token');
  if (token === null) throw new Error(`no token in ${email.payload.link}`);
  return token;
}
