// `npm run dev`: the whole system on one machine, offline. Starts the local stack and the local
// mailbox in-process, brings the database up to date and seeds it, then runs every child process
// in the list below (the Worker under `wrangler dev`, the Node jobs worker), waits until each
// answers its readiness URL, syncs the QStash schedules with the local broker, and prints where
// everything is. Ctrl-C stops the children's process groups, the mailbox and the stack, leaving no
// process behind.
import { join } from 'node:path';
import { migrateDatabase, printable } from '../src/entries/migrate.ts';
import { syncSchedules } from '../src/entries/schedules-sync.ts';
import { developmentPassword, seedDatabase } from '../src/entries/seed.ts';
import { type ChildSpec, type RunningChild, startChild, waitUntilReady } from './child-process.ts';
import { mailboxDefaults, type RunningMailbox, startMailbox } from './mailbox/server.ts';
import { developmentKeys, type LocalStack, localStackDefaults, startLocalStack } from './stack.ts';
import { offlineWranglerEnv, projectRoot, varFlags, wranglerCommand } from './wrangler.ts';

const workerUrl = 'http://127.0.0.1:8787';
const jobsUrl = 'http://127.0.0.1:8789';
const readyTimeoutMs = 90_000;

function edgeWorker(stack: LocalStack, mailbox: RunningMailbox): ChildSpec {
  const vars = {
    ...stack.env,
    APP_ENV: 'development',
    API_PUBLIC_URL: workerUrl,
    JOBS_BASE_URL: jobsUrl,
    // The emails' links open the mailbox's stand-ins for the web app's pages.
    PUBLIC_APP_URL: mailbox.webUrl,
    ...developmentKeys,
    // A partner's webhook URL may be a receiver on this machine (http, loopback).
    PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true',
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
      // Miniflare's R2 (uploads) and the rest of wrangler's local state, kept with the stack's.
      '--persist-to',
      join(dataDir, 'wrangler'),
      ...varFlags(vars),
    ]),
    env: offlineWranglerEnv,
    cwd: projectRoot,
    readyUrl: `${workerUrl}/health/ready`,
  };
}

/** The Node worker QStash delivers email and image jobs to; its mail goes to the local mailbox. */
function jobsWorker(stack: LocalStack, mailbox: RunningMailbox): ChildSpec {
  return {
    name: 'jobs',
    command: process.execPath,
    args: ['worker-jobs/main.ts'],
    env: {
      ...stack.env,
      HOST: '127.0.0.1',
      PORT: new URL(jobsUrl).port,
      JOBS_BASE_URL: jobsUrl,
      SMTP_URL: mailbox.smtpUrl,
      // The mailbox stands in for the web app, so the emails' links work (mailbox/app-pages.ts).
      PUBLIC_APP_URL: mailbox.webUrl,
    },
    cwd: projectRoot,
    readyUrl: `${jobsUrl}/health`,
  };
}

const childProcesses: ((stack: LocalStack, mailbox: RunningMailbox) => ChildSpec)[] = [
  edgeWorker,
  jobsWorker,
];

function say(line: string): void {
  console.error(`dev: ${line}`);
}

const dataDir = process.env.LOCAL_STACK_DIR || localStackDefaults.dataDir;
const stack = await startLocalStack({
  dataDir,
  redisUrl: process.env.REDIS_URL || localStackDefaults.redisUrl,
}).catch((error: unknown) => {
  say(`the local stack could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
say(`local stack up; Upstash Redis REST backed by ${stack.redisBackend}`);

const mailbox = await startMailbox({
  ...mailboxDefaults,
  dir: join(dataDir, 'mailbox'),
  apiUrl: workerUrl,
}).catch(async (error: unknown) => {
  say(`the local mailbox could not start: ${error instanceof Error ? error.message : error}`);
  await stack.close();
  process.exit(1);
});
say(`mailbox up: read mail at ${mailbox.webUrl}, or the .eml files in ${mailbox.dir}`);

const running: RunningChild[] = [];
let stopping: Promise<never> | undefined;

/** Stops everything once; the first reason to stop decides the exit code. */
function shutdown(exitCode: number): Promise<never> {
  stopping ??= (async () => {
    say('stopping');
    await Promise.all(running.map((child) => child.stop()));
    await Promise.all([mailbox.close(), stack.close()]);
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
  const password = process.env.SEED_PASSWORD || developmentPassword;
  const seeded = await seedDatabase(dbUrl, dbToken, {
    password,
    progress: (line) => say(`seed: ${line}`),
  });
  say(`seeded ${seeded.created.length} user(s), ${seeded.alreadyPresent.length} already present`);
  say(`seeded users sign in with the password ${password} (admin: admin@example.com)`);

  for (const spec of childProcesses.map((make) => make(stack, mailbox))) {
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

// The local broker forgets nothing between runs, and the sync is idempotent: run it every time.
await syncSchedules({
  qstashUrl: stack.env.QSTASH_URL,
  qstashToken: stack.env.QSTASH_TOKEN,
  apiPublicUrl: workerUrl,
  jobsBaseUrl: jobsUrl,
}).then(
  ({ upserted, deleted }) => {
    say(`schedules synced: ${upserted.join(', ') || 'none'}`);
    if (deleted.length > 0) say(`schedules deleted (no longer declared): ${deleted.join(', ')}`);
  },
  (error: unknown) => {
    say(`schedules not synced: ${error instanceof Error ? error.message : String(error)}`);
  },
);

say('ready. Ctrl-C stops everything.');
console.error(`
  API            ${workerUrl}
  API docs       ${workerUrl}/docs
  OpenAPI        ${workerUrl}/openapi.json
  readiness      ${workerUrl}/health/ready
  jobs worker    ${jobsUrl}  (readiness ${jobsUrl}/health/ready)
  mailbox        ${mailbox.webUrl}  (SMTP ${mailbox.smtpUrl}, files in ${mailbox.dir})
  libSQL         ${stack.env.TURSO_DATABASE_URL}
  Upstash Redis  ${stack.env.UPSTASH_REDIS_REST_URL}
  QStash         ${stack.env.QSTASH_URL}
`);
