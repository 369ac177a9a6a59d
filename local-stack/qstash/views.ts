// The JSON shapes QStash's API answers with (what @upstash/qstash's Message, DlqMessage, Schedule
// and QueueResponse types describe). Bodies appear as text when they are UTF-8, else in base64.
import type { DlqEntry, QueueRecord, ScheduleRecord, StoredMessage } from './model.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bodyFields(bytes: Uint8Array, prefix: 'body' | 'responseBody'): Record<string, string> {
  try {
    return { [prefix]: strictUtf8.decode(bytes) };
  } catch {
    return { [`${prefix}Base64`]: Buffer.from(bytes).toString('base64') };
  }
}

function flowFields(flow: StoredMessage['settings']['flowControl']): Record<string, unknown> {
  if (!flow) return {};
  return {
    flowControlKey: flow.key,
    ...(flow.parallelism !== undefined && { parallelism: flow.parallelism }),
    ...(flow.rate !== undefined && { rate: flow.rate }),
    ...(flow.period !== undefined && { period: flow.period }),
  };
}

export function messageView(message: StoredMessage): Record<string, unknown> {
  const { settings } = message;
  return {
    messageId: message.messageId,
    url: settings.url,
    method: settings.method,
    header: settings.header,
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
    ...(settings.labels !== undefined && { label: settings.labels[0], labels: settings.labels }),
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
    ...(settings.labels !== undefined && { label: settings.labels[0], labels: settings.labels }),
    isPaused: schedule.paused,
    ...(schedule.lastRunAt !== undefined && { lastScheduleTime: schedule.lastRunAt }),
    ...(schedule.nextRunAt !== undefined && { nextScheduleTime: schedule.nextRunAt }),
  };
}
