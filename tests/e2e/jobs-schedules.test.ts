// `npm run schedules:sync` is idempotent: run twice against the broker, it leaves exactly one
// schedule of each declared kind, each aimed at its job's endpoint.
import { describe, expect, it } from 'vitest';
import { syncSchedules } from '../../src/entries/schedules-sync.ts';
import { scheduleIdPrefix } from '../../src/jobs/schedules.ts';
import { jobsSystemForFile } from './harness/jobs-system.ts';

const system = jobsSystemForFile();

interface Schedule {
  scheduleId: string;
  cron: string;
  destination: string;
}

describe('schedules:sync', () => {
  it('leaves exactly one schedule of each kind when run twice', async () => {
    const options = {
      qstashUrl: system().broker.url,
      qstashToken: system().broker.token,
      apiPublicUrl: system().edgeUrl,
      jobsBaseUrl: system().workerUrl,
    };
    await syncSchedules(options);
    await syncSchedules(options);
    const ours = scheduleIdPrefix(system().edgeUrl);

    const response = await system().broker.api('/v2/schedules');
    expect(response.status).toBe(200);
    const schedules = (await response.json()) as Schedule[];
    expect(
      schedules
        .map(({ scheduleId, cron, destination }) => ({ scheduleId, cron, destination }))
        .sort((a, b) => a.scheduleId.localeCompare(b.scheduleId)),
    ).toEqual([
      {
        scheduleId: `${ours}expire-uploads`,
        cron: '*/15 * * * *',
        destination: `${system().edgeUrl}/jobs/files.expire-uploads`,
      },
      {
        scheduleId: `${ours}housekeeping`,
        cron: '0 * * * *',
        destination: `${system().edgeUrl}/jobs/maintenance.housekeeping`,
      },
      {
        scheduleId: `${ours}token-cleanup`,
        cron: '0 2 * * *',
        destination: `${system().edgeUrl}/jobs/maintenance.token-cleanup`,
      },
      {
        scheduleId: `${ours}weekly-digest`,
        cron: '0 9 * * 1',
        destination: `${system().edgeUrl}/jobs/digest.weekly`,
      },
    ]);
  });
});
