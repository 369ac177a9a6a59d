// `npm run schedules:sync`: makes QStash hold exactly the schedules declared in
// src/jobs/schedules.ts. Each is created or updated under its fixed id (QStash upserts on
// Upstash-Schedule-Id), then this deployment's schedules no longer declared are deleted (its ids,
// and any schedule calling its job endpoints); other deployments' and other applications'
// schedules are left alone. Running it twice changes nothing the second time.
import { Client } from '@upstash/qstash';
import { ConfigError, configSchema, parseEnv } from '../config.ts';
import { type ScheduleRequest, scheduleIdPrefix, scheduleRequests } from '../jobs/schedules.ts';

/** The origins as src/config.ts gives them, without a trailing slash. */
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

async function putSchedules(
  options: SyncOptions,
  declared: ScheduleRequest[],
): Promise<SyncReport> {
  // No client retries: an unreachable QStash is reported at once rather than after a backoff.
  const client = new Client({
    baseUrl: options.qstashUrl,
    token: options.qstashToken,
    retry: false,
  });
  const upserted = await Promise.all(
    declared.map(async ({ body, ...request }) => {
      const { scheduleId } = await client.schedules.create({
        ...request,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return scheduleId;
    }),
  );
  const kept = new Set(upserted);
  const prefix = scheduleIdPrefix(options.apiPublicUrl);
  // A schedule that calls this deployment's job endpoints is ours too, whatever its id: one left
  // under an id from before the ids named the deployment would otherwise run beside its successor.
  const ourEndpoints = [`${options.apiPublicUrl}/jobs/`, `${options.jobsBaseUrl}/jobs/`];
  const stale = (await client.schedules.list())
    .filter(
      ({ scheduleId, destination }) =>
        !kept.has(scheduleId) &&
        (scheduleId.startsWith(prefix) ||
          ourEndpoints.some((endpoint) => destination.startsWith(endpoint))),
    )
    .map((schedule) => schedule.scheduleId);
  await Promise.all(stale.map((id) => client.schedules.delete(id)));
  return { upserted, deleted: stale };
}

export function syncSchedules(options: SyncOptions): Promise<SyncReport> {
  return putSchedules(
    options,
    scheduleRequests({ API_PUBLIC_URL: options.apiPublicUrl, JOBS_BASE_URL: options.jobsBaseUrl }),
  );
}

/** The variables the command reads, with the app's own defaults and normalisation. */
const commandEnvSchema = configSchema.pick({
  QSTASH_URL: true,
  QSTASH_TOKEN: true,
  API_PUBLIC_URL: true,
  JOBS_BASE_URL: true,
});

function commandEnv() {
  try {
    return parseEnv(commandEnvSchema, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A variable that is simply missing is said so plainly; a malformed one gets the schema's words.
    const unset = error.variables.filter((name) => !process.env[name]);
    const problem =
      unset.length === error.variables.length
        ? `${unset.join(' and ')} is not set. `
        : `${error.message}\n`;
    console.error(
      `schedules:sync: ${problem}Set QSTASH_URL and QSTASH_TOKEN to the QStash to sync, ` +
        'e.g. QSTASH_URL=http://127.0.0.1:8081 QSTASH_TOKEN=local-qstash-token for the ' +
        "local stack's broker (`npm run stack` prints both).",
    );
    process.exit(1);
  }
}

if (import.meta.main) {
  const env = commandEnv();
  const declared = scheduleRequests(env);
  try {
    const { deleted } = await putSchedules(
      {
        qstashUrl: env.QSTASH_URL,
        qstashToken: env.QSTASH_TOKEN,
        apiPublicUrl: env.API_PUBLIC_URL,
        jobsBaseUrl: env.JOBS_BASE_URL,
      },
      declared,
    );
    for (const schedule of declared) {
      console.log(
        `synced  ${schedule.scheduleId}  "${schedule.cron}" (UTC) -> ${schedule.destination}`,
      );
    }
    for (const id of deleted) console.log(`deleted ${id} (no longer declared)`);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(
      `schedules:sync: could not sync schedules with QStash at ${env.QSTASH_URL}: ${reason}`,
    );
    process.exit(1);
  }
}
