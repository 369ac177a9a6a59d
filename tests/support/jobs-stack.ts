// The jobs tests' setting: the app from createApp on a local stack (Redis database 7), served over
// HTTP at API_PUBLIC_URL so the stack's QStash broker delivers edge jobs and failure callbacks to
// it, with Node jobs (JOBS_BASE_URL) delivered to a receiver. Deliveries can also be signed here,
// exactly as QStash signs them, and sent straight to the app.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createClient } from '@libsql/client';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import type { LocalStack } from '../../local-stack/stack.ts';
import { type App, createApp } from '../../src/app.ts';
import type { Deps } from '../../src/deps.ts';
import type { LogFields } from '../../src/lib/logger.ts';
import { type JobReceiver, startJobReceiver } from './job-receiver.ts';
import { offlineDeps } from './offline-deps.ts';
import { startTestStack } from './test-stack.ts';

export interface JobsStack {
  stack: LocalStack;
  app: App;
  deps: Deps;
  logLines: LogFields[];
  /** Where the broker reaches the app: its API_PUBLIC_URL. */
  publicUrl: string;
  /** Where the broker delivers Node jobs. */
  receiver: JobReceiver;
  /** The database as it is, for what no route shows. */
  sql: ReturnType<typeof createClient>;
  /** Another app on the same stack, with some variables replaced (e.g. QStash unreachable). */
  appWith(overrides: Record<string, string>): App;
  close(): Promise<void>;
}

export async function startJobsStack(): Promise<JobsStack> {
  const stack = await startTestStack({ redisDb: 7, migrate: true });
  const receiver = await startJobReceiver();
  let app: App | undefined;
  const server = serve({
    fetch: (request) => (app ? app.fetch(request) : new Response('starting', { status: 503 })),
    hostname: '127.0.0.1',
    port: 0,
  });
  await once(server, 'listening');
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const variables = {
    ...stack.env,
    RATE_LIMIT_GENERAL: '100000/1m',
    API_PUBLIC_URL: publicUrl,
    JOBS_BASE_URL: receiver.url,
  };
  const built = offlineDeps(variables);
  app = createApp(built.deps);
  const sql = createClient({
    url: stack.env.TURSO_DATABASE_URL,
    authToken: stack.env.TURSO_AUTH_TOKEN,
  });
  return {
    stack,
    app,
    deps: built.deps,
    logLines: built.logLines,
    publicUrl,
    receiver,
    sql,
    appWith: (overrides) => createApp(offlineDeps({ ...variables, ...overrides }).deps),
    async close() {
      sql.close();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await receiver.close();
      await stack.close();
    },
  };
}

export interface DeliveryOptions {
  /** Upstash-Message-Id; a fresh one by default. */
  messageId?: string;
  /** Defaults to the stack's current signing key. */
  signingKey?: string;
  /** The URL the signature names; defaults to the public URL of `path`. */
  signedUrl?: string;
}

export interface DeliveryAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever the envelope carries.
  body: any;
}

/** POSTs `body` to `path` as QStash delivers it, the raw JSON bytes signed; answers the envelope. */
export async function deliver(
  jobs: JobsStack,
  path: string,
  body: unknown,
  options: DeliveryOptions = {},
): Promise<DeliveryAnswer> {
  const bytes = new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  const signature = signDelivery({
    url: options.signedUrl ?? `${jobs.publicUrl}${path}`,
    body: bytes,
    signingKey: options.signingKey ?? jobs.stack.env.QSTASH_CURRENT_SIGNING_KEY,
    nowMs: Date.now(),
  });
  const res = await jobs.app.request(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'upstash-signature': signature,
      'upstash-message-id': options.messageId ?? `msg_${crypto.randomUUID()}`,
    },
    body: bytes,
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Retries `probe` until it returns a value, for what the broker does in the background. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
