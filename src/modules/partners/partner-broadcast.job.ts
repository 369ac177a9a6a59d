// The partner.broadcast job: one of our events, handed to every partner subscribed to its type as
// a partner.notify job of its own, so one slow or failing partner holds back no other. Each
// notify job's id is `${eventId}:${partnerId}`, QStash's deduplication id and the key of its
// job state: a broadcast delivered twice (or retried after a partial publish) publishes the same
// ids again, and each partner is notified once.
import type { Deps } from '../../deps.ts';
import { type PreparedJob, prepareJob, publishJobs } from '../../jobs/enqueue.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';
import { createPartnersRepository } from './partners.repository.ts';

function notifyJobId(eventId: string, partnerId: string): string {
  return `${eventId}:${partnerId}`;
}

export function partnerBroadcastJob(
  deps: Pick<Deps, 'db' | 'clock' | 'trace' | 'config' | 'queue' | 'jobState' | 'logger'>,
): JobHandler<'partner.broadcast'> {
  return async ({ payload }) => {
    const partnerIds = await createPartnersRepository(deps.db).subscribersOf(payload.event);
    const jobs: PreparedJob[] = partnerIds.map((partnerId) =>
      prepareJob(
        deps,
        'partner.notify',
        { ...payload, partnerId },
        { id: notifyJobId(payload.eventId, partnerId) },
      ),
    );
    await publishJobs(deps, jobs);
    return { partners: jobs.length };
  };
}
