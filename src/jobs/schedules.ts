// The recurring jobs, declared in code and synced to QStash by `npm run schedules:sync`
// (src/entries/schedules-sync.ts). QStash evaluates cron expressions in UTC, so every time here is
// UTC. Each schedule has a fixed id per deployment, so syncing again updates it in place instead
// of adding one.
import type { Config } from '../config.ts';
import { type JobType, jobDefinitions } from './catalogue.ts';
import { failureCallbackUrl, flowControlOf, jobDestination } from './enqueue.ts';

export interface ScheduleDefinition {
  name: string;
  /** Five-field cron, UTC. */
  cron: string;
  type: JobType;
}

export const schedules: readonly ScheduleDefinition[] = [
  { name: 'token-cleanup', cron: '0 2 * * *', type: 'maintenance.token-cleanup' },
  { name: 'weekly-digest', cron: '0 9 * * 1', type: 'digest.weekly' },
  { name: 'housekeeping', cron: '0 * * * *', type: 'maintenance.housekeeping' },
  // A direct upload's URL lives DIRECT_UPLOAD_TTL (15 minutes by default): whatever was not
  // completed is gone within a quarter of an hour after that.
  { name: 'expire-uploads', cron: '*/15 * * * *', type: 'files.expire-uploads' },
];

/**
 * Schedules with this id prefix are this deployment's: sync deletes those no longer declared, and
 * no others. The prefix names the deployment by its API_PUBLIC_URL host, so staging and production
 * sharing a QStash account never update or delete each other's schedules; `_` cannot occur in a
 * host, so no deployment's prefix starts another's.
 */
export function scheduleIdPrefix(apiPublicUrl: string): string {
  return `nexus-edge_${new URL(apiPublicUrl).host.replaceAll(':', '-')}_`;
}

export interface ScheduleRequest {
  scheduleId: string;
  cron: string;
  destination: string;
  /** No job id: each firing is a new run, keyed by its Upstash-Message-Id. */
  body: { type: JobType; payload: Record<string, never> };
  retries: number;
  retryDelay: string;
  failureCallback: string;
  flowControl: { key: string; parallelism: number };
}

/** What QStash is asked to hold for each declared schedule, delivered as publishRequest would. */
export function scheduleRequests(
  config: Pick<Config, 'JOBS_BASE_URL' | 'API_PUBLIC_URL'>,
): ScheduleRequest[] {
  return schedules.map(({ name, cron, type }) => {
    const { retries, retryDelay, priority } = jobDefinitions[type];
    return {
      scheduleId: `${scheduleIdPrefix(config.API_PUBLIC_URL)}${name}`,
      cron,
      destination: jobDestination(config, type),
      body: { type, payload: {} },
      retries,
      retryDelay,
      failureCallback: failureCallbackUrl(config),
      flowControl: flowControlOf(priority),
    };
  });
}
