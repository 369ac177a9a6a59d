// The jobs the edge runs, by type (the catalogue's runsOn: 'edge'); the Node worker runs the rest.
import { auditLogs } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandler, JobHandlers } from '../../jobs/job-delivery.ts';
import { partnerEventJob } from '../partners/partner-event.job.ts';
import { weeklyDigestJob } from '../users/weekly-digest.job.ts';
import { housekeepingJob, tokenCleanupJob } from './maintenance.jobs.ts';

/**
 * A domain event's audit row, keyed by the event's id: a delivery that runs again after its Redis
 * claim was lost inserts nothing new.
 */
function auditRecordJob(deps: Pick<Deps, 'db'>): JobHandler<'audit.record'> {
  return async ({ payload }) => {
    const inserted = await deps.db
      .insert(auditLogs)
      .values({
        id: payload.eventId,
        action: payload.event,
        targetType: 'user',
        targetId: payload.userId,
        actorId: payload.userId,
        changes: { occurredAt: payload.occurredAt },
      })
      .onConflictDoNothing()
      .returning({ id: auditLogs.id });
    return { recorded: inserted.length > 0 };
  };
}

export function edgeJobHandlers(deps: Deps): JobHandlers {
  return {
    'audit.record': auditRecordJob(deps),
    'partner.event': partnerEventJob(deps),
    'digest.weekly': weeklyDigestJob(deps),
    'maintenance.token-cleanup': tokenCleanupJob(deps),
    'maintenance.housekeeping': housekeepingJob(deps),
  };
}
