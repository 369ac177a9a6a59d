// The files table. Whatever must hold together holds in one statement or one batch: an upload's
// rows and its quota check, a deletion and the job that removes the bytes, an avatar becoming the
// user's and the jobs that remove what it replaces.
import { and, asc, count, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { type AvatarRef, type FileRow, files, type NewFileRow, users } from '../../db/schema.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { stageJob, stageJobIfChanged } from '../../jobs/outbox.ts';
import { offsetOf, type PageRequest } from '../../lib/pagination.ts';
import type { Database } from '../../platform/database.ts';

export type FileValues = Required<
  Pick<
    NewFileRow,
    | 'id'
    | 'ownerId'
    | 'kind'
    | 'status'
    | 'storageKey'
    | 'sourceKey'
    | 'name'
    | 'contentType'
    | 'size'
    | 'sha256'
    | 'expiresAt'
    | 'createdAt'
    | 'updatedAt'
  >
>;

export type FileSortColumn = 'createdAt' | 'name' | 'size';

export interface FilesRepository {
  /**
   * Inserts the owner's new documents only if, with them, the owner's documents stay within
   * `quotaBytes`: one statement, so concurrent uploads cannot both pass on the same remainder.
   */
  insertWithinQuota(ownerId: string, rows: FileValues[], quotaBytes: number): Promise<boolean>;
  /** What the owner's live documents take, uploads in progress included. */
  usedBytes(ownerId: string): Promise<number>;
  insertAvatar(row: FileValues, job: PreparedJob): Promise<void>;
  /** A file that is not deleted. */
  findById(id: string): Promise<FileRow | undefined>;
  listByOwner(
    ownerId: string,
    page: PageRequest<FileSortColumn>,
  ): Promise<{ rows: FileRow[]; total: number }>;
  /**
   * Soft-deletes the file and stages the jobs that remove its objects; clears the owner's avatar
   * when it was this file. False when it was already deleted.
   */
  softDelete(file: FileRow, at: Date, jobs: PreparedJob[]): Promise<boolean>;
  /** uploading → ready, with the type its bytes turned out to be; undefined if it was not uploading. */
  completeUpload(id: string, contentType: string, at: Date): Promise<FileRow | undefined>;
  /**
   * What will never become a file: direct uploads whose time ran out before `now`, and avatars
   * still pending since before `pendingSince` (their image.avatar job gave up).
   */
  abandoned(now: Date, pendingSince: Date, limit: number): Promise<FileRow[]>;
  /**
   * Removes one of them, still abandoned (a completion cannot slip in between), with the jobs that
   * remove its objects. False when it was not removed.
   */
  removeAbandoned(
    file: FileRow,
    now: Date,
    pendingSince: Date,
    jobs: PreparedJob[],
  ): Promise<boolean>;
  /** The file of the avatar the user shows now. */
  currentAvatar(userId: string): Promise<FileRow | undefined>;
  /**
   * Makes a pending avatar ready and the user's avatar, if the user still shows `previousId`
   * (compare and set); stages `jobs` (removing the original and the replaced avatar) with it.
   * False when the user's avatar changed in between, or the file is no longer pending.
   */
  showAvatar(
    file: FileRow,
    avatar: AvatarRef & { sha256: string },
    previousId: string | null,
    at: Date,
    jobs: PreparedJob[],
  ): Promise<boolean>;
}

const sortColumns = { createdAt: files.createdAt, name: files.name, size: files.size } as const;

/** A date as the table stores it (timestamp_ms), for the statements written in SQL. */
const ms = (date: Date | null) => (date === null ? null : date.getTime());

const expiredUpload = (now: Date) =>
  and(eq(files.status, 'uploading'), lt(files.expiresAt, now), isNull(files.deletedAt));
const stalePendingAvatar = (pendingSince: Date) =>
  and(eq(files.status, 'pending'), lt(files.createdAt, pendingSince), isNull(files.deletedAt));

export function createFilesRepository(db: Database): FilesRepository {
  const live = (id: string) => and(eq(files.id, id), isNull(files.deletedAt));

  const usedBy = (ownerId: string) =>
    sql`(SELECT COALESCE(SUM(size), 0) FROM ${files}
      WHERE owner_id = ${ownerId} AND kind = 'document' AND deleted_at IS NULL)`;

  return {
    async insertWithinQuota(ownerId, rows, quotaBytes) {
      const total = rows.reduce((sum, row) => sum + row.size, 0);
      const values = sql.join(
        rows.map(
          (row) =>
            sql`(${row.id}, ${row.ownerId}, ${row.kind}, ${row.status}, ${row.storageKey},
              ${row.sourceKey}, ${row.name}, ${row.contentType}, ${row.size}, ${row.sha256},
              ${ms(row.expiresAt)}, ${ms(row.createdAt)}, ${ms(row.updatedAt)})`,
        ),
        sql`, `,
      );
      // SQLite runs one write statement at a time, so the sum it checks is the sum it adds to.
      const inserted = await db.run(
        sql`INSERT INTO ${files} (id, owner_id, kind, status, storage_key, source_key, name,
            content_type, size, sha256, expires_at, created_at, updated_at)
          SELECT * FROM (VALUES ${values})
          WHERE ${usedBy(ownerId)} + ${total} <= ${quotaBytes}`,
      );
      return inserted.rowsAffected === rows.length;
    },

    async usedBytes(ownerId) {
      const row = await db.get<{ used: number }>(sql`SELECT ${usedBy(ownerId)} AS used`);
      return Number(row?.used ?? 0);
    },

    async insertAvatar(row, job) {
      await db.batch([db.insert(files).values(row), stageJob(db, job)]);
    },

    async findById(id) {
      const [row] = await db.select().from(files).where(live(id)).limit(1);
      return row;
    },

    async listByOwner(ownerId, page) {
      const where = and(eq(files.ownerId, ownerId), isNull(files.deletedAt));
      const direction = page.sortOrder === 'asc' ? asc : desc;
      const [rows, totals] = await db.batch([
        db
          .select()
          .from(files)
          .where(where)
          .orderBy(direction(sortColumns[page.sortBy]), direction(files.id))
          .limit(page.limit)
          .offset(offsetOf(page)),
        db.select({ total: count() }).from(files).where(where),
      ]);
      return { rows, total: totals[0]?.total ?? 0 };
    },

    async softDelete(file, at, jobs) {
      const [deleted] = await db.batch([
        db
          .update(files)
          .set({ deletedAt: at, updatedAt: at })
          .where(live(file.id))
          .returning({ id: files.id }),
        ...jobs.map((job) => stageJobIfChanged(db, job)),
        db
          .update(users)
          .set({ avatar: null, updatedAt: at })
          .where(
            and(
              eq(users.id, file.ownerId),
              sql`json_extract(${users.avatar}, '$.id') = ${file.id}`,
            ),
          ),
      ]);
      return deleted.length === 1;
    },

    async completeUpload(id, contentType, at) {
      const [row] = await db
        .update(files)
        .set({ status: 'ready', contentType, expiresAt: null, updatedAt: at })
        // Never one the clean-up may be removing: its time must not have run out.
        .where(and(live(id), eq(files.status, 'uploading'), gt(files.expiresAt, at)))
        .returning();
      return row;
    },

    abandoned(now, pendingSince, limit) {
      return db
        .select()
        .from(files)
        .where(or(expiredUpload(now), stalePendingAvatar(pendingSince)))
        .orderBy(asc(files.createdAt))
        .limit(limit);
    },

    async removeAbandoned(file, now, pendingSince, jobs) {
      const [removed] = await db.batch([
        db
          .delete(files)
          .where(
            and(eq(files.id, file.id), or(expiredUpload(now), stalePendingAvatar(pendingSince))),
          )
          .returning({ id: files.id }),
        ...jobs.map((job) => stageJobIfChanged(db, job)),
      ]);
      return removed.length === 1;
    },

    async currentAvatar(userId) {
      const [row] = await db
        .select({ file: files })
        .from(users)
        .innerJoin(files, sql`${files.id} = json_extract(${users.avatar}, '$.id')`)
        .where(eq(users.id, userId))
        .limit(1);
      return row?.file;
    },

    async showAvatar(file, avatar, previousId, at, jobs) {
      const { sha256, ...shown } = avatar;
      // Each statement runs only if the one before it changed its row (`changes() = 1`): the
      // user's avatar moves only from the one read, and the file and jobs follow it or nothing does.
      const [switched] = await db.batch([
        db
          .update(users)
          .set({ avatar: shown, updatedAt: at })
          .where(
            and(
              eq(users.id, file.ownerId),
              sql`json_extract(${users.avatar}, '$.id') IS ${previousId}`,
              sql`EXISTS (SELECT 1 FROM ${files} WHERE id = ${file.id} AND status = 'pending'
                AND deleted_at IS NULL)`,
            ),
          ),
        db.run(
          sql`UPDATE ${files} SET status = 'ready', content_type = ${shown.type},
              size = ${shown.size}, sha256 = ${sha256}, source_key = NULL,
              updated_at = ${at.getTime()}
            WHERE id = ${file.id} AND changes() = 1`,
        ),
        ...(previousId === null
          ? []
          : [
              db.run(
                sql`UPDATE ${files} SET deleted_at = ${at.getTime()}, updated_at = ${at.getTime()}
                  WHERE id = ${previousId} AND changes() = 1`,
              ),
            ]),
        ...jobs.map((job) => stageJobIfChanged(db, job)),
      ]);
      return switched.rowsAffected === 1;
    },
  };
}
