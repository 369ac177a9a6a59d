// The broker's durable state in one local SQLite file (npm `libsql`, synchronous API): every
// accepted message, DLQ entry, queue, schedule, URL group, flow-control key setting, log event and
// deduplication key is committed here before the API answers, so a restarted broker resumes where
// the last one stopped.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { parseDuration } from './durations.ts';
import type {
  DlqEntry,
  Endpoint,
  FailedResponse,
  FlowControlRecord,
  LogEvent,
  MessageSettings,
  QueueRecord,
  ScheduleRecord,
  StoredMessage,
  UrlGroupRecord,
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
CREATE TABLE IF NOT EXISTS url_groups (
  name TEXT PRIMARY KEY,
  endpoints TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_controls (
  key TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  pinned_parallelism INTEGER,
  pinned_rate INTEGER,
  pinned_period INTEGER,
  rate_count INTEGER NOT NULL DEFAULT 0,
  rate_period_start INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  state TEXT NOT NULL,
  message_id TEXT NOT NULL,
  settings TEXT NOT NULL,
  body BLOB NOT NULL,
  details TEXT NOT NULL,
  response_body BLOB
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

interface UrlGroupRow {
  name: string;
  endpoints: string;
  created_at: number;
  updated_at: number;
}

interface FlowControlRow {
  key: string;
  paused: number;
  pinned_parallelism: number | null;
  pinned_rate: number | null;
  pinned_period: number | null;
  rate_count: number;
  rate_period_start: number;
}

interface EventRow {
  seq: number;
  time: number;
  state: LogEvent['state'];
  message_id: string;
  settings: string;
  body: Buffer;
  details: string;
  response_body: Buffer | null;
}

type StoredMessageHeader = Omit<StoredMessage, 'body' | 'settings'> & { settings: MessageSettings };

type EventDetails = Pick<
  LogEvent,
  'error' | 'nextDeliveryTime' | 'responseStatus' | 'responseHeader'
>;

/** Settings as stored; files written before periods were kept in seconds hold "1m"-style text. */
function normalizeSettings(settings: MessageSettings): MessageSettings {
  const period: unknown = settings.flowControl?.period;
  if (settings.flowControl && typeof period === 'string') {
    settings.flowControl.period = Math.max(1, (parseDuration(period) ?? 1000) / 1000);
  }
  return settings;
}

function readSettings(json: string): MessageSettings {
  return normalizeSettings(JSON.parse(json) as MessageSettings);
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    messageId: row.id,
    settings: readSettings(row.settings),
    body: new Uint8Array(row.body),
    createdAt: row.created_at,
    notBefore: row.not_before,
    retried: row.retried,
    nextAttemptAt: row.next_at,
  };
}

function toDlqEntry(row: DlqRow): DlqEntry {
  const message = JSON.parse(row.message) as StoredMessageHeader;
  normalizeSettings(message.settings);
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
    settings: readSettings(row.settings),
    body: new Uint8Array(row.body),
    delayMs: row.delay_ms,
    paused: row.paused === 1,
    createdAt: row.created_at,
    ...(row.next_at !== null && { nextRunAt: row.next_at }),
    ...(row.last_at !== null && { lastRunAt: row.last_at }),
  };
}

function toUrlGroup(row: UrlGroupRow): UrlGroupRecord {
  return {
    name: row.name,
    endpoints: JSON.parse(row.endpoints) as Endpoint[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toFlowControl(row: FlowControlRow): FlowControlRecord {
  return {
    key: row.key,
    paused: row.paused === 1,
    ...(row.pinned_parallelism !== null && { pinnedParallelism: row.pinned_parallelism }),
    ...(row.pinned_rate !== null && { pinnedRate: row.pinned_rate }),
    ...(row.pinned_period !== null && { pinnedPeriod: row.pinned_period }),
    rateCount: row.rate_count,
    ratePeriodStart: row.rate_period_start,
  };
}

function toEvent(row: EventRow): LogEvent {
  const details = JSON.parse(row.details) as EventDetails;
  return {
    time: row.time,
    state: row.state,
    messageId: row.message_id,
    settings: readSettings(row.settings),
    body: new Uint8Array(row.body),
    ...details,
    ...(row.response_body !== null && { responseBody: new Uint8Array(row.response_body) }),
  };
}

export interface StoreOptions {
  /** Log events kept: older ones are dropped as new ones are written. */
  logRetention: number;
}

export type BrokerStore = ReturnType<typeof openStore>;

export function openStore(path: string, { logRetention }: StoreOptions) {
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

    upsertUrlGroup(group: UrlGroupRecord): void {
      run(
        `INSERT INTO url_groups (name, endpoints, created_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET endpoints = excluded.endpoints,
           updated_at = excluded.updated_at`,
        group.name,
        JSON.stringify(group.endpoints),
        group.createdAt,
        group.updatedAt,
      );
    },
    getUrlGroup(name: string): UrlGroupRecord | undefined {
      const row = one<UrlGroupRow>('SELECT * FROM url_groups WHERE name = ?', name);
      return row && toUrlGroup(row);
    },
    listUrlGroups(): UrlGroupRecord[] {
      return all<UrlGroupRow>('SELECT * FROM url_groups ORDER BY name').map(toUrlGroup);
    },
    deleteUrlGroup(name: string): boolean {
      return run('DELETE FROM url_groups WHERE name = ?', name) > 0;
    },

    getFlowControl(key: string): FlowControlRecord | undefined {
      const row = one<FlowControlRow>('SELECT * FROM flow_controls WHERE key = ?', key);
      return row && toFlowControl(row);
    },
    listFlowControls(): FlowControlRecord[] {
      return all<FlowControlRow>('SELECT * FROM flow_controls ORDER BY key').map(toFlowControl);
    },
    putFlowControl(flow: FlowControlRecord): void {
      run(
        `INSERT INTO flow_controls (key, paused, pinned_parallelism, pinned_rate, pinned_period,
           rate_count, rate_period_start) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET paused = excluded.paused,
           pinned_parallelism = excluded.pinned_parallelism, pinned_rate = excluded.pinned_rate,
           pinned_period = excluded.pinned_period, rate_count = excluded.rate_count,
           rate_period_start = excluded.rate_period_start`,
        flow.key,
        flow.paused ? 1 : 0,
        flow.pinnedParallelism ?? null,
        flow.pinnedRate ?? null,
        flow.pinnedPeriod ?? null,
        flow.rateCount,
        flow.ratePeriodStart,
      );
    },

    /** Appends to the logs and drops what falls out of the retention window. */
    insertEvent(event: LogEvent): void {
      const { time, state, messageId, settings, body, responseBody, ...details } = event;
      const seq = prepared(
        `INSERT INTO events (time, state, message_id, settings, body, details, response_body)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        time,
        state,
        messageId,
        JSON.stringify(settings),
        Buffer.from(body),
        JSON.stringify(details),
        responseBody === undefined ? null : Buffer.from(responseBody),
      ).lastInsertRowid;
      run('DELETE FROM events WHERE seq <= ?', Number(seq) - logRetention);
    },
    /** Up to `limit` events older than position `beforeSeq`, newest first, with their positions. */
    listEvents(beforeSeq: number, limit: number): { seq: number; event: LogEvent }[] {
      return all<EventRow>(
        'SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?',
        beforeSeq,
        limit,
      ).map((row) => ({ seq: row.seq, event: toEvent(row) }));
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
