// What the broker stores about messages, DLQ entries, queues and schedules. Header maps use Go's
// canonical names and value lists, as QStash's API shows them (`{"Content-Type": ["..."]}`).
import { newId } from './ids.ts';

export type HeaderMap = Record<string, string[]>;

export interface FlowControl {
  key: string;
  parallelism?: number;
  rate?: number;
  period?: string;
}

/** Everything a publish fixes about a message except its body. */
export interface MessageSettings {
  url: string;
  method: string;
  header: HeaderMap;
  maxRetries: number;
  retryDelayExpression?: string;
  timeoutMs?: number;
  callback?: string;
  failureCallback?: string;
  callbackHeader?: HeaderMap;
  failureCallbackHeader?: HeaderMap;
  queueName?: string;
  scheduleId?: string;
  flowControl?: FlowControl;
  labels?: string[];
}

export interface StoredMessage {
  messageId: string;
  settings: MessageSettings;
  body: Uint8Array;
  createdAt: number;
  /** When the first attempt was due (ms). */
  notBefore: number;
  /** Retries done so far: the next attempt carries this as Upstash-Retried. */
  retried: number;
  nextAttemptAt: number;
}

export interface FailedResponse {
  status?: number;
  header: HeaderMap;
  body: Uint8Array;
}

export interface DlqEntry {
  dlqId: string;
  message: StoredMessage;
  response: FailedResponse;
  failedAt: number;
}

export interface QueueRecord {
  name: string;
  parallelism: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ScheduleRecord {
  scheduleId: string;
  cron: string;
  settings: MessageSettings;
  body: Uint8Array;
  delayMs: number;
  paused: boolean;
  createdAt: number;
  nextRunAt?: number;
  lastRunAt?: number;
}

/** Go's textproto canonical form: "upstash-message-id" becomes "Upstash-Message-Id". */
export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

export function appendHeader(map: HeaderMap, name: string, value: string): void {
  const key = canonicalHeaderName(name);
  map[key] = [...(map[key] ?? []), value];
}

export function headerMapOf(headers: Headers): HeaderMap {
  const map: HeaderMap = {};
  headers.forEach((value, name) => {
    appendHeader(map, name, value);
  });
  return map;
}

export function newMessage(
  settings: MessageSettings,
  body: Uint8Array,
  createdAt: number,
  firstAttemptAt: number,
  messageId = newId('msg'),
): StoredMessage {
  return {
    messageId,
    settings,
    body,
    createdAt,
    notBefore: firstAttemptAt,
    retried: 0,
    nextAttemptAt: firstAttemptAt,
  };
}
