// One test file's deployment: the real Worker bundle (built by global-setup.ts) in workerd through
// Miniflare, bound to a local stack of its own (libSQL on a temporary file, the Upstash REST server
// over a private redis-server, the QStash broker), on free ports, with drizzle/'s migrations applied.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare, type RequestInit, type Response } from 'miniflare';
import { inject } from 'vitest';
import { type LocalStack, startLocalStack } from '../../../local-stack/stack.ts';
import type { WorkerBuild } from '../../../local-stack/wrangler.ts';
import { migrateDatabase } from '../../../src/entries/migrate.ts';
import { type PrivateRedis, startPrivateRedis } from './redis-server.ts';
import { WorkerLogs } from './worker-logs.ts';

export interface E2eWorker {
  /** Sends a request to the Worker; `path` is resolved against its origin. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Where Miniflare listens on 127.0.0.1, for clients that need a socket (a browser). */
  url: URL;
  /** What the Worker logged, line by line. */
  logs: WorkerLogs;
  /** The Redis behind the stack's Upstash REST server, to stop and restart. */
  redis: PrivateRedis;
  /** The local stack's variables, as the Worker got them. */
  stackEnv: LocalStack['env'];
  /** The keys in the R2 bucket bound as FILES, sorted: what storage holds, which no route shows. */
  storedKeys(): Promise<string[]>;
  close(): Promise<void>;
}

const workerOrigin = 'https://api.e2e.test';

/**
 * The Worker's one JWT key. Its secret is also what the Worker signs its own URLs with (the
 * avatar transfers, direct uploads), so tests can sign one as the Worker would.
 */
export const defaultJwtKey = {
  kid: 'e2e-default',
  secret: 'e2e-default-signing-secret-of-at-least-32-bytes',
} as const;

/** Every key in Miniflare's FILES bucket, page after page. */
export async function bucketKeys(mf: Miniflare): Promise<string[]> {
  const bucket = await mf.getR2Bucket('FILES');
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list(cursor === undefined ? {} : { cursor });
    keys.push(...page.objects.map((object) => object.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return keys.sort();
}

/**
 * wrangler.toml's static assets (the /docs page's script), served as a deployment serves them:
 * a file that exists is answered before the Worker runs, anything else goes to the Worker.
 */
export function miniflareAssets(worker: WorkerBuild) {
  if (worker.assetsDirectory === undefined) return {};
  return {
    assets: {
      directory: worker.assetsDirectory,
      routerConfig: { has_user_worker: true },
    },
  };
}

export interface E2eWorkerOptions {
  /** Extra Worker variables (CORS_ORIGINS, MAX_BODY_BYTES, RATE_LIMIT_GENERAL, ...). */
  vars?: Record<string, string>;
}

export async function startE2eWorker(options: E2eWorkerOptions = {}): Promise<E2eWorker> {
  const worker = inject('worker');
  const cleanups: (() => Promise<unknown>)[] = [];
  // Every step runs even when one fails (a runtime that never started may refuse to dispose), so
  // no redis-server or temporary folder outlives the file.
  const close = async () => {
    const failures: unknown[] = [];
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw new AggregateError(failures, 'e2e worker cleanup failed');
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'nexus-edge-e2e-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const stack = await startLocalStack({
      libsqlPort: 0,
      redisRestPort: 0,
      qstashPort: 0,
      dataDir,
      redisUrl: redis.url,
    });
    cleanups.push(() => stack.close());
    // The stack quietly falls back to its in-memory engine when Redis does not answer: then the
    // outage tests would stop the wrong thing.
    if (!stack.redisBackend.startsWith('redis ')) {
      throw new Error(`the stack is not using the private Redis: ${stack.redisBackend}`);
    }
    // The real migrations, applied as `npm run db:migrate` applies them: the Worker meets the
    // schema a deployment has, not tables made by hand.
    await migrateDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN);

    const logs = new WorkerLogs();
    const mf = new Miniflare({
      // The bundle is self-contained; listing it as the one module stops Miniflare from trying
      // to resolve the dynamic `import("node:...")` calls left in library code that never runs.
      modules: [{ type: 'ESModule', path: worker.bundlePath }],
      // Module names are paths relative to this root; the bundle lives outside the checkout.
      modulesRoot: dirname(worker.bundlePath),
      compatibilityDate: worker.compatibilityDate,
      compatibilityFlags: worker.compatibilityFlags,
      // Miniflare's R2, in memory: the bucket wrangler.toml binds as FILES.
      r2Buckets: ['FILES'],
      ...miniflareAssets(worker),
      bindings: {
        ...worker.vars,
        ...stack.env,
        APP_ENV: 'test',
        JWT_SIGNING_KEYS: `${defaultJwtKey.kid}:${defaultJwtKey.secret}`,
        PARTNER_SECRETS_KEY: 'ZTJlLWRlZmF1bHQtcGFydG5lci1zZWNyZXRzLWtleS0',
        // As in tests/support/offline-deps.ts: a loaded machine is not a Redis outage.
        RATE_LIMIT_TIMEOUT_MS: '10000',
        CACHE_TIMEOUT_MS: '10000',
        ...options.vars,
      },
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        logs.follow(stdout);
        logs.follow(stderr);
      },
    });
    cleanups.push(() => mf.dispose());
    const url = await mf.ready;

    return {
      fetch: (path, init) => mf.dispatchFetch(new URL(path, workerOrigin), init),
      url,
      logs,
      redis,
      stackEnv: stack.env,
      storedKeys: () => bucketKeys(mf),
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
