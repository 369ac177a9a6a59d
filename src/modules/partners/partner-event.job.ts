// The partner.event job: the work that follows an accepted partner webhook. The inbound endpoint
// only stores the event and answers 202; this marks it processed, exactly once however often
// QStash delivers the job.
import type { Deps } from '../../deps.ts';
import { type JobHandler, PermanentJobError } from '../../jobs/job-delivery.ts';
import { markEventProcessed } from './partner-events.repository.ts';

export function partnerEventJob(deps: Pick<Deps, 'db' | 'clock'>): JobHandler<'partner.event'> {
  return async ({ payload }) => {
    const outcome = await markEventProcessed(
      deps.db,
      payload.partnerId,
      payload.eventId,
      deps.clock.now(),
    );
    // The event row is written in the same batch as the job, so a job without one can never
    // find it on a retry.
    if (outcome === 'missing') {
      throw new PermanentJobError(`partner event ${payload.eventId} is not stored`);
    }
    return { processed: outcome === 'processed' };
  };
}
