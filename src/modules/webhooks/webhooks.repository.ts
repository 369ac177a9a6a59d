// SQL for inbound partner events: the event and the job that processes it, in one batch, once
// per (partner, event id) however many times the partner delivers it.
import { partnerEvents } from '../../db/schema.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { stageJobIfChanged } from '../../jobs/outbox.ts';
import type { Database } from '../../platform/database.ts';

export interface NewPartnerEvent {
  partnerId: string;
  eventId: string;
  type: string;
  payload: unknown;
  receivedAt: Date;
}

/**
 * True when the event was new. A known event id stores nothing, not even its job again: that job
 * is still staged or was published already.
 */
export async function storePartnerEvent(
  db: Database,
  event: NewPartnerEvent,
  job: PreparedJob,
): Promise<boolean> {
  const [inserted] = await db.batch([
    db
      .insert(partnerEvents)
      .values({ id: crypto.randomUUID(), ...event })
      .onConflictDoNothing({ target: [partnerEvents.partnerId, partnerEvents.eventId] })
      .returning({ id: partnerEvents.id }),
    stageJobIfChanged(db, job),
  ]);
  return inserted.length > 0;
}
