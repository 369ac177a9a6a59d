// The query filters QStash's bulk and listing endpoints take (DLQ list/delete/retry, message
// cancel, logs). A filter given several times matches any of its values; different filters must
// all match. The client sends `urlGroup` as `topicName`.
import type { LogState, MessageSettings } from './model.ts';

export interface FilterSubject {
  messageId: string;
  settings: MessageSettings;
  /** The time the date range applies to (ms). */
  at: number;
  responseStatus?: number;
  /** Only log events have one. */
  state?: LogState;
}

/** The logs' IN_PROGRESS filter stands for these states. */
const inProgress = new Set<string>(['ACTIVE', 'RETRY', 'ERROR']);

function anyOf(params: URLSearchParams, name: string, value: string | undefined): boolean {
  const wanted = params.getAll(name);
  return wanted.length === 0 || (value !== undefined && wanted.includes(value));
}

function stateMatches(params: URLSearchParams, state: LogState | undefined): boolean {
  const wanted = params.getAll('state');
  if (wanted.length === 0) return true;
  if (state === undefined) return false;
  return wanted.some((name) => name === state || (name === 'IN_PROGRESS' && inProgress.has(state)));
}

const filterNames = [
  'messageId',
  'messageIds',
  'url',
  'topicName',
  'scheduleId',
  'queueName',
  'label',
  'flowControlKey',
  'callerIp',
  'responseStatus',
  'state',
  'fromDate',
  'toDate',
  'host',
  'path',
];

export function hasFilter(params: URLSearchParams): boolean {
  return filterNames.some((name) => params.has(name));
}

export function matchesFilter(params: URLSearchParams, subject: FilterSubject): boolean {
  const { settings, messageId } = subject;
  const url = URL.canParse(settings.url) ? new URL(settings.url) : undefined;
  const labels = settings.labels ?? [];
  const wantedLabels = params.getAll('label');
  const from = Number(params.get('fromDate') ?? Number.NEGATIVE_INFINITY);
  const to = Number(params.get('toDate') ?? Number.POSITIVE_INFINITY);
  return (
    anyOf(params, 'messageId', messageId) &&
    anyOf(params, 'messageIds', messageId) &&
    anyOf(params, 'url', settings.url) &&
    anyOf(params, 'topicName', settings.urlGroup) &&
    anyOf(params, 'scheduleId', settings.scheduleId) &&
    anyOf(params, 'queueName', settings.queueName) &&
    anyOf(params, 'flowControlKey', settings.flowControl?.key) &&
    // The broker does not record the publisher's address, so a callerIp filter matches nothing.
    anyOf(params, 'callerIp', undefined) &&
    anyOf(params, 'responseStatus', subject.responseStatus?.toString()) &&
    anyOf(params, 'host', url?.host) &&
    anyOf(params, 'path', url?.pathname) &&
    stateMatches(params, subject.state) &&
    (wantedLabels.length === 0 || labels.some((label) => wantedLabels.includes(label))) &&
    subject.at >= from &&
    subject.at <= to
  );
}
