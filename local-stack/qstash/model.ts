// What the broker stores about messages, DLQ entries, queues, schedules, URL groups, flow-control
// keys and log events. Header maps use Go's canonical names and value lists, as QStash's API shows
// them (`{"Content-Type": ["..."]}`).
import { newId } from './ids.ts';

export type HeaderMap = Record<string, string[]>;

export interface FlowControl {
  key: string;
  parallelism?: number;
  rate?: number;
  /** The rate's window in seconds; QStash's default is one second. */
  period?: number;
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
  /** Set on each message a URL-group publish fans out, and on a schedule whose destination is one. */
  urlGroup?: string;
  endpointName?: string;
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

export interface Endpoint {
  name?: string;
  url: string;
}

export interface UrlGroupRecord {
  name: string;
  endpoints: Endpoint[];
  createdAt: number;
  updatedAt: number;
}

/** What an operator set on a flow-control key, and the state of its current rate window. */
export interface FlowControlRecord {
  key: string;
  paused: boolean;
  pinnedParallelism?: number;
  pinnedRate?: number;
  /** Seconds. */
  pinnedPeriod?: number;
  /** Activations counted in the window that started at `ratePeriodStart` (ms). */
  rateCount: number;
  ratePeriodStart: number;
}

/** The states of QStash's logs, in the order a message goes through them. */
export type LogState =
  | 'CREATED'
  | 'ACTIVE'
  | 'DELIVERED'
  | 'ERROR'
  | 'RETRY'
  | 'FAILED'
  | 'CANCEL_REQUESTED'
  | 'CANCELLED';

/** One entry of the logs: the message as it was at that moment, and what happened to it. */
export interface LogEvent {
  time: number;
  state: LogState;
  messageId: string;
  settings: MessageSettings;
  body: Uint8Array;
  error?: string;
  nextDeliveryTime?: number;
  responseStatus?: number;
  responseHeader?: HeaderMap;
  responseBody?: Uint8Array;
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
