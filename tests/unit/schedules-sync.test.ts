// `npm run schedules:sync` against the local QStash broker, read back with the official client:
// the declared schedules exist exactly once each however often it runs, this deployment's that are
// no longer declared go, and schedules of other deployments and other owners stay.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@upstash/qstash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QstashBroker, startQstashBroker } from '../../local-stack/qstash/server.ts';
import { syncSchedules } from '../../src/entries/schedules-sync.ts';

const token = 'schedules-sync-test-token';
const apiPublicUrl = 'https://api.example.test';
const jobsBaseUrl = 'https://jobs.example.test';

let broker: QstashBroker;
let dataDir: string;
let client: Client;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'nexus-schedules-sync-'));
  broker = await startQstashBroker({
    port: 0,
    token,
    currentSigningKey: 'sig_schedules_sync_current',
    nextSigningKey: 'sig_schedules_sync_next',
    stateFile: join(dataDir, 'qstash.sqlite'),
  });
  client = new Client({ baseUrl: broker.url, token, retry: false });
});

afterAll(async () => {
  await broker?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const options = () => ({ qstashUrl: broker.url, qstashToken: token, apiPublicUrl, jobsBaseUrl });

const bodyOf = (schedule: { body?: string; bodyBase64?: string }) =>
  JSON.parse(schedule.body ?? Buffer.from(schedule.bodyBase64 ?? '', 'base64').toString('utf8'));

describe('syncSchedules', () => {
  it('leaves exactly one schedule of each kind, however often it runs; stale ones of ours go', async () => {
    // Left by an older release of this deployment; held by staging and by another application,
    // which share the QStash account.
    const ours = 'nexus-edge_api.example.test_';
    const staging = 'nexus-edge_staging.example.test_housekeeping';
    for (const scheduleId of [`${ours}old`, staging, 'other-app-nightly']) {
      await client.schedules.create({
        scheduleId,
        destination: 'https://elsewhere.example.test/cron',
        cron: '30 3 * * *',
      });
    }
    // Under an id from before ids named the deployment, calling our endpoint: ours all the same.
    await client.schedules.create({
      scheduleId: 'nexus-edge-housekeeping',
      destination: `${apiPublicUrl}/jobs/maintenance.housekeeping`,
      cron: '0 * * * *',
    });

    const first = await syncSchedules(options());
    const second = await syncSchedules(options());

    const ids = [
      `${ours}token-cleanup`,
      `${ours}weekly-digest`,
      `${ours}housekeeping`,
      `${ours}expire-uploads`,
    ];
    expect(first.upserted).toEqual(ids);
    expect(first.deleted.sort()).toEqual([`${ours}old`, 'nexus-edge-housekeeping'].sort());
    expect(second).toEqual({ upserted: ids, deleted: [] });

    const listed = await client.schedules.list();
    expect(listed.map((schedule) => schedule.scheduleId).sort()).toEqual(
      [...ids, staging, 'other-app-nightly'].sort(),
    );
    const byId = new Map(listed.map((schedule) => [schedule.scheduleId, schedule]));
    const expected = [
      [`${ours}token-cleanup`, '0 2 * * *', 'maintenance.token-cleanup'],
      [`${ours}weekly-digest`, '0 9 * * 1', 'digest.weekly'],
      [`${ours}housekeeping`, '0 * * * *', 'maintenance.housekeeping'],
      [`${ours}expire-uploads`, '*/15 * * * *', 'files.expire-uploads'],
    ] as const;
    for (const [id, cron, type] of expected) {
      const schedule = byId.get(id);
      expect(schedule).toMatchObject({
        cron,
        destination: `${apiPublicUrl}/jobs/${type}`,
        retries: 2,
        failureCallback: `${apiPublicUrl}/jobs/failed`,
        isPaused: false,
      });
      expect(bodyOf(schedule ?? {})).toEqual({ type, payload: {} });
    }
  });

  it('fails with the reason when QStash cannot be reached', async () => {
    await expect(
      syncSchedules({ ...options(), qstashUrl: 'http://127.0.0.1:9' }),
    ).rejects.toThrow();
  });
});

describe('npm run schedules:sync', () => {
  const run = promisify(execFile);
  const script = join(import.meta.dirname, '../../src/entries/schedules-sync.ts');
  const env = (qstashUrl: string) => ({
    PATH: process.env.PATH,
    QSTASH_URL: qstashUrl,
    QSTASH_TOKEN: token,
    API_PUBLIC_URL: apiPublicUrl,
    JOBS_BASE_URL: jobsBaseUrl,
  });

  it('prints one line per schedule', async () => {
    const { stdout } = await run(process.execPath, [script], { env: env(broker.url) });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('nexus-edge_api.example.test_token-cleanup');
    expect(lines[0]).toContain('"0 2 * * *" (UTC)');
    expect(lines[0]).toContain(`${apiPublicUrl}/jobs/maintenance.token-cleanup`);
  });

  it('exits 1 with a message naming QStash when it is unreachable', async () => {
    const failed = await run(process.execPath, [script], { env: env('http://127.0.0.1:9') }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('could not sync schedules with QStash at http://127.0.0.1:9');
  });
});
