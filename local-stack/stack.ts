// Starts the three local servers together and describes them with the variable names the app
// reads in production, so switching between the local stack and the managed services changes
// values only. `npm run stack` and `npm run dev` use this; tests call it in-process.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningHttpServer } from './http-server.ts';
import { startLibsqlServer } from './libsql/server.ts';
import { startQstashBroker } from './qstash/server.ts';
import { MemoryRedisBackend } from './redis-memory/memory-backend.ts';
import type { RedisBackend } from './redis-rest/backend.ts';
import { connectRespBackend } from './redis-rest/resp-backend.ts';
import { startRedisRestServer } from './redis-rest/server.ts';

export interface LocalStackOptions {
  host: string;
  libsqlPort: number;
  redisRestPort: number;
  qstashPort: number;
  /** Folder for the libSQL database file and the broker's state. */
  dataDir: string;
  /** A real Redis to put behind the REST server; "memory" (or an unreachable one) uses the embedded engine. */
  redisUrl: string;
  tursoAuthToken: string;
  redisRestToken: string;
  qstashToken: string;
  qstashCurrentSigningKey: string;
  qstashNextSigningKey: string;
  /** Multiplies QStash's retry backoff; tests shrink it. */
  qstashRetryDelayScale: number;
}

export interface LocalStack {
  /** The eight variables the app reads, under their official names. */
  env: {
    TURSO_DATABASE_URL: string;
    TURSO_AUTH_TOKEN: string;
    UPSTASH_REDIS_REST_URL: string;
    UPSTASH_REDIS_REST_TOKEN: string;
    QSTASH_URL: string;
    QSTASH_TOKEN: string;
    QSTASH_CURRENT_SIGNING_KEY: string;
    QSTASH_NEXT_SIGNING_KEY: string;
  };
  /** Which engine serves Upstash Redis, and why, for the start-up line. */
  redisBackend: string;
  close(): Promise<void>;
}

// Fixed, documented defaults: the official local tools' ports where they exist (turso dev 8080,
// serverless-redis-http 8079), the next free one for QStash, and development-only secrets that a
// production deployment never sees. The signing keys are the QStash CLI dev server's.
export const localStackDefaults: LocalStackOptions = {
  host: '127.0.0.1',
  libsqlPort: 8080,
  redisRestPort: 8079,
  qstashPort: 8081,
  dataDir: '.local-stack',
  redisUrl: 'redis://127.0.0.1:6379',
  tursoAuthToken: 'local-turso-token',
  redisRestToken: 'local-upstash-redis-token',
  qstashToken: 'local-qstash-token',
  qstashCurrentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  qstashNextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
  qstashRetryDelayScale: 1,
};

async function openRedisBackend(
  redisUrl: string,
): Promise<{ backend: RedisBackend; note: string }> {
  if (redisUrl === 'memory')
    return { backend: new MemoryRedisBackend(), note: 'memory (as asked)' };
  try {
    const backend = await connectRespBackend(redisUrl, { connectTimeoutMs: 1_000 });
    return { backend, note: backend.description };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      backend: new MemoryRedisBackend(),
      note: `memory (${reason})`,
    };
  }
}

// Listening is not answering: ask each server one real question before declaring the stack up.
async function checkAnswering(
  libsqlUrl: string,
  redisUrl: string,
  redisToken: string,
  qstashUrl: string,
  qstashToken: string,
): Promise<void> {
  const probes: [string, Promise<Response>][] = [
    ['libSQL', fetch(`${libsqlUrl}/health`)],
    [
      'Upstash Redis',
      fetch(redisUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${redisToken}` },
        body: '["PING"]',
      }),
    ],
    [
      'QStash',
      fetch(`${qstashUrl}/v2/queues`, { headers: { authorization: `Bearer ${qstashToken}` } }),
    ],
  ];
  for (const [name, probe] of probes) {
    const response = await probe;
    await response.arrayBuffer();
    if (!response.ok)
      throw new Error(`local ${name} server answered ${response.status} to its health probe`);
  }
}

export async function startLocalStack(
  overrides: Partial<LocalStackOptions> = {},
): Promise<LocalStack> {
  const options = { ...localStackDefaults, ...overrides };
  await mkdir(options.dataDir, { recursive: true });
  const started: RunningHttpServer[] = [];
  const { backend, note: redisBackend } = await openRedisBackend(options.redisUrl);
  const closeAll = async () => {
    await Promise.all(started.map((server) => server.close()));
    await backend.close();
  };
  try {
    const libsql = await startLibsqlServer({
      host: options.host,
      port: options.libsqlPort,
      dbFile: join(options.dataDir, 'libsql.db'),
      authToken: options.tursoAuthToken,
    });
    started.push(libsql);
    const redis = await startRedisRestServer({
      host: options.host,
      port: options.redisRestPort,
      token: options.redisRestToken,
      backend,
    });
    started.push(redis);
    const qstash = await startQstashBroker({
      host: options.host,
      port: options.qstashPort,
      token: options.qstashToken,
      currentSigningKey: options.qstashCurrentSigningKey,
      nextSigningKey: options.qstashNextSigningKey,
      stateFile: join(options.dataDir, 'qstash.db'),
      retryDelayScale: options.qstashRetryDelayScale,
    });
    started.push(qstash);
    await checkAnswering(
      libsql.url,
      redis.url,
      options.redisRestToken,
      qstash.url,
      options.qstashToken,
    );
    return {
      env: {
        TURSO_DATABASE_URL: libsql.url,
        TURSO_AUTH_TOKEN: options.tursoAuthToken,
        UPSTASH_REDIS_REST_URL: redis.url,
        UPSTASH_REDIS_REST_TOKEN: options.redisRestToken,
        QSTASH_URL: qstash.url,
        QSTASH_TOKEN: options.qstashToken,
        QSTASH_CURRENT_SIGNING_KEY: options.qstashCurrentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: options.qstashNextSigningKey,
      },
      redisBackend,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * The keys `npm run dev` gives the Worker, so sessions survive a restart; never a deployment's,
 * where they are secrets (`wrangler secret put JWT_SIGNING_KEYS`). The admin CLI uses them too.
 */
export const developmentKeys = {
  JWT_SIGNING_KEYS: 'dev-1:nexus-edge-development-signing-secret-not-for-production',
  PARTNER_SECRETS_KEY: 'ZGV2LW9ubHktcGFydG5lci1zZWNyZXRzLWtleS14eHg',
} as const;
