// The JSON shapes QStash's API answers with (what @upstash/qstash's Message, DlqMessage, Schedule,
// QueueResponse, UrlGroup, Log and FlowControlInfo types describe). Bodies appear as text when they
// are UTF-8, else in base64, and not at all when empty; in the logs they are always base64, as
// QStash's logs API shows them. Flow-control periods are in seconds.
import type {
  DlqEntry,
  FlowControl,
  LogEvent,
  MessageSettings,
  QueueRecord,
  ScheduleRecord,
  StoredMessage,
  UrlGroupRecord,
} from './model.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bodyFields(bytes: Uint8Array, prefix: 'body' | 'responseBody'): Record<string, string> {
  if (bytes.length === 0) return {};
  try {
    return { [prefix]: strictUtf8.decode(bytes) };
  } catch {
    return { [`${prefix}Base64`]: Buffer.from(bytes).toString('base64') };
  }
}

function flowFields(flow: FlowControl | undefined): Record<string, unknown> {
  if (!flow) return {};
  return {
    flowControlKey: flow.key,
    ...(flow.parallelism !== undefined && { parallelism: flow.parallelism }),
    ...(flow.rate !== undefined && { rate: flow.rate, period: flow.period ?? 1 }),
  };
}

function labelFields(settings: MessageSettings): Record<string, unknown> {
  const { labels } = settings;
  return labels === undefined ? {} : { label: labels[0], labels };
}

/** What every view of a message shows about where it goes and how it is retried. */
function deliveryFields(settings: MessageSettings): Record<string, unknown> {
  return {
    ...(settings.urlGroup !== undefined && { topicName: settings.urlGroup }),
    ...(settings.endpointName !== undefined && { endpointName: settings.endpointName }),
    url: settings.url,
    method: settings.method,
    header: settings.header,
  };
}

export function messageView(message: StoredMessage): Record<string, unknown> {
  const { settings } = message;
  return {
    messageId: message.messageId,
    ...deliveryFields(settings),
    ...bodyFields(message.body, 'body'),
    maxRetries: settings.maxRetries,
    ...(settings.retryDelayExpression !== undefined && {
      retryDelayExpression: settings.retryDelayExpression,
    }),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    ...(settings.callback !== undefined && { callback: settings.callback }),
    ...(settings.failureCallback !== undefined && { failureCallback: settings.failureCallback }),
    ...(settings.queueName !== undefined && { queueName: settings.queueName }),
    ...(settings.scheduleId !== undefined && { scheduleId: settings.scheduleId }),
    ...flowFields(settings.flowControl),
    ...labelFields(settings),
  };
}

export function dlqView(entry: DlqEntry): Record<string, unknown> {
  return {
    ...messageView(entry.message),
    dlqId: entry.dlqId,
    ...(entry.response.status !== undefined && { responseStatus: entry.response.status }),
    responseHeader: entry.response.header,
    ...bodyFields(entry.response.body, 'responseBody'),
  };
}

export function queueView(queue: QueueRecord, lag: number): Record<string, unknown> {
  return {
    name: queue.name,
    parallelism: queue.parallelism,
    paused: queue.paused,
    lag,
    createdAt: queue.createdAt,
    updatedAt: queue.updatedAt,
  };
}

export function scheduleView(schedule: ScheduleRecord): Record<string, unknown> {
  const { settings } = schedule;
  return {
    scheduleId: schedule.scheduleId,
    cron: schedule.cron,
    createdAt: schedule.createdAt,
    // A URL group's name when the schedule publishes to one, as QStash shows it.
    destination: settings.url,
    method: settings.method,
    header: settings.header,
    ...bodyFields(schedule.body, 'body'),
    retries: settings.maxRetries,
    ...(settings.retryDelayExpression !== undefined && {
      retryDelayExpression: settings.retryDelayExpression,
    }),
    ...(schedule.delayMs > 0 && { delay: schedule.delayMs / 1000 }),
    ...(settings.timeoutMs !== undefined && { timeout: settings.timeoutMs / 1000 }),
    ...(settings.callback !== undefined && { callback: settings.callback }),
    ...(settings.failureCallback !== undefined && { failureCallback: settings.failureCallback }),
    ...(settings.queueName !== undefined && { queueName: settings.queueName }),
    ...flowFields(settings.flowControl),
    ...labelFields(settings),
    isPaused: schedule.paused,
    ...(schedule.lastRunAt !== undefined && { lastScheduleTime: schedule.lastRunAt }),
    ...(schedule.nextRunAt !== undefined && { nextScheduleTime: schedule.nextRunAt }),
  };
}

export function urlGroupView(group: UrlGroupRecord): Record<string, unknown> {
  return {
    name: group.name,
    endpoints: group.endpoints,
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
  };
}

function base64Field(name: string, bytes: Uint8Array | undefined): Record<string, string> {
  return bytes === undefined || bytes.length === 0
    ? {}
    : { [name]: Buffer.from(bytes).toString('base64') };
}

export function logView(event: LogEvent): Record<string, unknown> {
  const { settings } = event;
  return {
    time: event.time,
    state: event.state,
    messageId: event.messageId,
    ...deliveryFields(settings),
    ...base64Field('body', event.body),
    ...(event.error !== undefined && { error: event.error }),
    ...(event.nextDeliveryTime !== undefined && { nextDeliveryTime: event.nextDeliveryTime }),
    ...(event.responseStatus !== undefined && { responseStatus: event.responseStatus }),
    ...(event.responseHeader !== undefined && { responseHeaders: event.responseHeader }),
    ...base64Field('responseBody', event.responseBody),
    maxRetries: settings.maxRetries,
    ...(settings.retryDelayExpression !== undefined && {
      retryDelayExpression: settings.retryDelayExpression,
    }),
    ...(settings.timeoutMs !== undefined && { timeout: settings.timeoutMs / 1000 }),
    ...(settings.callback !== undefined && { callback: settings.callback }),
    ...(settings.failureCallback !== undefined && { failureCallback: settings.failureCallback }),
    ...(settings.scheduleId !== undefined && { scheduleId: settings.scheduleId }),
    ...(settings.queueName !== undefined && { queueName: settings.queueName }),
    ...flowFields(settings.flowControl),
    ...labelFields(settings),
  };
}

export interface FlowControlState {
  key: string;
  waitListSize: number;
  parallelismMax?: number;
  parallelismCount: number;
  rateMax?: number;
  rateCount: number;
  /** Seconds. */
  ratePeriod?: number;
  /** Milliseconds; shown in seconds. */
  ratePeriodStart: number;
  paused: boolean;
  pinnedParallelism: boolean;
  pinnedRate: boolean;
}

export function flowControlView(flow: FlowControlState): Record<string, unknown> {
  return {
    flowControlKey: flow.key,
    waitListSize: flow.waitListSize,
    parallelismMax: flow.parallelismMax ?? 0,
    parallelismCount: flow.parallelismCount,
    rateMax: flow.rateMax ?? 0,
    rateCount: flow.rateCount,
    ratePeriod: flow.ratePeriod ?? 0,
    ratePeriodStart: Math.floor(flow.ratePeriodStart / 1000),
    isPaused: flow.paused,
    isPinnedParallelism: flow.pinnedParallelism,
    isPinnedRate: flow.pinnedRate,
  };
}
