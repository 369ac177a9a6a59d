// `npm run stack` as a developer runs it: a child process that prints the eight variables, serves
// the official clients with them, and stops cleanly on Ctrl-C.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@libsql/client';
import { Client as QstashClient } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const variableNames = [
  'TURSO_DATABASE_URL',
  'TURSO_AUTH_TOKEN',
  'UPSTASH_REDIS_REST_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'QSTASH_URL',
  'QSTASH_TOKEN',
  'QSTASH_CURRENT_SIGNING_KEY',
  'QSTASH_NEXT_SIGNING_KEY',
];

function readVariables(child: ChildProcessWithoutNullStreams): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n').filter((line) => line.includes('='));
      if (lines.length < variableNames.length) return;
      resolve(Object.fromEntries(lines.map((line) => line.split(/=(.*)/s).slice(0, 2))));
    });
    child.once('exit', (code) => reject(new Error(`stack exited with ${code}: ${stderr}`)));
  });
}

describe('npm run stack', () => {
  let dataDir: string;
  let child: ChildProcessWithoutNullStreams;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stack-command-'));
    child = spawn(process.execPath, ['local-stack/main.ts'], {
      env: {
        ...process.env,
        LOCAL_STACK_DIR: dataDir,
        LIBSQL_PORT: '0',
        UPSTASH_REDIS_REST_PORT: '0',
        QSTASH_PORT: '0',
      },
    });
    env = await readVariables(child);
  });

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints each variable the app reads, under its official name', () => {
    expect(Object.keys(env).sort()).toEqual([...variableNames].sort());
    expect(env.TURSO_DATABASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.UPSTASH_REDIS_REST_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.QSTASH_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the official clients with exactly those values', async () => {
    const db = createClient({ url: env.TURSO_DATABASE_URL ?? '', authToken: env.TURSO_AUTH_TOKEN });
    const result = await db.execute('select 6 * 7 as answer');
    expect(result.rows[0]?.answer).toBe(42);
    db.close();

    const redis = new Redis({
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
    });
    expect(await redis.ping()).toBe('PONG');

    const qstash = new QstashClient({ baseUrl: env.QSTASH_URL, token: env.QSTASH_TOKEN ?? '' });
    expect(await qstash.queue().list()).toEqual([]);
  });

  it('stops every server on Ctrl-C and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`${env.TURSO_DATABASE_URL}/health`)).rejects.toThrow();
  });
});
