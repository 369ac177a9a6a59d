// `npm run schedules:sync`: makes QStash hold exactly the schedules declared in
// src/jobs/schedules.ts. Each is created or updated under its fixed id (QStash upserts on
// Upstash-Schedule-Id), then our schedules no longer declared are deleted; schedules with other
// ids belong to someone else and are left alone. Running it twice changes nothing the second time.
import { Client } from '@upstash/qstash';
import { scheduleIdPrefix, scheduleRequests } from '../jobs/schedules.ts';

export interface SyncOptions {
  qstashUrl: string;
  qstashToken: string;
  /** The edge's public origin (API_PUBLIC_URL): where edge jobs and the failure callback go. */
  apiPublicUrl: string;
  /** The Node worker's public origin (JOBS_BASE_URL). */
  jobsBaseUrl: string;
}

export interface SyncReport {
  upserted: string[];
  deleted: string[];
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

function declaredSchedules(options: SyncOptions) {
  return scheduleRequests({
    API_PUBLIC_URL: withoutTrailingSlash(options.apiPublicUrl),
    JOBS_BASE_URL: withoutTrailingSlash(options.jobsBaseUrl),
  });
}

export async function syncSchedules(options: SyncOptions): Promise<SyncReport> {
  // No client retries: an unreachable QStash is reported at once rather than after a backoff.
  const client = new Client({
    baseUrl: withoutTrailingSlash(options.qstashUrl),
    token: options.qstashToken,
    retry: false,
  });
  const upserted = await Promise.all(
    declaredSchedules(options).map(async ({ body, ...request }) => {
      const { scheduleId } = await client.schedules.create({
        ...request,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return scheduleId;
    }),
  );
  const kept = new Set(upserted);
  const stale = (await client.schedules.list())
    .map((schedule) => schedule.scheduleId)
    .filter((id) => id.startsWith(scheduleIdPrefix) && !kept.has(id));
  await Promise.all(stale.map((id) => client.schedules.delete(id)));
  return { upserted, deleted: stale };
}

if (import.meta.main) {
  const env = process.env;
  const qstashUrl = env.QSTASH_URL || 'https://qstash.upstash.io';
  const qstashToken = env.QSTASH_TOKEN;
  if (qstashToken === undefined || qstashToken === '') {
    console.error(
      'schedules:sync: QSTASH_TOKEN is not set. Set QSTASH_URL and QSTASH_TOKEN to the QStash to ' +
        'sync, e.g. QSTASH_URL=http://127.0.0.1:8081 QSTASH_TOKEN=local-qstash-token for the ' +
        "local stack's broker (`npm run stack` prints both).",
    );
    process.exit(1);
  }
  const options: SyncOptions = {
    qstashUrl,
    qstashToken,
    apiPublicUrl: env.API_PUBLIC_URL || 'http://127.0.0.1:8787',
    jobsBaseUrl: env.JOBS_BASE_URL || 'http://127.0.0.1:8789',
  };
  try {
    const { deleted } = await syncSchedules(options);
    for (const schedule of declaredSchedules(options)) {
      console.log(
        `synced  ${schedule.scheduleId}  "${schedule.cron}" (UTC) -> ${schedule.destination}`,
      );
    }
    for (const id of deleted) console.log(`deleted ${id} (no longer declared)`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(
      `schedules:sync: could not sync schedules with QStash at ${qstashUrl}: ${reason}`,
    );
    process.exit(1);
  }
}
