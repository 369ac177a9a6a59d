// The logs (`GET /v2/events`, `GET /v2/logs`): every state a message goes through is appended as an
// event. CREATED when it is stored, ACTIVE when an attempt starts, then DELIVERED, or ERROR followed
// by RETRY (with the next delivery time) or FAILED; CANCEL_REQUESTED then CANCELLED when a user
// cancels it. Callers run these inside the store transaction that makes the change, so the logs
// never tell of a change that did not happen.
import { type DeliveryOutcome, isDelivered } from './delivery.ts';
import type { LogEvent, LogState, StoredMessage } from './model.ts';
import type { BrokerStore } from './store.ts';

type Details = Omit<LogEvent, 'time' | 'state' | 'messageId' | 'settings' | 'body'>;

export function logEvent(
  store: BrokerStore,
  state: LogState,
  message: StoredMessage,
  at: number,
  details: Details = {},
): void {
  store.insertEvent({
    time: at,
    state,
    messageId: message.messageId,
    settings: message.settings,
    body: message.body,
    ...details,
  });
}

/** The one way a message enters the store: kept and logged as CREATED together. */
export function addMessage(store: BrokerStore, message: StoredMessage, at: number): void {
  store.insertMessage(message);
  const delayed = message.notBefore > at;
  logEvent(store, 'CREATED', message, at, delayed ? { nextDeliveryTime: message.notBefore } : {});
}

/** What a DELIVERED or ERROR event says about the attempt. */
export function outcomeDetails(outcome: Exclude<DeliveryOutcome, { kind: 'aborted' }>): Details {
  if (outcome.kind === 'error') return { error: outcome.message };
  return {
    responseStatus: outcome.status,
    responseHeader: outcome.header,
    responseBody: outcome.body,
    ...(!isDelivered(outcome) && { error: `the destination answered ${outcome.status}` }),
  };
}

/** Removes pending messages a user cancelled, logging each; answers the ids that were pending. */
export function cancelPending(store: BrokerStore, ids: Iterable<string>, at: number): string[] {
  const cancelled: string[] = [];
  for (const id of ids) {
    const message = store.getMessage(id);
    if (!message || !store.deleteMessage(id)) continue;
    logEvent(store, 'CANCEL_REQUESTED', message, at);
    logEvent(store, 'CANCELLED', message, at);
    cancelled.push(id);
  }
  return cancelled;
}
