// SQL for the events partners send: stored once per (partner, event id) when received, marked
// processed once by the partner.event job.
import { and, eq, isNull } from 'drizzle-orm';
import { partnerEvents } from '../../db/schema.ts';
import type { Database } from '../../platform/database.ts';

export type MarkProcessedOutcome = 'processed' | 'already-processed' | 'missing';

/**
 * Sets processed_at unless it is set: a repeated job run changes nothing and says so. The
 * follow-up read only runs when the update matched no row, to tell "done before" from "missing".
 */
export async function markEventProcessed(
  db: Database,
  partnerId: string,
  eventId: string,
  at: Date,
): Promise<MarkProcessedOutcome> {
  const match = and(eq(partnerEvents.partnerId, partnerId), eq(partnerEvents.eventId, eventId));
  const updated = await db
    .update(partnerEvents)
    .set({ processedAt: at })
    .where(and(match, isNull(partnerEvents.processedAt)))
    .returning({ id: partnerEvents.id });
  if (updated.length > 0) return 'processed';
  const existing = await db
    .select({ id: partnerEvents.id })
    .from(partnerEvents)
    .where(match)
    .limit(1);
  return existing.length > 0 ? 'already-processed' : 'missing';
}
