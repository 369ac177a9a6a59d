// Messages (get, cancel one or many, each cancel logged) and the DLQ (list, get, delete, retry).
import type { ApiContext } from './context.ts';
import { hasFilter, matchesFilter } from './filters.ts';
import { addMessage, cancelPending } from './message-log.ts';
import { type DlqEntry, newMessage } from './model.ts';
import { empty, errorResponse, json } from './responses.ts';
import { dlqView, messageView } from './views.ts';

const defaultPageSize = 100;

const messageNotFound = { status: 404, message: 'message not found' };
const dlqNotFound = { status: 404, message: 'dlq message not found' };

export function getMessage({ store }: ApiContext, id: string): Response {
  const message = store.getMessage(id);
  return message ? json(messageView(message)) : errorResponse(messageNotFound);
}

function cancel({ store, dispatcher, now }: ApiContext, ids: string[]): number {
  const at = now();
  const cancelled = store.transaction(() => cancelPending(store, ids, at));
  dispatcher.abort(cancelled);
  return cancelled.length;
}

export function cancelMessage(context: ApiContext, id: string): Response {
  return cancel(context, [id]) === 1 ? json({ cancelled: 1 }) : errorResponse(messageNotFound);
}

/**
 * With messageIds, those; with filters, every match; with neither (`{ all: true }`), all pending
 * messages. `count`, which the client still sends, is ignored as QStash ignores it now: a filtered
 * cancel takes every match in one call.
 */
export function cancelMessages(context: ApiContext, params: URLSearchParams): Response {
  const ids = params.getAll('messageIds');
  if (ids.length > 0) return json({ cancelled: cancel(context, ids) });
  const matching = context.store
    .listMessages()
    .filter((message) => matchesFilter(params, { ...message, at: message.createdAt }))
    .map((message) => message.messageId);
  return json({ cancelled: cancel(context, matching) });
}

interface DlqPage {
  entries: DlqEntry[];
  cursor?: string;
}

/** The DLQ entries a bulk request names: by dlqIds, or a page of filter matches from `cursor`. */
function selectDlq({ store }: ApiContext, params: URLSearchParams): DlqPage {
  const ids = params.getAll('dlqIds');
  if (ids.length > 0) {
    return { entries: ids.flatMap((id) => store.getDlq(id) ?? []) };
  }
  const count = Math.max(1, Number(params.get('count') ?? defaultPageSize) || defaultPageSize);
  const after = Number(params.get('cursor') ?? 0) || 0;
  const filtered = hasFilter(params);
  const matches = store.listDlq(after).filter(
    ({ entry }) =>
      !filtered ||
      matchesFilter(params, {
        ...entry.message,
        at: entry.failedAt,
        ...(entry.response.status !== undefined && { responseStatus: entry.response.status }),
      }),
  );
  const page = matches.slice(0, count);
  const last = page.at(-1);
  return {
    entries: page.map(({ entry }) => entry),
    ...(matches.length > count && last && { cursor: String(last.seq) }),
  };
}

export function listDlq(context: ApiContext, params: URLSearchParams): Response {
  const { entries, cursor } = selectDlq(context, params);
  return json({ messages: entries.map(dlqView), ...(cursor !== undefined && { cursor }) });
}

export function getDlq({ store }: ApiContext, dlqId: string): Response {
  const entry = store.getDlq(dlqId);
  return entry ? json(dlqView(entry)) : errorResponse(dlqNotFound);
}

export function deleteDlq({ store }: ApiContext, dlqId: string): Response {
  return store.deleteDlq(dlqId) ? empty() : errorResponse(dlqNotFound);
}

export function deleteDlqMany(context: ApiContext, params: URLSearchParams): Response {
  const { entries, cursor } = selectDlq(context, params);
  const { store } = context;
  const deleted = store.transaction(
    () => entries.filter((entry) => store.deleteDlq(entry.dlqId)).length,
  );
  return json({ deleted, ...(cursor !== undefined && { cursor }) });
}

/** Publishes each entry again as a new message with fresh retries, and drops it from the DLQ. */
export function retryDlq(context: ApiContext, params: URLSearchParams): Response {
  const { entries, cursor } = selectDlq(context, params);
  const { store, dispatcher, now } = context;
  const at = now();
  const responses = store.transaction(() =>
    entries.flatMap(({ dlqId, message }) => {
      if (!store.deleteDlq(dlqId)) return [];
      const again = newMessage(message.settings, message.body, at, at);
      if (message.settings.queueName !== undefined)
        store.ensureQueue(message.settings.queueName, at);
      addMessage(store, again, at);
      return [{ messageId: again.messageId }];
    }),
  );
  dispatcher.pump();
  return json({ responses, ...(cursor !== undefined && { cursor }) });
}
