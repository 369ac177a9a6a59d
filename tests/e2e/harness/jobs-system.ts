// The whole jobs system of one test file, as a deployment runs it, every piece on free ports:
//
//   client, QStash (edge jobs, /jobs/failed) ──> edge proxy ──> Worker bundle in workerd
//   QStash (node jobs) ──> worker proxy ──> worker-jobs ──> SMTP inbox
//
// Both apps' log lines are kept for the tests (`logs`, `nodeLogs`), not printed.
//
// - a private redis-server behind the local Upstash REST server (job state, replay keys, limits),
//   which both apps reach through a fault proxy (`redisProxy`: a slow or failing Upstash);
// - the local libSQL server on a temporary file, with drizzle/'s migrations, which a test can stop
//   and start again on the same port over the same file (`libsql.stop()` / `libsql.start()`);
// - the local QStash broker with retries shrunk 1000-fold unless told otherwise, which a test can
//   stop and start again on the same port over the same state file (`broker.stop()` /
//   `broker.start()`);
// - a real SMTP server (tests/support/smtp-inbox.ts);
// - worker-jobs (createWorkerApp on @hono/node-server) behind a fault proxy whose URL is its
//   JOBS_BASE_URL, so QStash signs deliveries for the proxy's URL, as for a public one;
// - the Worker bundle in Miniflare behind another fault proxy whose URL is its API_PUBLIC_URL.
// Both proxies forward untouched until a test gives them rules (tests/support/fault-proxy.ts).

import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import { type Client, createClient } from '@libsql/client';
import { Miniflare, type RequestInit, type Response } from 'miniflare';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import type { RunningHttpServer } from '../../../local-stack/http-server.ts';
import { startLibsqlServer } from '../../../local-stack/libsql/server.ts';
import { type QstashBroker, startQstashBroker } from '../../../local-stack/qstash/server.ts';
import { signDelivery } from '../../../local-stack/qstash/signing.ts';
import { connectRespBackend } from '../../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../../local-stack/redis-rest/server.ts';
import { localStackDefaults } from '../../../local-stack/stack.ts';
import { migrateDatabase } from '../../../src/entries/migrate.ts';
import { createLogger, type LogLevel } from '../../../src/lib/logger.ts';
import { createWorkerApp } from '../../../worker-jobs/app.ts';
import { parseWorkerConfig } from '../../../worker-jobs/config.ts';
import { createWorkerDeps } from '../../../worker-jobs/deps.ts';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.ts';
import { type SmtpInbox, startSmtpInbox } from '../../support/smtp-inbox.ts';
import { login, register } from './identity.ts';
import { type PrivateRedis, startPrivateRedis } from './redis-server.ts';
import { bucketKeys, defaultJwtKey, type E2eWorker, miniflareAssets } from './worker.ts';
import { WorkerLogs } from './worker-logs.ts';

export const publicAppUrl = 'https://app.example.com';

/** A local server a test can stop, as an outage, and start again where its clients look for it. */
export interface RestartableServer {
  /** The same after a restart. */
  readonly url: string;
  /** Closes the server and its connections: nothing listens on its port until `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port over the same state. */
  start(): Promise<void>;
}

export interface RestartableBroker extends RestartableServer {
  readonly token: string;
  /** Calls the broker's REST API as @upstash/qstash does. */
  api(
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<globalThis.Response>;
}

export interface JobsSystem extends E2eWorker {
  /** The edge's public URL (API_PUBLIC_URL): the proxy in front of workerd. */
  edgeUrl: string;
  edgeProxy: FaultProxy;
  /** worker-jobs' public URL (JOBS_BASE_URL): the proxy in front of it. */
  workerUrl: string;
  workerProxy: FaultProxy;
  /** What worker-jobs logged, line by line, at `nodeLogLevel`. */
  nodeLogs: WorkerLogs;
  broker: RestartableBroker;
  /** The libSQL server both apps use, over one database file. */
  libsql: RestartableServer;
  /** In front of the Upstash REST server: UPSTASH_REDIS_REST_URL of both apps. */
  redisProxy: FaultProxy;
  smtp: SmtpInbox;
  /** The database, for what no route shows (audit rows, outbox rows). */
  db: Client;
  /** A body signed for `url` as QStash signs deliveries (current key unless told otherwise). */
  signedDelivery(
    url: string,
    body: string,
    options?: { signingKey?: string; nowMs?: number; signedUrl?: string },
  ): { headers: Record<string, string>; body: string };
}

export interface JobsSystemOptions {
  /** Extra Worker variables. */
  vars?: Record<string, string>;
  /** worker-jobs' LOG_LEVEL: 'warn' unless told. */
  nodeLogLevel?: LogLevel;
  /** Extra worker-jobs variables. */
  nodeVars?: Record<string, string>;
  /** What the broker multiplies retry delays by: 0.001 unless told. */
  retryDelayScale?: number;
}

const edgeDirect = 'https://api.e2e.test';
/** The Worker's PARTNER_SECRETS_KEY. */
export const partnerSecretsKey = Buffer.alloc(32, 7).toString('base64url');

export async function startJobsSystem(options: JobsSystemOptions = {}): Promise<JobsSystem> {
  const bundle = inject('worker');
  const cleanups: (() => Promise<unknown>)[] = [];
  // Every step runs even when one fails, so no server, child or folder outlives the file.
  const close = async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw new AggregateError(failures, 'jobs system cleanup failed');
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'nexus-edge-jobs-e2e-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const redis: PrivateRedis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const backend = await connectRespBackend(redis.url, { connectTimeoutMs: 2_000 });
    cleanups.push(() => backend.close());
    const redisRest = await startRedisRestServer({
      port: 0,
      host: '127.0.0.1',
      token: localStackDefaults.redisRestToken,
      backend,
    });
    cleanups.push(() => redisRest.close());
    const redisProxy = await startFaultProxy({ target: redisRest.url });
    cleanups.push(() => redisProxy.close());
    const libsql = await startLibsql(join(dataDir, 'libsql.db'));
    cleanups.push(() => libsql.stop());
    const broker = await startBroker(join(dataDir, 'qstash.db'), options.retryDelayScale ?? 0.001);
    cleanups.push(() => broker.stop());

    const stackEnv = {
      TURSO_DATABASE_URL: libsql.url,
      TURSO_AUTH_TOKEN: localStackDefaults.tursoAuthToken,
      UPSTASH_REDIS_REST_URL: redisProxy.url,
      UPSTASH_REDIS_REST_TOKEN: localStackDefaults.redisRestToken,
      QSTASH_URL: broker.url,
      QSTASH_TOKEN: localStackDefaults.qstashToken,
      QSTASH_CURRENT_SIGNING_KEY: localStackDefaults.qstashCurrentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: localStackDefaults.qstashNextSigningKey,
    };
    await migrateDatabase(stackEnv.TURSO_DATABASE_URL, stackEnv.TURSO_AUTH_TOKEN);
    const db = createClient({ url: libsql.url, authToken: localStackDefaults.tursoAuthToken });
    cleanups.push(async () => db.close());

    const smtp = await startSmtpInbox();
    cleanups.push(() => smtp.close());

    // Each proxy learns its destination once that listens; its own URL is needed first, since
    // it is the public URL the destination is configured with.
    const workerProxy = await startFaultProxy({ target: 'http://127.0.0.1:9' });
    cleanups.push(() => workerProxy.close());
    const edgeProxy = await startFaultProxy({ target: 'http://127.0.0.1:9' });
    cleanups.push(() => edgeProxy.close());

    const workerConfig = parseWorkerConfig({
      ...stackEnv,
      HOST: '127.0.0.1',
      PORT: '0',
      JOBS_BASE_URL: workerProxy.url,
      SMTP_URL: smtp.url,
      PUBLIC_APP_URL: publicAppUrl,
      LOG_LEVEL: options.nodeLogLevel ?? 'warn',
      ...options.nodeVars,
    });
    const nodeLogs = new WorkerLogs();
    const workerDeps = createWorkerDeps(
      workerConfig,
      createLogger(workerConfig.LOG_LEVEL, (line) => nodeLogs.add(line)),
    );
    const workerApp = createWorkerApp(workerDeps);
    const workerServer = serve({ fetch: workerApp.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((ready) => workerServer.once('listening', () => ready()));
    cleanups.push(async () => {
      // Deliveries still in flight when a test ends are cut off, not waited for.
      (workerServer as Server).closeAllConnections();
      await new Promise((done) => workerServer.close(done));
      workerDeps.mailer.close();
    });
    const { port: workerPort } = workerServer.address() as AddressInfo;
    workerProxy.setTarget(`http://127.0.0.1:${workerPort}`);

    const logs = new WorkerLogs();
    const mf = new Miniflare({
      // The bundle is self-contained; listing it as the one module stops Miniflare from trying
      // to resolve the dynamic `import("node:...")` calls left in library code that never runs.
      modules: [{ type: 'ESModule', path: bundle.bundlePath }],
      modulesRoot: dirname(bundle.bundlePath),
      compatibilityDate: bundle.compatibilityDate,
      compatibilityFlags: bundle.compatibilityFlags,
      // Miniflare's R2, in memory: the bucket wrangler.toml binds as FILES.
      r2Buckets: ['FILES'],
      ...miniflareAssets(bundle),
      host: '127.0.0.1',
      port: 0,
      bindings: {
        ...bundle.vars,
        ...stackEnv,
        APP_ENV: 'test',
        JWT_SIGNING_KEYS: `${defaultJwtKey.kid}:${defaultJwtKey.secret}`,
        PARTNER_SECRETS_KEY: partnerSecretsKey,
        API_PUBLIC_URL: edgeProxy.url,
        JOBS_BASE_URL: workerProxy.url,
        PUBLIC_APP_URL: publicAppUrl,
        // The general policy is not under test here; each test client has an address of its own.
        RATE_LIMIT_GENERAL: '100000/1h',
        // Signup fails closed when its limit cannot be checked in time; on a loaded test machine
        // a slow answer from Redis is not the outage that rule is for (nor a cache outage).
        RATE_LIMIT_TIMEOUT_MS: '15000',
        CACHE_TIMEOUT_MS: '15000',
        ...options.vars,
      },
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        logs.follow(stdout);
        logs.follow(stderr);
      },
    });
    cleanups.push(() => mf.dispose());
    const mfUrl = await mf.ready;
    edgeProxy.setTarget(mfUrl.origin);

    return {
      fetch: (path: string, init?: RequestInit): Promise<Response> =>
        mf.dispatchFetch(new URL(path, edgeDirect), init),
      url: mfUrl,
      logs,
      redis,
      stackEnv,
      storedKeys: () => bucketKeys(mf),
      edgeUrl: edgeProxy.url,
      edgeProxy,
      workerUrl: workerProxy.url,
      workerProxy,
      nodeLogs,
      broker,
      libsql,
      redisProxy,
      smtp,
      db,
      signedDelivery(url, body, signing = {}) {
        return {
          headers: {
            'content-type': 'application/json',
            'upstash-message-id': `msg_e2e_${crypto.randomUUID()}`,
            'upstash-signature': signDelivery({
              url: signing.signedUrl ?? url,
              body: new TextEncoder().encode(body),
              signingKey: signing.signingKey ?? stackEnv.QSTASH_CURRENT_SIGNING_KEY,
              nowMs: signing.nowMs ?? Date.now(),
            }),
          },
          body,
        };
      },
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** The libSQL server on a port it keeps across restarts, over one database file. */
async function startLibsql(dbFile: string): Promise<RestartableServer> {
  const options = { host: '127.0.0.1', dbFile, authToken: localStackDefaults.tursoAuthToken };
  let running: RunningHttpServer | undefined = await startLibsqlServer({ ...options, port: 0 });
  const { port, url } = running;
  return {
    url,
    async stop() {
      const server = running;
      running = undefined;
      await server?.close();
    },
    async start() {
      if (running !== undefined) throw new Error('the libSQL server is already running');
      running = await startLibsqlServer({ ...options, port });
    },
  };
}

/** The QStash broker on a port it keeps across restarts, over one state file. */
async function startBroker(stateFile: string, retryDelayScale: number): Promise<RestartableBroker> {
  const options = {
    host: '127.0.0.1',
    token: localStackDefaults.qstashToken,
    currentSigningKey: localStackDefaults.qstashCurrentSigningKey,
    nextSigningKey: localStackDefaults.qstashNextSigningKey,
    stateFile,
    // Backoffs of seconds to an hour become milliseconds to seconds by default: retries happen in
    // a test.
    retryDelayScale,
  };
  let running: QstashBroker | undefined = await startQstashBroker({ ...options, port: 0 });
  const { port, url } = running;
  return {
    url,
    token: options.token,
    async stop() {
      const broker = running;
      running = undefined;
      await broker?.close();
    },
    async start() {
      if (running !== undefined) throw new Error('the broker is already running');
      running = await startQstashBroker({ ...options, port });
    },
    api: (path, init = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${options.token}`, ...init.headers },
      }),
  };
}

/** An administrator's access token: an account registered, then promoted as an operator would. */
export async function adminSession(system: JobsSystem): Promise<{ token: string; ip: string }> {
  const admin = await register(system, 'admin');
  await system.db.execute({
    sql: "UPDATE users SET role = 'admin' WHERE id = ?",
    args: [admin.id],
  });
  const session = await login(system, admin);
  return { token: session.accessToken, ip: admin.ip };
}

/** A refusal as a sender over HTTP sees it: status and envelope code; returns the body. */
export async function expectRefusal(
  response: globalThis.Response,
  status: number,
  code: string,
): Promise<{ error: { code: string } }> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { success: boolean; error: { code: string } };
  expect(body).toMatchObject({ success: false, error: { code } });
  return body;
}

/**
 * One jobs system for the calling test file: started before its tests, stopped after them.
 * Call the returned function inside a test (or hook) to reach it.
 */
export function jobsSystemForFile(options: JobsSystemOptions = {}): () => JobsSystem {
  let system: JobsSystem | undefined;
  beforeAll(async () => {
    system = await startJobsSystem(options);
  }, 60_000);
  afterAll(async () => {
    await system?.close();
  }, 60_000);
  return () => {
    if (system === undefined) throw new Error('the jobs system has not started');
    return system;
  };
}
