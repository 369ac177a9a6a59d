// `npm run admin`, run as an operator runs it: `node src/entries/admin.ts ...` in a child process
// with a deployment's variables, here a local stack of its own (its Redis the embedded engine, so
// no Redis database index is shared). What each command did is read back through the API, built
// over the same stack: an administrator signs in, a revoked key stops working, a rotated secret
// shows in the partner's list.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@upstash/qstash';
import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  developmentKeys,
  type LocalStack,
  localStackDefaults,
  startLocalStack,
} from '../../local-stack/stack.ts';
import type { App } from '../../src/app.ts';
import { ConfigError } from '../../src/config.ts';
import { auditLogs } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { adminConfig } from '../../src/entries/admin/environment.ts';
import { migrateDatabase } from '../../src/entries/migrate.ts';
import { createDeadJobsRepository } from '../../src/jobs/dead-jobs.repository.ts';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { testJwtKeys } from '../support/offline-deps.ts';
import { appOnStack } from '../support/test-stack.ts';
import { clientOf, type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

const script = join(import.meta.dirname, '../../src/entries/admin.ts');
const partnerSecretsKey = 'YWRtaW4tY2xpLXRlc3QtcGFydG5lci1zZWNyZXRzLWs';
const apiPublicUrl = 'https://api.admin-cli.test';
const password = 'Quartz#Meadow7Lantern';
/** A run loads the whole app in a new process: seconds each on a busy machine. */
const cliTimeout = 90_000;

let dataDir: string;
let stack: LocalStack;
let app: App;
let deps: Deps;
let env: Record<string, string>;
let admin: SignedInUser;
let owner: SignedInUser;
let promotee: SignedInUser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'nexus-admin-cli-'));
  stack = await startLocalStack({
    libsqlPort: 0,
    redisRestPort: 0,
    qstashPort: 0,
    dataDir,
    redisUrl: 'memory',
  });
  await migrateDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN);
  ({ app, deps } = appOnStack(stack.env, { PARTNER_SECRETS_KEY: partnerSecretsKey }));
  [admin, owner, promotee] = (await signedInUsers(deps, [
    { name: 'Cli Admin', role: 'admin' },
    { name: 'Key Owner' },
    { name: 'Promotee' },
  ])) as [SignedInUser, SignedInUser, SignedInUser];
  // A requeued job is delivered nowhere: no process on this machine answers for the test.
  const nowhere = await closedPortUrl();
  env = {
    PATH: process.env.PATH ?? '',
    APP_ENV: 'test',
    ...stack.env,
    JWT_SIGNING_KEYS: testJwtKeys.map(({ kid, secret }) => `${kid}:${secret}`).join(','),
    PARTNER_SECRETS_KEY: partnerSecretsKey,
    API_PUBLIC_URL: apiPublicUrl,
    JOBS_BASE_URL: nowhere,
    // Each run loads the whole app: compiled once, not thirty times.
    NODE_COMPILE_CACHE: join(dataDir, 'compile-cache'),
  };
}, 30_000);

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI with the stack's variables; stdin gets `input`, or is closed at once. */
function runAdmin(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  return new Promise<Run>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [script, ...args],
      { env: options.env ?? env },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') reject(error);
        else resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

const json = (run: Run) => JSON.parse(run.stdout);

describe('--help', () => {
  it(
    'lists every command with examples, and each command has its own',
    async () => {
      const [all, one] = await Promise.all([
        runAdmin(['--help']),
        runAdmin(['dlq', 'requeue', '--help']),
      ]);
      expect(all.code).toBe(0);
      for (const command of [
        'create-admin',
        'api-keys list',
        'api-keys revoke KEY_ID',
        'dlq list',
        'dlq show ID',
        'dlq requeue ID',
        'dlq delete ID',
        'schedules sync',
        'partners rotate-secret PARTNER_ID',
      ]) {
        expect(all.stdout).toContain(`  ${command}  `);
      }
      expect(all.stdout).toContain('Examples:');
      expect(all.stdout).toContain("npm run dev's");
      expect(one.code).toBe(0);
      expect(one.stdout).toMatch(/^Usage: npm run admin -- dlq requeue ID \[--json\]\n/);
      expect(one.stdout).toContain('Example:');
    },
    cliTimeout,
  );
});

describe('mistakes', () => {
  it(
    'exits 2 on a command line that makes no sense, saying what is wrong',
    async () => {
      const runs = await Promise.all([
        runAdmin([]),
        runAdmin(['frobnicate']),
        runAdmin(['dlq', 'show']),
        runAdmin(['api-keys', 'list', '--owner', 'x']),
        runAdmin(['partners', 'rotate-secret', randomUUID(), '--grace', '90m']),
      ]);
      for (const run of runs) {
        expect(run.code).toBe(2);
        expect(run.stdout).toBe('');
      }
      const messages = runs.map((run) => run.stderr.split('\n')[0]);
      expect(messages.slice(1)).toEqual([
        'admin: unknown command "frobnicate"',
        'admin: missing ID',
        expect.stringContaining("Unknown option '--owner'"),
        'admin: --grace must be hours or days up to 168h, e.g. 24h, 2d or 0, not "90m"',
      ]);
      expect(runs[0]?.stderr).toContain('Usage: npm run admin -- <command>');
      expect(runs[2]?.stderr).toContain('Usage: npm run admin -- dlq show ID');
    },
    cliTimeout,
  );

  it(
    'exits 1 naming the variables a deployment must set',
    async () => {
      const run = await runAdmin(['dlq', 'list'], {
        env: {
          PATH: env.PATH ?? '',
          NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE ?? '',
          APP_ENV: 'production',
        },
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^admin: TURSO_DATABASE_URL, UPSTASH_REDIS_REST_URL, .* are not set/,
      );
    },
    cliTimeout,
  );
});

describe('create-admin', () => {
  const signIn = (email: string) => clientOf(app).post('/v1/auth/login', { email, password });

  it(
    'creates an administrator who signs in, with the password from stdin',
    async () => {
      const email = `ops-${randomUUID()}@example.com`;
      const run = await runAdmin(
        ['create-admin', '--email', email, '--name', 'Ops Team', '--json'],
        {
          input: `${password}\n`,
        },
      );
      expect(run.code).toBe(0);
      expect(run.stdout).not.toContain(password);
      const { outcome, user: created } = json(run);
      expect(outcome).toBe('created');
      expect(created).toMatchObject({
        email,
        name: 'Ops Team',
        role: 'admin',
        emailVerified: true,
      });

      const signedIn = await signIn(email);
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.data.user).toMatchObject({ id: created.id, role: 'admin' });
      const [audit] = await deps.db
        .select()
        .from(auditLogs)
        .where(and(eq(auditLogs.targetId, created.id), isNull(auditLogs.actorId)));
      expect(audit).toMatchObject({ action: 'user.created', changes: { role: 'admin' } });
    },
    cliTimeout,
  );

  it(
    'takes the password from ADMIN_PASSWORD, and refuses one the policy refuses',
    async () => {
      const email = `env-${randomUUID()}@example.com`;
      const created = await runAdmin(['create-admin', '--email', email, '--name', 'Env Admin'], {
        env: { ...env, ADMIN_PASSWORD: password },
      });
      expect(created.code).toBe(0);
      expect(created.stdout).toMatch(new RegExp(`^created administrator ${email} \\(Env Admin\\)`));
      expect((await signIn(email)).status).toBe(200);

      const weak = await runAdmin(
        ['create-admin', '--email', `weak-${randomUUID()}@example.com`, '--name', 'Weak'],
        { input: 'password\n' },
      );
      expect(weak.code).toBe(1);
      expect(weak.stderr).toContain('admin: the password does not meet the policy:');
      expect(weak.stderr).toContain('  - At least one digit');
    },
    cliTimeout,
  );

  it(
    'refuses an email already taken, and promotes its user only when asked',
    async () => {
      const taken = await runAdmin([
        'create-admin',
        '--email',
        promotee.email,
        '--name',
        'Again',
        '--password',
        password,
      ]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`a user with the email ${promotee.email} already exists`);
      expect(taken.stderr).toContain(`create-admin --email ${promotee.email} --promote`);

      const promoted = await runAdmin([
        'create-admin',
        '--email',
        promotee.email,
        '--promote',
        '--json',
      ]);
      expect(promoted.code).toBe(0);
      expect(json(promoted)).toMatchObject({
        outcome: 'promoted',
        user: { id: promotee.id, role: 'admin' },
      });
      // The old session carried the old role: it ended.
      expect((await clientOf(app, promotee).get('/v1/me')).status).toBe(401);

      const unknown = await runAdmin([
        'create-admin',
        '--email',
        'nobody@example.com',
        '--promote',
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('admin: no user with the email nobody@example.com\n');
    },
    cliTimeout,
  );
});

describe('api-keys', () => {
  const createKey = async (name: string) => {
    const res = await clientOf(app, owner).post('/v1/api-keys', {
      name,
      scopes: ['profile:read'],
    });
    expect(res.status).toBe(201);
    return res.body.data as { id: string; key: string; prefix: string };
  };
  const withKey = async (key: string) =>
    (await app.request('/v1/me', { headers: { 'x-api-key': key } })).status;

  it(
    "lists every user's keys with their owners, or one user's",
    async () => {
      const key = await createKey('reporting');
      const nobody = randomUUID();
      const [all, table, unknown] = await Promise.all([
        runAdmin(['api-keys', 'list', '--limit', '100', '--json']),
        runAdmin(['api-keys', 'list', '--user', owner.email]),
        runAdmin(['api-keys', 'list', '--user', nobody]),
      ]);
      expect(all.code).toBe(0);
      const listed = json(all).items.find((item: { id: string }) => item.id === key.id);
      expect(listed).toMatchObject({
        name: 'reporting',
        prefix: key.prefix,
        scopes: ['profile:read'],
        revokedAt: null,
        owner: { id: owner.id, email: owner.email },
      });
      expect(all.stdout).not.toContain(key.key);
      expect(json(all).pagination).toMatchObject({ page: 1, limit: 100 });
      const [header, ...rows] = table.stdout.trim().split('\n');
      expect(header).toMatch(/^ID +OWNER +NAME +PREFIX +SCOPES +STATE +EXPIRES +LAST USED$/);
      expect(rows.find((row) => row.startsWith(key.id))).toMatch(
        new RegExp(`${owner.email} +reporting +${key.prefix} +profile:read +active +- +-$`),
      );
      expect(rows.at(-1)).toMatch(/^\d+ API keys?$/);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe(`admin: no user ${nobody}\n`);
    },
    cliTimeout,
  );

  it(
    'revokes a key at once, though its record was cached',
    async () => {
      const key = await createKey('to revoke');
      expect(await withKey(key.key)).toBe(200);
      const run = await runAdmin(['api-keys', 'revoke', key.id]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^revoked API key ${key.id} "to revoke"`));
      expect(await withKey(key.key)).toBe(401);

      const unknown = await runAdmin(['api-keys', 'revoke', 'abc']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('admin: no API key abc\n');
    },
    cliTimeout,
  );
});

describe('dlq', () => {
  const recordDeadJob = async () => {
    const id = randomUUID();
    await createDeadJobsRepository(deps.db).record({
      id,
      type: 'email.welcome',
      message: {
        id,
        type: 'email.welcome',
        payload: { to: 'dead@example.com', name: 'Dead Letter' },
        createdAt: '2026-11-20T10:00:00.000Z',
      },
      messageId: `msg_${randomUUID()}`,
      dlqId: null,
      lastStatus: 500,
      lastResponse: '{"success":false}',
      retried: 3,
      failedAt: new Date(),
    });
    return id;
  };

  it(
    'lists, shows, requeues and deletes a dead job',
    async () => {
      const id = await recordDeadJob();
      const [table, shown] = await Promise.all([
        runAdmin(['dlq', 'list']),
        runAdmin(['dlq', 'show', id]),
      ]);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(new RegExp(`^${id} +email\\.welcome +\\S+ +500 +3 +-$`, 'm'));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^type +email\.welcome$/m);
      expect(shown.stdout).toContain('"to": "dead@example.com"');

      const requeued = await runAdmin(['dlq', 'requeue', id, '--json']);
      expect(requeued.code).toBe(0);
      expect(json(requeued)).toEqual({ id, messageId: expect.stringMatching(/^msg_/) });
      const listed = json(await runAdmin(['dlq', 'list', '--json']));
      expect(listed.items.find((job: { id: string }) => job.id === id)).toMatchObject({
        type: 'email.welcome',
        lastStatus: 500,
        retried: 3,
        requeueCount: 1,
        requeuedAt: expect.any(String),
      });

      const deleted = await runAdmin(['dlq', 'delete', id]);
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toBe(`deleted dead job ${id}\n`);
      const again = await runAdmin(['dlq', 'delete', id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(`admin: no dead job ${id}\n`);
    },
    cliTimeout,
  );
});

describe('schedules sync', () => {
  it(
    'creates the declared schedules, and running it again changes nothing',
    async () => {
      const first = await runAdmin(['schedules', 'sync']);
      expect(first.code).toBe(0);
      const lines = first.stdout.trim().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(
        /^synced +nexus-edge_api\.admin-cli\.test_token-cleanup +"0 2 \* \* \*" \(UTC\) +-> https:\/\/api\.admin-cli\.test\/jobs\/maintenance\.token-cleanup$/,
      );
      const second = json(await runAdmin(['schedules', 'sync', '--json']));
      expect(second.deleted).toEqual([]);
      expect(second.synced).toHaveLength(4);

      const qstash = new Client({ baseUrl: stack.env.QSTASH_URL, token: stack.env.QSTASH_TOKEN });
      const ids = (await qstash.schedules.list()).map((schedule) => schedule.scheduleId).sort();
      expect(ids).toEqual(
        second.synced.map((schedule: { scheduleId: string }) => schedule.scheduleId).sort(),
      );
    },
    cliTimeout,
  );
});

describe('partners rotate-secret', () => {
  it(
    'prints the new secret once, and the old one ends when the grace is 0',
    async () => {
      const created = await clientOf(app, admin).post('/v1/admin/partners', {
        name: `Cli Partner ${randomUUID()}`,
        scheme: 'hmac-sha256',
      });
      expect(created.status).toBe(201);
      const partnerId: string = created.body.data.partner.id;
      const first: string = created.body.data.secret.id;

      const run = await runAdmin([
        'partners',
        'rotate-secret',
        partnerId,
        '--grace',
        '0',
        '--json',
      ]);
      expect(run.code).toBe(0);
      const rotated = json(run);
      expect(rotated).toMatchObject({
        partnerId,
        graceHours: 0,
        secret: expect.stringMatching(/^pws_/),
      });
      const text = await runAdmin(['partners', 'rotate-secret', partnerId]);
      expect(text.stdout).toMatch(/shown this once:\n {2}pws_\S+\n/);
      expect(text.stdout).toContain('(24h)');

      const listed = await clientOf(app, admin).get('/v1/admin/partners');
      const partner = listed.body.data.find((item: { id: string }) => item.id === partnerId);
      const secret = (id: string) => partner.secrets.find((item: { id: string }) => item.id === id);
      expect(secret(first).active).toBe(false);
      expect(secret(rotated.id)).toMatchObject({ active: true, hint: rotated.secret.slice(-4) });
      const [audit] = await deps.db
        .select()
        .from(auditLogs)
        .where(
          and(eq(auditLogs.action, 'partner.secret-rotated'), eq(auditLogs.targetId, partnerId)),
        );
      expect(audit?.actorId).toBeNull();

      const unknown = await runAdmin(['partners', 'rotate-secret', 'nope']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('admin: no active partner nope\n');
    },
    cliTimeout,
  );
});

describe('the configuration', () => {
  it("is npm run dev's when no variable names a backend", async () => {
    const { config, usesLocalStack } = await adminConfig({});
    expect(usesLocalStack).toBe(true);
    const local = `http://${localStackDefaults.host}`;
    expect(config).toMatchObject({
      APP_ENV: 'development',
      TURSO_DATABASE_URL: `${local}:${localStackDefaults.libsqlPort}`,
      UPSTASH_REDIS_REST_URL: `${local}:${localStackDefaults.redisRestPort}`,
      QSTASH_URL: `${local}:${localStackDefaults.qstashPort}`,
      QSTASH_TOKEN: localStackDefaults.qstashToken,
      PARTNER_SECRETS_KEY: developmentKeys.PARTNER_SECRETS_KEY,
      API_PUBLIC_URL: 'http://127.0.0.1:8787',
    });
    // A variable that is set still wins.
    expect((await adminConfig({ LOG_LEVEL: 'debug' })).config.LOG_LEVEL).toBe('debug');
  });

  it('is the environment alone once a backend is named, or in production', async () => {
    await expect(adminConfig({ APP_ENV: 'production' })).rejects.toThrow(ConfigError);
    await expect(adminConfig({ QSTASH_TOKEN: 'a-token' })).rejects.toThrow(/TURSO_DATABASE_URL/);
    expect((await adminConfig(env)).usesLocalStack).toBe(false);
  });
});
