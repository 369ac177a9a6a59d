// The recurring jobs, declared in code and synced to QStash by `npm run schedules:sync`
// (src/entries/schedules-sync.ts). QStash evaluates cron expressions in UTC, so every time here is
// UTC. Each schedule has a fixed id, so syncing again updates it in place instead of adding one.
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
];

/** Schedules with this id prefix are ours: sync deletes those no longer declared, and no others. */
export const scheduleIdPrefix = 'nexus-edge-';

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
      scheduleId: `${scheduleIdPrefix}${name}`,
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
