// The identity tests' deployment: the Worker with JWT keys the tests know (so they can forge tokens
// with jose), its jobs delivered to a receiver (so they read the emails), and the database at hand
// (so they can check what is stored). The requests a client makes to get a session live here too,
// so each test states only what it checks.
import { type Client, createClient } from '@libsql/client';
import { type JWTPayload, SignJWT } from 'jose';
import type { Response } from 'miniflare';
import { expect } from 'vitest';
import {
  type DeliveredJob,
  type JobReceiver,
  startJobReceiver,
} from '../../support/job-receiver.ts';
import { type E2eWorker, startE2eWorker } from './worker.ts';

/** Two keys, as during a rotation: the first signs, both verify. */
export const jwtKeys = [
  { kid: 'e2e-2026-05', secret: 'e2e.current.signing.secret!of-at-least-32-bytes' },
  { kid: 'e2e-2026-01', secret: 'e2e.previous.signing.secret!of-at-least-32-bytes' },
] as const;
export const jwtIssuer = 'https://api.e2e.test';

/** Signs claims as the Worker does (HS256, a kid), with one of its keys unless told otherwise. */
export function signAccessToken(
  claims: JWTPayload,
  { kid = jwtKeys[0].kid, secret = jwtKeys[0].secret }: { kid?: string; secret?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
    .sign(new TextEncoder().encode(secret));
}

export const jwtAudience = 'nexus-edge-e2e';

export interface IdentityWorker extends E2eWorker {
  /** The jobs the Worker queued, as QStash delivered them. */
  jobs: JobReceiver;
  /** The Worker's database, for what no route shows: hashes, expiries. */
  db: Client;
}

export async function startIdentityWorker(
  vars: Record<string, string> = {},
): Promise<IdentityWorker> {
  const jobs = await startJobReceiver();
  let worker: E2eWorker;
  try {
    worker = await startE2eWorker({
      vars: {
        JWT_SIGNING_KEYS: jwtKeys.map(({ kid, secret }) => `${kid}:${secret}`).join(','),
        JWT_ISSUER: jwtIssuer,
        JWT_AUDIENCE: jwtAudience,
        JOBS_BASE_URL: jobs.url,
        // Edge jobs (the domain events' audit records) land in the receiver too, not on a port
        // some other process may own.
        API_PUBLIC_URL: jobs.url,
        // The general policy is not under test here; each test client has an address of its own.
        RATE_LIMIT_GENERAL: '100000/1h',
        ...vars,
      },
    });
  } catch (error) {
    await jobs.close();
    throw error;
  }
  const db = createClient({
    url: worker.stackEnv.TURSO_DATABASE_URL,
    authToken: worker.stackEnv.TURSO_AUTH_TOKEN,
  });
  return {
    ...worker,
    jobs,
    db,
    async close() {
      db.close();
      await Promise.allSettled([worker.close(), jobs.close()]).then((results) => {
        const failed = results.find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
      });
    },
  };
}

let lastAddress = 0;
/** A client address no other test uses, so per-address limits never cross tests. */
export function newClientIp(): string {
  lastAddress += 1;
  return `198.18.${Math.floor(lastAddress / 250)}.${(lastAddress % 250) + 1}`;
}

let lastUser = 0;
/** A fresh account's details; the password meets the policy and has nothing of the name or email. */
export function newAccount(label: string) {
  lastUser += 1;
  return {
    email: `${label}-${lastUser}-${crypto.randomUUID().slice(0, 8)}@e2e.test`,
    name: `Tester ${label} ${lastUser}`,
    // Two digits at most: never a 3-character piece of the name or email, which the policy refuses.
    password: `Quartz#Meadow${lastUser % 100}Lantern`,
  };
}

export interface CallOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  ip?: string;
  headers?: Record<string, string>;
}

export function call(
  worker: E2eWorker,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'cf-connecting-ip': options.ip ?? '198.19.0.1',
    ...options.headers,
  };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return worker.fetch(path, {
    method,
    headers,
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
}

/** The `data` of a success envelope, after checking the status. */
export async function dataOf<T = Record<string, unknown>>(
  response: Response,
  status: number,
): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { success: boolean; data: T };
  expect(body.success).toBe(true);
  return body.data;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export interface Account {
  id: string;
  email: string;
  name: string;
  password: string;
  ip: string;
}

/** The tokens of a bearer-mode session, which every sign-in, registration and refresh answers as `session`. */
export function sessionOf(data: Record<string, unknown>): Session {
  const session = data.session as Record<string, unknown>;
  expect(session).toMatchObject({
    accessToken: expect.any(String),
    refreshToken: expect.any(String),
  });
  return session as unknown as Session;
}

/** Registers through the API, from an address of its own (signup is throttled per address). */
export async function register(
  worker: E2eWorker,
  label: string,
): Promise<Account & { session: Session }> {
  const account = newAccount(label);
  const ip = newClientIp();
  const data = await dataOf(
    await call(worker, 'POST', '/v1/auth/register', { body: account, ip }),
    201,
  );
  const user = data.user as { id: string };
  return { ...account, id: user.id, ip, session: sessionOf(data) };
}

export async function login(
  worker: E2eWorker,
  account: { email: string; password: string; ip?: string },
): Promise<Session> {
  const data = await dataOf(
    await call(worker, 'POST', '/v1/auth/login', {
      body: { email: account.email, password: account.password },
      ...(account.ip !== undefined && { ip: account.ip }),
    }),
    200,
  );
  return sessionOf(data);
}

/** The emails of this type delivered to this address so far, in order. */
export function emailsTo(jobs: JobReceiver, type: string, to: string): DeliveredJob[] {
  return jobs.jobs.filter((job) => {
    const body = job.body as { type?: unknown; payload?: { to?: unknown } };
    return job.path === `/jobs/${type}` && body.type === type && body.payload?.to === to;
  });
}

/** The token in the link of email number `after + 1` of this type sent to this address. */
export async function tokenFromEmail(
  jobs: JobReceiver,
  type: string,
  to: string,
  after = 0,
): Promise<string> {
  await jobs.waitFor(() => emailsTo(jobs, type, to).length > after);
  const email = emailsTo(jobs, type, to)[after];
  if (email === undefined) throw new Error(`no email ${after + 1} of type ${type} to ${to}`);
  const { link } = (email.body as { payload: { link: string } }).payload;
  const url = new URL(link);
  const token = url.searchParams.get('token') ?? url.pathname.split('/').at(-1);
  if (!token) throw new Error(`no token in the link ${link}`);
  return token;
}

/** Makes an account an administrator, as an operator would in the database; then log in again. */
export async function promoteToAdmin(worker: IdentityWorker, userId: string): Promise<void> {
  await worker.db.execute({
    sql: "UPDATE users SET role = 'admin' WHERE id = ?",
    args: [userId],
  });
}
