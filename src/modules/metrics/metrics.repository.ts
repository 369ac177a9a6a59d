// What the scrape reads from the database: the outbox's backlog, counted as it stands.
import { count } from 'drizzle-orm';
import { outbox } from '../../db/schema.ts';
import type { Database } from '../../platform/database.ts';

/** Jobs staged and not yet handed to QStash: one count over the outbox. */
export async function countOutboxBacklog(db: Database): Promise<number> {
  const [row] = await db.select({ total: count() }).from(outbox);
  return row?.total ?? 0;
}
