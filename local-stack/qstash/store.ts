// The broker's durable state in one local SQLite file (npm `libsql`, synchronous API): every
// accepted message, DLQ entry, queue, schedule and deduplication key is committed here before the
// API answers, so a restarted broker resumes where the last one stopped.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import type {
  DlqEntry,
  FailedResponse,
  MessageSettings,
  QueueRecord,
  ScheduleRecord,
  StoredMessage,
} from './model.ts';

const schema = `
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  retried INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  queue_name TEXT
);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (queue_name, seq);
CREATE TABLE IF NOT EXISTS dlq (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  dlq_id TEXT NOT NULL UNIQUE,
  message TEXT NOT NULL,
  body BLOB NOT NULL,
  response TEXT NOT NULL,
  response_body BLOB NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queues (
  name TEXT PRIMARY KEY,
  parallelism INTEGER NOT NULL,
  paused INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
  id TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  settings TEXT NOT NULL,
  body BLOB NOT NULL,
  delay_ms INTEGER NOT NULL,
  paused INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_at INTEGER,
  last_at INTEGER
);
CREATE TABLE IF NOT EXISTS dedup (
  key TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

interface MessageRow {
  seq: number;
  id: string;
  settings: string;
  body: Buffer;
  created_at: number;
  not_before: number;
  retried: number;
  next_at: number;
  queue_name: string | null;
}

interface DlqRow {
  seq: number;
  dlq_id: string;
  message: string;
  body: Buffer;
  response: string;
  response_body: Buffer;
  failed_at: number;
}

interface QueueRow {
  name: string;
  parallelism: number;
  paused: number;
  created_at: number;
  updated_at: number;
}

interface ScheduleRow {
  id: string;
  cron: string;
  settings: string;
  body: Buffer;
  delay_ms: number;
  paused: number;
  created_at: number;
  next_at: number | null;
  last_at: number | null;
}

type StoredMessageHeader = Omit<StoredMessage, 'body' | 'settings'> & { settings: MessageSettings };

function toMessage(row: MessageRow): StoredMessage {
  return {
    messageId: row.id,
    settings: JSON.parse(row.settings) as MessageSettings,
    body: new Uint8Array(row.body),
    createdAt: row.created_at,
    notBefore: row.not_before,
    retried: row.retried,
    nextAttemptAt: row.next_at,
  };
}

function toDlqEntry(row: DlqRow): DlqEntry {
  const message = JSON.parse(row.message) as StoredMessageHeader;
  const response = JSON.parse(row.response) as Omit<FailedResponse, 'body'>;
  return {
    dlqId: row.dlq_id,
    message: { ...message, body: new Uint8Array(row.body) },
    response: { ...response, body: new Uint8Array(row.response_body) },
    failedAt: row.failed_at,
  };
}

function toQueue(row: QueueRow): QueueRecord {
  return {
    name: row.name,
    parallelism: row.parallelism,
    paused: row.paused === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    scheduleId: row.id,
    cron: row.cron,
    settings: JSON.parse(row.settings) as MessageSettings,
    body: new Uint8Array(row.body),
    delayMs: row.delay_ms,
    paused: row.paused === 1,
    createdAt: row.created_at,
    ...(row.next_at !== null && { nextRunAt: row.next_at }),
    ...(row.last_at !== null && { lastRunAt: row.last_at }),
  };
}

export type BrokerStore = ReturnType<typeof openStore>;

export function openStore(path: string) {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  // WAL with synchronous=NORMAL: a commit survives the broker's crash (what a restart must
  // resume from) without an fsync per message, which made a burst of deliveries crawl.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(schema);

  // The dispatcher runs the same few statements for every delivery: prepare each once.
  const statements = new Map<string, Database.Statement<unknown[]>>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const all = <Row>(sql: string, ...params: unknown[]) => prepared(sql).all(...params) as Row[];
  const one = <Row>(sql: string, ...params: unknown[]) =>
    prepared(sql).get(...params) as Row | undefined;
  const run = (sql: string, ...params: unknown[]) => prepared(sql).run(...params).changes;

  return {
    /** Runs `work` in one SQLite transaction: all of its writes land, or none. */
    transaction<T>(work: () => T): T {
      return db.transaction(work)();
    },

    insertMessage(message: StoredMessage): void {
      run(
        `INSERT INTO messages (id, settings, body, created_at, not_before, retried, next_at, queue_name)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        message.messageId,
        JSON.stringify(message.settings),
        Buffer.from(message.body),
        message.createdAt,
        message.notBefore,
        message.retried,
        message.nextAttemptAt,
        message.settings.queueName ?? null,
      );
    },
    getMessage(id: string): StoredMessage | undefined {
      const row = one<MessageRow>('SELECT * FROM messages WHERE id = ?', id);
      return row && toMessage(row);
    },
    /** Every pending message, oldest first: the dispatcher's FIFO order. */
    listMessages(): StoredMessage[] {
      return all<MessageRow>('SELECT * FROM messages ORDER BY seq').map(toMessage);
    },
    deleteMessage(id: string): boolean {
      return run('DELETE FROM messages WHERE id = ?', id) > 0;
    },
    scheduleRetry(id: string, retried: number, nextAttemptAt: number): boolean {
      return (
        run(
          'UPDATE messages SET retried = ?, next_at = ? WHERE id = ?',
          retried,
          nextAttemptAt,
          id,
        ) > 0
      );
    },
    queueLag(name: string): number {
      const row = one<{ n: number }>(
        'SELECT count(*) AS n FROM messages WHERE queue_name = ?',
        name,
      );
      return row?.n ?? 0;
    },

    insertDlq(entry: DlqEntry): void {
      const { body, ...message } = entry.message;
      const { body: responseBody, ...response } = entry.response;
      run(
        `INSERT INTO dlq (dlq_id, message, body, response, response_body, failed_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        entry.dlqId,
        JSON.stringify(message),
        Buffer.from(body),
        JSON.stringify(response),
        Buffer.from(responseBody),
        entry.failedAt,
      );
    },
    getDlq(dlqId: string): DlqEntry | undefined {
      const row = one<DlqRow>('SELECT * FROM dlq WHERE dlq_id = ?', dlqId);
      return row && toDlqEntry(row);
    },
    /** DLQ entries from position `afterSeq` on, oldest first, each with its cursor position. */
    listDlq(afterSeq: number): { seq: number; entry: DlqEntry }[] {
      return all<DlqRow>('SELECT * FROM dlq WHERE seq > ? ORDER BY seq', afterSeq).map((row) => ({
        seq: row.seq,
        entry: toDlqEntry(row),
      }));
    },
    deleteDlq(dlqId: string): boolean {
      return run('DELETE FROM dlq WHERE dlq_id = ?', dlqId) > 0;
    },

    upsertQueue(name: string, parallelism: number, paused: boolean, now: number): void {
      run(
        `INSERT INTO queues (name, parallelism, paused, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET parallelism = excluded.parallelism,
           paused = excluded.paused, updated_at = excluded.updated_at`,
        name,
        parallelism,
        paused ? 1 : 0,
        now,
        now,
      );
    },
    ensureQueue(name: string, now: number): void {
      run(
        `INSERT INTO queues (name, parallelism, paused, created_at, updated_at)
         VALUES (?, 1, 0, ?, ?) ON CONFLICT (name) DO NOTHING`,
        name,
        now,
        now,
      );
    },
    getQueue(name: string): QueueRecord | undefined {
      const row = one<QueueRow>('SELECT * FROM queues WHERE name = ?', name);
      return row && toQueue(row);
    },
    listQueues(): QueueRecord[] {
      return all<QueueRow>('SELECT * FROM queues ORDER BY name').map(toQueue);
    },
    setQueuePaused(name: string, paused: boolean, now: number): boolean {
      return (
        run(
          'UPDATE queues SET paused = ?, updated_at = ? WHERE name = ?',
          paused ? 1 : 0,
          now,
          name,
        ) > 0
      );
    },
    /** Deleting a queue drops its pending messages too, as QStash does. */
    deleteQueue(name: string): boolean {
      run('DELETE FROM messages WHERE queue_name = ?', name);
      return run('DELETE FROM queues WHERE name = ?', name) > 0;
    },

    upsertSchedule(schedule: ScheduleRecord): void {
      run(
        `INSERT INTO schedules (id, cron, settings, body, delay_ms, paused, created_at, next_at, last_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, settings = excluded.settings,
           body = excluded.body, delay_ms = excluded.delay_ms, next_at = excluded.next_at`,
        schedule.scheduleId,
        schedule.cron,
        JSON.stringify(schedule.settings),
        Buffer.from(schedule.body),
        schedule.delayMs,
        schedule.paused ? 1 : 0,
        schedule.createdAt,
        schedule.nextRunAt ?? null,
        schedule.lastRunAt ?? null,
      );
    },
    getSchedule(id: string): ScheduleRecord | undefined {
      const row = one<ScheduleRow>('SELECT * FROM schedules WHERE id = ?', id);
      return row && toSchedule(row);
    },
    listSchedules(): ScheduleRecord[] {
      return all<ScheduleRow>('SELECT * FROM schedules ORDER BY created_at, id').map(toSchedule);
    },
    setScheduleState(id: string, paused: boolean, nextRunAt: number | undefined): boolean {
      return (
        run(
          'UPDATE schedules SET paused = ?, next_at = ? WHERE id = ?',
          paused ? 1 : 0,
          nextRunAt ?? null,
          id,
        ) > 0
      );
    },
    recordScheduleRun(id: string, lastRunAt: number, nextRunAt: number | undefined): void {
      run(
        'UPDATE schedules SET last_at = ?, next_at = ? WHERE id = ?',
        lastRunAt,
        nextRunAt ?? null,
        id,
      );
    },
    deleteSchedule(id: string): boolean {
      return run('DELETE FROM schedules WHERE id = ?', id) > 0;
    },

    findDeduplicated(key: string, now: number): string | undefined {
      return one<{ message_id: string }>(
        'SELECT message_id FROM dedup WHERE key = ? AND expires_at > ?',
        key,
        now,
      )?.message_id;
    },
    rememberDeduplication(key: string, messageId: string, expiresAt: number): void {
      run(
        `INSERT INTO dedup (key, message_id, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET message_id = excluded.message_id,
           expires_at = excluded.expires_at`,
        key,
        messageId,
        expiresAt,
      );
    },
    forgetExpiredDeduplications(now: number): void {
      run('DELETE FROM dedup WHERE expires_at <= ?', now);
    },

    close(): void {
      db.close();
    },
  };
}
