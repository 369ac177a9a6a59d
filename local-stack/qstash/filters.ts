// The query filters QStash's bulk endpoints take (DLQ list/delete/retry, message cancel). A filter
// given several times matches any of its values; different filters must all match.
import type { StoredMessage } from './model.ts';

export interface FilterSubject {
  message: StoredMessage;
  /** The time the date range applies to (ms). */
  at: number;
  responseStatus?: number;
}

function anyOf(params: URLSearchParams, name: string, value: string | undefined): boolean {
  const wanted = params.getAll(name);
  return wanted.length === 0 || (value !== undefined && wanted.includes(value));
}

const filterNames = [
  'messageId',
  'url',
  'topicName',
  'scheduleId',
  'queueName',
  'label',
  'flowControlKey',
  'callerIp',
  'responseStatus',
  'fromDate',
  'toDate',
  'host',
  'path',
];

export function hasFilter(params: URLSearchParams): boolean {
  return filterNames.some((name) => params.has(name));
}

export function matchesFilter(params: URLSearchParams, subject: FilterSubject): boolean {
  const { settings, messageId } = subject.message;
  const url = new URL(settings.url);
  const labels = settings.labels ?? [];
  const wantedLabels = params.getAll('label');
  const from = Number(params.get('fromDate') ?? Number.NEGATIVE_INFINITY);
  const to = Number(params.get('toDate') ?? Number.POSITIVE_INFINITY);
  return (
    anyOf(params, 'messageId', messageId) &&
    anyOf(params, 'url', settings.url) &&
    anyOf(params, 'topicName', undefined) &&
    anyOf(params, 'scheduleId', settings.scheduleId) &&
    anyOf(params, 'queueName', settings.queueName) &&
    anyOf(params, 'flowControlKey', settings.flowControl?.key) &&
    anyOf(params, 'callerIp', undefined) &&
    anyOf(params, 'responseStatus', subject.responseStatus?.toString()) &&
    anyOf(params, 'host', url.host) &&
    anyOf(params, 'path', url.pathname) &&
    (wantedLabels.length === 0 || labels.some((label) => wantedLabels.includes(label))) &&
    subject.at >= from &&
    subject.at <= to
  );
}
