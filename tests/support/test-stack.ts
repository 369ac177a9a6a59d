// Local backends for unit tests, each test file on its own Redis database index so files running
// side by side never share keys: the whole local stack in a temporary folder (optionally migrated
// with the real migrations) and the app built over it, or the Upstash REST server alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';
import { type LocalStack, startLocalStack } from '../../local-stack/stack.ts';
import { createApp } from '../../src/app.ts';
import { migrateDatabase } from '../../src/entries/migrate.ts';
import { offlineDeps } from './offline-deps.ts';

/** The database client's options in tests: a loaded machine's slow answer is not an outage. */
export const testDatabase = { timeoutMs: 10_000 };

const redisUrlOf = (redisDb: number) => `redis://127.0.0.1:6379/${redisDb}`;

export interface TestStackOptions {
  /** The Redis database index this test file owns. */
  redisDb: number;
  /** Apply the migrations in drizzle/ before returning. */
  migrate?: boolean;
}

/** The three local servers on free ports; close() stops them and deletes their folder. */
export async function startTestStack(options: TestStackOptions): Promise<LocalStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'nexus-test-stack-'));
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true });
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      libsqlPort: 0,
      redisRestPort: 0,
      qstashPort: 0,
      dataDir,
      redisUrl: redisUrlOf(options.redisDb),
    });
    if (options.migrate) {
      await migrateDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN);
    }
  } catch (error) {
    await stack?.close();
    await removeDataDir();
    throw error;
  }
  const started = stack;
  return {
    ...started,
    close: async () => {
      await started.close();
      await removeDataDir();
    },
  };
}

/** The app as createApp builds it over the stack's variables, with some replaced. */
export function appOnStack(env: LocalStack['env'], overrides: Record<string, string> = {}) {
  const { deps, logLines } = offlineDeps({ ...env, ...overrides });
  return { app: createApp(deps), deps, logLines };
}

export interface TestRedisRestOptions {
  redisDb: number;
  token: string;
  /** Empty the database before the tests and again on close. */
  flush?: boolean;
}

/** The local Upstash REST server in front of the real Redis; close() also drops the connection. */
export async function startTestRedisRest(
  options: TestRedisRestOptions,
): Promise<RunningHttpServer> {
  const backend = await connectRespBackend(redisUrlOf(options.redisDb));
  const flush = async () => {
    if (options.flush) await backend.call([Buffer.from('FLUSHDB')]);
  };
  let server: RunningHttpServer;
  try {
    await flush();
    server = await startRedisRestServer({ port: 0, token: options.token, backend });
  } catch (error) {
    await backend.close();
    throw error;
  }
  return {
    ...server,
    close: async () => {
      await server.close();
      await flush();
      await backend.close();
    },
  };
}
