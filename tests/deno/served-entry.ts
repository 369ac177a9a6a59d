// What every server entry (Deno, Node) must do, run against the real entry file in its own
// process: serve the app against a local stack, answer from the database, compress, serve the
// /docs page's assets, stop cleanly on SIGTERM, and refuse to start with a message naming a
// missing variable.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDocsAssets } from '../../local-stack/docs-assets.ts';
import { type LocalStack, startLocalStack } from '../../local-stack/stack.ts';
import { migrateDatabase } from '../../src/entries/migrate.ts';
import { seedDatabase, seedUsers } from '../../src/entries/seed.ts';
import { docsBundleUrl } from '../../src/modules/docs/docs-page.ts';

export const projectRoot = join(import.meta.dirname, '..', '..');
const startTimeoutMs = 30_000;

export interface EntryCommand {
  command: string;
  args: string[];
}

interface Exit {
  code: number | null;
  stderr: string;
}

interface Served {
  url: string;
  child: ChildProcess;
  exited: Promise<Exit>;
}

function launch(entry: EntryCommand, vars: Record<string, string>) {
  // Only what the entry needs: a developer's own TURSO_* or PORT must not leak into the test.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...vars };
  const child = spawn(entry.command, entry.args, {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code) => resolve({ code, stderr }));
  });
  return { child, exited, stderr: () => stderr };
}

/** Starts the entry on a free port and resolves with its URL once it logs that it listens. */
async function serve(entry: EntryCommand, vars: Record<string, string>): Promise<Served> {
  const { child, exited, stderr } = launch(entry, { ...vars, HOST: '127.0.0.1', PORT: '0' });
  const listening = new Promise<string>((resolve) => {
    if (!child.stdout) return;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entryLine = JSON.parse(line) as { msg?: string; url?: string };
      if (entryLine.msg === 'listening' && entryLine.url !== undefined) resolve(entryLine.url);
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    listening,
    exited.then((exit) => new Error(`exited with ${exit.code} before listening:\n${exit.stderr}`)),
    new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`not listening after ${startTimeoutMs} ms:\n${stderr()}`)),
        startTimeoutMs,
      );
    }),
  ]);
  clearTimeout(timer);
  if (outcome instanceof Error) {
    child.kill('SIGKILL');
    throw outcome;
  }
  return { url: outcome, child, exited };
}

export function describeServedEntry(runtime: string, entry: EntryCommand): void {
  describe(`the ${runtime} entry`, () => {
    let dataDir: string;
    let stack: LocalStack;
    let served: Served;
    const vars = () => ({
      ...stack.env,
      APP_ENV: 'test',
      // Every test file shares 127.0.0.1 as the client address; the policy is not under test here.
      RATE_LIMIT_GENERAL: '10000/1m',
      JWT_SIGNING_KEYS: 'entry-test:entry-test-signing-secret-of-at-least-32-bytes',
      PARTNER_SECRETS_KEY: 'ZW50cnktdGVzdC1wYXJ0bmVyLXNlY3JldHMta2V5LTM',
    });

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `nexus-${runtime.toLowerCase()}-entry-`));
      stack = await startLocalStack({
        libsqlPort: 0,
        redisRestPort: 0,
        qstashPort: 0,
        dataDir,
        redisUrl: 'redis://127.0.0.1:6379/2',
      });
      await migrateDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN);
      await seedDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN);
      // What `npm run build` puts in static/, which this run may not have done.
      await ensureDocsAssets();
      served = await serve(entry, vars());
    }, 60_000);

    afterAll(async () => {
      if (served && served.child.exitCode === null) {
        served.child.kill('SIGKILL');
        await served.exited;
      }
      await stack?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('answers /health/ready with every backend up', async () => {
      const response = await fetch(`${served.url}/health/ready`);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({ success: true, data: { status: 'ok' } });
    });

    it('answers GET /v1/users/{id} from the database', async () => {
      const grace = seedUsers[1];
      const response = await fetch(`${served.url}/v1/users/${grace.id}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        success: true,
        data: { id: grace.id, name: grace.name },
      });

      const missing = await fetch(`${served.url}/v1/users/${crypto.randomUUID()}`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({
        success: false,
        error: { code: 'NOT_FOUND' },
      });
    });

    it('compresses responses for clients that accept gzip', async () => {
      const response = await fetch(`${served.url}/openapi.json`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBe('gzip');
      const document = (await response.json()) as { openapi: string };
      expect(document.openapi).toMatch(/^3\.1/);
    });

    it('serves the /docs page and, from static/, the script it loads', async () => {
      const page = await fetch(`${served.url}/docs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(`from '${docsBundleUrl}'`);

      const bundle = await fetch(`${served.url}${docsBundleUrl}`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
      expect(bundle.headers.get('content-encoding')).toBe('gzip');
      expect(await bundle.text()).toContain('createApiReference');
      // Served ahead of the app, as Workers serves its static assets: not metered.
      expect(bundle.headers.get('ratelimit-limit')).toBeNull();

      const missing = await fetch(`${served.url}${docsBundleUrl.replace('.js', '-missing.js')}`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    });

    it('stops cleanly on SIGTERM', async () => {
      served.child.kill('SIGTERM');
      expect((await served.exited).code).toBe(0);
      await expect(fetch(`${served.url}/health`)).rejects.toThrow();
    });

    it('refuses to start without TURSO_DATABASE_URL, naming it', async () => {
      const { TURSO_DATABASE_URL: _omitted, ...rest } = vars();
      const exit = await launch(entry, rest).exited;
      expect(exit.code).toBe(1);
      expect(exit.stderr).toContain('TURSO_DATABASE_URL');
    });
  });
}
