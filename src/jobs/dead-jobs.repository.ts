// SQL for dead jobs: what QStash's failure callback records and administrators requeue or delete.
import { asc, count, desc, eq, sql } from 'drizzle-orm';
import { type DeadJobRow, deadJobs } from '../db/schema.ts';
import { offsetOf, type PageRequest } from '../lib/pagination.ts';
import type { Database } from '../platform/database.ts';

/** What a list of dead jobs can be sorted by. */
export const deadJobSortColumns = ['failedAt'] as const;
export type DeadJobSortColumn = (typeof deadJobSortColumns)[number];

export type DeadJobRecord = Omit<DeadJobRow, 'requeuedAt' | 'requeueCount'>;

export interface DeadJobsRepository {
  /**
   * Records a job QStash gave up on. A job that dies again after a requeue keeps its requeue
   * count, and its new failure clears `requeuedAt`.
   */
  record(job: DeadJobRecord): Promise<void>;
  list(page: PageRequest<DeadJobSortColumn>): Promise<{ rows: DeadJobRow[]; total: number }>;
  find(id: string): Promise<DeadJobRow | undefined>;
  markRequeued(id: string, at: Date): Promise<DeadJobRow | undefined>;
  delete(id: string): Promise<DeadJobRow | undefined>;
}

const sortColumn = { failedAt: deadJobs.failedAt } as const;

export function createDeadJobsRepository(db: Database): DeadJobsRepository {
  return {
    async record(job) {
      await db
        .insert(deadJobs)
        .values(job)
        .onConflictDoUpdate({
          target: deadJobs.id,
          set: {
            messageId: job.messageId,
            dlqId: job.dlqId,
            lastStatus: job.lastStatus,
            lastResponse: job.lastResponse,
            retried: job.retried,
            failedAt: job.failedAt,
            requeuedAt: null,
          },
        });
    },

    async list(page) {
      const direction = page.sortOrder === 'asc' ? asc : desc;
      const [rows, [totals]] = await db.batch([
        db
          .select()
          .from(deadJobs)
          .orderBy(direction(sortColumn[page.sortBy]), direction(deadJobs.id))
          .limit(page.limit)
          .offset(offsetOf(page)),
        db.select({ total: count() }).from(deadJobs),
      ]);
      return { rows, total: totals?.total ?? 0 };
    },

    async find(id) {
      const [row] = await db.select().from(deadJobs).where(eq(deadJobs.id, id)).limit(1);
      return row;
    },

    async markRequeued(id, at) {
      const [row] = await db
        .update(deadJobs)
        .set({ requeuedAt: at, requeueCount: sql`${deadJobs.requeueCount} + 1` })
        .where(eq(deadJobs.id, id))
        .returning();
      return row;
    },

    async delete(id) {
      const [row] = await db.delete(deadJobs).where(eq(deadJobs.id, id)).returning();
      return row;
    },
  };
}
