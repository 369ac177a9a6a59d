// `npm run dev`: the whole system on one machine, offline. Starts the local stack in-process,
// brings the database up to date and seeds it, then runs every child process in the list below
// (the Worker under `wrangler dev`; the Node worker joins as one more entry), waits until each
// answers its readiness URL, and prints where everything is. Ctrl-C stops the children's process
// groups and the stack, leaving no process behind.
import { migrateDatabase, printable } from '../src/entries/migrate.ts';
import { seedDatabase } from '../src/entries/seed.ts';
import { type ChildSpec, type RunningChild, startChild, waitUntilReady } from './child-process.ts';
import { type LocalStack, localStackDefaults, startLocalStack } from './stack.ts';
import { offlineWranglerEnv, projectRoot, varFlags, wranglerCommand } from './wrangler.ts';

const workerUrl = 'http://127.0.0.1:8787';
const readyTimeoutMs = 90_000;

function edgeWorker(stack: LocalStack): ChildSpec {
  const vars = {
    ...stack.env,
    APP_ENV: 'development',
    // A fixed key, so sessions survive a restart of `npm run dev`; never used in production,
    // where JWT_SIGNING_KEYS is a secret (`wrangler secret put JWT_SIGNING_KEYS`).
    JWT_SIGNING_KEYS: 'dev-1:nexus-edge-development-signing-secret-not-for-production',
  };
  return {
    name: 'worker',
    ...wranglerCommand([
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      '8787',
      '--show-interactive-dev-session=false',
      ...varFlags(vars),
    ]),
    env: offlineWranglerEnv,
    cwd: projectRoot,
    readyUrl: `${workerUrl}/health/ready`,
  };
}

const childProcesses: ((stack: LocalStack) => ChildSpec)[] = [edgeWorker];

function say(line: string): void {
  console.error(`dev: ${line}`);
}

const stack = await startLocalStack({
  dataDir: process.env.LOCAL_STACK_DIR || localStackDefaults.dataDir,
  redisUrl: process.env.REDIS_URL || localStackDefaults.redisUrl,
}).catch((error: unknown) => {
  say(`the local stack could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
say(`local stack up; Upstash Redis REST backed by ${stack.redisBackend}`);

const running: RunningChild[] = [];
let stopping: Promise<never> | undefined;

/** Stops everything once; the first reason to stop decides the exit code. */
function shutdown(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    say('stopping');
    await Promise.all(running.map((child) => child.stop()));
    await stack.close();
    say('stopped');
    process.exit(exitCode);
  })();
  return stopping;
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  const { TURSO_DATABASE_URL: dbUrl, TURSO_AUTH_TOKEN: dbToken } = stack.env;
  const { applied } = await migrateDatabase(dbUrl, dbToken);
  say(
    applied.length === 0
      ? `database ${printable(dbUrl)} is up to date`
      : `applied ${applied.join(', ')} to ${printable(dbUrl)}`,
  );
  const seeded = await seedDatabase(dbUrl, dbToken, (line) => say(`seed: ${line}`));
  say(`seeded ${seeded.created.length} user(s), ${seeded.alreadyPresent.length} already present`);

  for (const spec of childProcesses.map((make) => make(stack))) {
    const child = startChild(spec);
    running.push(child);
    void child.exited.then((how) => {
      if (stopping !== undefined) return;
      say(`${spec.name} ${how}; stopping everything`);
      void shutdown(1);
    });
  }
  await Promise.all(running.map((child) => waitUntilReady(child, readyTimeoutMs)));
} catch (error) {
  // A start cut short by Ctrl-C is not a failure to report.
  if (stopping === undefined) say(error instanceof Error ? error.message : String(error));
  await shutdown(1);
}

say('ready. Ctrl-C stops everything.');
console.error(`
  API            ${workerUrl}
  API docs       ${workerUrl}/docs
  OpenAPI        ${workerUrl}/openapi.json
  readiness      ${workerUrl}/health/ready
  libSQL         ${stack.env.TURSO_DATABASE_URL}
  Upstash Redis  ${stack.env.UPSTASH_REDIS_REST_URL}
  QStash         ${stack.env.QSTASH_URL}
`);
