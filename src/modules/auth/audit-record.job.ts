// The audit.record job: the audit row of a domain event (src/jobs/domain-events.ts).
import { auditLogs } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';

/**
 * A domain event's audit row, keyed by the event's id: a delivery that runs again after its Redis
 * claim was lost inserts nothing new.
 */
export function auditRecordJob(deps: Pick<Deps, 'db'>): JobHandler<'audit.record'> {
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
