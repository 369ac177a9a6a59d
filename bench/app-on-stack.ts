// The app as the auth benchmarks measure it: createApp on Node, wired to a local stack that runs in
// a child process (`npm run stack`, free ports, its own data folder, the embedded Redis engine), so
// the CPU the stack's servers spend is not counted as the app's, and no shared Redis is touched.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from '../local-stack/wrangler.ts';
import { createApp } from '../src/app.ts';
import { parseConfig } from '../src/config.ts';
import { createDeps, type Deps } from '../src/deps.ts';
import { migrateDatabase } from '../src/entries/migrate.ts';
import { createLogger } from '../src/lib/logger.ts';
import { collectingExecutionContext } from '../tests/support/execution-context.ts';
import { jsonRequest } from '../tests/support/json-request.ts';

export type StackEnv = Record<string, string>;

const stackVariables = 8;

export interface StackProcess {
  env: StackEnv;
  /** The Node process running the three servers. */
  pid: number;
  /** Its LOCAL_STACK_DIR: the database, the broker's state. */
  dir: string;
  close(): Promise<void>;
}

export interface StackProcessOptions {
  /** The Redis behind the Upstash REST server; the embedded engine unless given. */
  redisUrl?: string;
  /** Node's own flags for the stack's process (`--expose-gc`, `--import`). */
  nodeArgs?: string[];
}

/** `npm run stack` on free ports; resolves once it printed its eight variables. */
export async function startStackProcess(
  workDir: string,
  { redisUrl = 'memory', nodeArgs = [] }: StackProcessOptions = {},
): Promise<StackProcess> {
  const dir = join(workDir, 'stack');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'local-stack/main.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      LIBSQL_PORT: '0',
      UPSTASH_REDIS_REST_PORT: '0',
      QSTASH_PORT: '0',
      LOCAL_STACK_DIR: dir,
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Undefined only when the process could not be started at all: then nothing is left to stop.
  const { pid } = child;
  if (pid === undefined) throw new Error('the stack process could not be started');
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const env: StackEnv = {};
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`stack not ready in 30 s:\n${stderr}`)),
        30_000,
      );
      child.once('exit', (code) => fail(new Error(`stack exited with ${code}:\n${stderr}`)));
      if (child.stdout === null) throw new Error('the stack has no stdout');
      createInterface({ input: child.stdout }).on('line', (line) => {
        const at = line.indexOf('=');
        if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
        if (Object.keys(env).length < stackVariables) return;
        clearTimeout(timer);
        ready();
      });
    });
    child.removeAllListeners('exit');
    await migrateDatabase(env.TURSO_DATABASE_URL ?? '', env.TURSO_AUTH_TOKEN);
  } catch (error) {
    await close();
    throw error;
  }
  return { env, pid, dir, close };
}

/** Runs `measure` against a stack process started in `workDir`, and stops the stack after. */
export async function withStackProcess<T>(
  workDir: string,
  measure: (stack: StackProcess) => Promise<T>,
): Promise<T> {
  const stack = await startStackProcess(workDir);
  try {
    return await measure(stack);
  } finally {
    await stack.close();
  }
}

/** Fixed, benchmark-only JWT settings: the first key signs. */
export const benchJwtVars = {
  JWT_SIGNING_KEYS: 'bench-1:bench.only.signing.secret!of-at-least-32-bytes',
  PARTNER_SECRETS_KEY: 'YmVuY2gtb25seS1wYXJ0bmVyLXNlY3JldHMta2V5LXg',
  JWT_ISSUER: 'https://api.bench.test',
  JWT_AUDIENCE: 'nexus-edge-bench',
};

export interface BenchApp {
  /** The app's dependencies, for setting up what no public route creates (a partner, say). */
  deps: Deps;
  /** Sends a request as Workers would (with an execution context); returns the response. */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Waits for the work the requests handed to waitUntil (cache fills, limiter bookkeeping). */
  settled(): Promise<void>;
}

/** The app on `env`; `env` may point at other URLs than the stack's (e.g. counting proxies). */
export function benchApp(env: StackEnv): BenchApp {
  const config = parseConfig({
    ...env,
    ...benchJwtVars,
    APP_ENV: 'test',
    LOG_LEVEL: 'error',
    // Limits are not what is measured: every request comes from one address.
    RATE_LIMIT_GENERAL: '1000000/1h',
  });
  const deps = { ...createDeps(config), logger: createLogger('error', () => {}) };
  const app = createApp(deps);
  const { executionCtx, settled } = collectingExecutionContext();
  return {
    deps,
    request: async (method, path, options = {}) =>
      app.request(path, jsonRequest(method, { ...options, ip: '198.18.0.1' }), {}, executionCtx),
    settled,
  };
}

export const benchAccount = {
  email: 'bench-user@bench.test',
  name: 'Bench User',
  password: 'Quartz#Meadow7Lantern',
};

async function dataOf(response: Response, status: number): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  }
  return (JSON.parse(text) as { data: Record<string, unknown> }).data;
}

/** Registers the benchmark's account; answers its id. */
export async function registerBenchAccount(app: BenchApp): Promise<string> {
  const data = await dataOf(
    await app.request('POST', '/v1/auth/register', { body: benchAccount }),
    201,
  );
  await app.settled();
  return (data.user as { id: string }).id;
}

/** Logs the benchmark's account in; answers the access token. */
export async function loginBenchAccount(app: BenchApp): Promise<string> {
  const data = await dataOf(
    await app.request('POST', '/v1/auth/login', {
      body: { email: benchAccount.email, password: benchAccount.password },
    }),
    200,
  );
  const session = (data.session ?? data) as { accessToken: string };
  return session.accessToken;
}

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * The median CPU (user + system, every thread of this process, so libuv's pool too) and wall time
 * of one call of `work`, after `warmUp` calls; `after` runs between calls, outside the count.
 */
export async function medianCost(
  work: () => Promise<unknown>,
  options: { runs: number; warmUp: number; after?: () => Promise<unknown> },
): Promise<{ cpuUs: number; wallMs: number }> {
  const after = options.after ?? (async () => {});
  for (let i = 0; i < options.warmUp; i += 1) {
    await work();
    await after();
  }
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await work();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuBefore);
    cpu.push(used.user + used.system);
    await after();
  }
  return { cpuUs: median(cpu), wallMs: median(wall) };
}
