// SQL for inbound partner events: the event and the job that processes it, in one batch, once
// per (partner, event id) however many times the partner delivers it.
import { and, eq, notExists, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { outbox, partnerEvents } from '../../db/schema.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { stageJob } from '../../jobs/outbox.ts';

export interface NewPartnerEvent {
  partnerId: string;
  eventId: string;
  type: string;
  payload: unknown;
  receivedAt: Date;
}

/**
 * True when the event was new. A known event id stores nothing: its job is either still staged
 * (the insert leaves that row alone) or was published already, and then the row the insert just
 * made is taken back, so a finished job is not published again.
 */
export async function storePartnerEvent(
  db: Database,
  event: NewPartnerEvent,
  job: PreparedJob,
): Promise<boolean> {
  const eventRowId = crypto.randomUUID();
  const [inserted] = await db.batch([
    db
      .insert(partnerEvents)
      .values({ id: eventRowId, ...event })
      .onConflictDoNothing({ target: [partnerEvents.partnerId, partnerEvents.eventId] })
      .returning({ id: partnerEvents.id }),
    stageJob(db, job, { ifAbsent: true }),
    // changes() is the staging insert's count: 1 only when this batch made the outbox row.
    db
      .delete(outbox)
      .where(
        and(
          eq(outbox.id, job.id),
          sql`changes() = 1`,
          notExists(
            db
              .select({ id: partnerEvents.id })
              .from(partnerEvents)
              .where(eq(partnerEvents.id, eventRowId)),
          ),
        ),
      ),
  ]);
  return inserted.length > 0;
}
