// The delivery engine. Pending messages live in the store; `pump` starts every attempt that is due
// (honouring queue FIFO and parallelism, flow-control pause, parallelism and rate, and a global
// in-flight bound), fires due schedules, and arms one timer for the next due time. Each finished
// attempt is settled in the store (delivered, retried later, or moved to the DLQ with its failure
// callback) and logged before the next pump, so a crash at any point leaves at worst a repeated
// delivery, never a lost one.
import { randomInt } from 'node:crypto';
import { callbackBody, callbackMessage } from './callbacks.ts';
import { nextRunAfter } from './cron.ts';
import { type DeliveryOutcome, deliver, isDelivered } from './delivery.ts';
import { fanOut } from './destinations.ts';
import { currentWindow, emptyRecord, limitsByKey } from './flow-control.ts';
import { addMessage, logEvent, outcomeDetails } from './message-log.ts';
import { type FlowControlRecord, newMessage, type StoredMessage } from './model.ts';
import { compileRetryDelay, defaultBackoffMs } from './retry-delay.ts';
import type { BrokerStore } from './store.ts';

export interface DispatcherOptions {
  store: BrokerStore;
  signingKey: string;
  retryDelayScale: number;
  maxInFlight: number;
  now: () => number;
}

interface Flight {
  controller: AbortController;
  flowKey?: string;
  done: Promise<void>;
}

const maxTimerMs = 2 ** 31 - 1;

export type Dispatcher = ReturnType<typeof createDispatcher>;

export function createDispatcher({
  store,
  signingKey,
  retryDelayScale,
  maxInFlight,
  now,
}: DispatcherOptions) {
  const inFlight = new Map<string, Flight>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function retryDelayMs(message: StoredMessage, outcome: DeliveryOutcome): number {
    if (outcome.kind === 'response' && outcome.retryAfterMs !== undefined) {
      return outcome.retryAfterMs * retryDelayScale;
    }
    const expression = message.settings.retryDelayExpression;
    const compiled = expression === undefined ? undefined : compileRetryDelay(expression);
    const base = compiled?.ok
      ? compiled.value(message.retried)
      : defaultBackoffMs(message.retried + 1);
    return base * retryDelayScale;
  }

  // QStash's escape from retries: a destination that answers with Upstash-NonRetryable-Error
  // (status 489 by convention) sends the message to the DLQ at once.
  function nonRetryable(outcome: DeliveryOutcome): boolean {
    return (
      outcome.kind === 'response' &&
      outcome.header['Upstash-Nonretryable-Error']?.[0]?.toLowerCase() === 'true'
    );
  }

  function settle(message: StoredMessage, outcome: DeliveryOutcome): void {
    if (outcome.kind === 'aborted') return;
    const at = now();
    const { settings, messageId } = message;
    const details = outcomeDetails(outcome);
    // QStash calls Upstash-Callback after every attempt, failed ones included ("the callback
    // might be called multiple times for each retry"), so receivers must check `status`.
    const notifyCallback = () => {
      if (settings.callback === undefined) return;
      const body = callbackBody(message, outcome);
      addMessage(store, callbackMessage(settings.callback, settings.callbackHeader, body, at), at);
    };
    if (isDelivered(outcome)) {
      store.transaction(() => {
        if (!store.deleteMessage(messageId)) return;
        logEvent(store, 'DELIVERED', message, at, details);
        notifyCallback();
      });
      return;
    }
    if (message.retried < settings.maxRetries && !nonRetryable(outcome)) {
      store.transaction(() => {
        const next = at + retryDelayMs(message, outcome);
        if (!store.scheduleRetry(messageId, message.retried + 1, next)) return;
        logEvent(store, 'ERROR', message, at, details);
        logEvent(store, 'RETRY', message, at, { nextDeliveryTime: next });
        notifyCallback();
      });
      return;
    }
    store.transaction(() => {
      if (!store.deleteMessage(messageId)) return;
      logEvent(store, 'ERROR', message, at, details);
      logEvent(store, 'FAILED', message, at, details.error ? { error: details.error } : {});
      notifyCallback();
      const dlqId = `${at}-${randomInt(1_000_000_000)}`;
      const response =
        outcome.kind === 'response'
          ? { status: outcome.status, header: outcome.header, body: outcome.body }
          : { header: {}, body: new TextEncoder().encode(outcome.message) };
      store.insertDlq({ dlqId, message, response, failedAt: at });
      if (settings.failureCallback === undefined) return;
      const body = callbackBody(message, outcome, dlqId);
      const failureCallback = callbackMessage(
        settings.failureCallback,
        settings.failureCallbackHeader,
        body,
        at,
      );
      addMessage(store, failureCallback, at);
    });
  }

  /** `flow` is the key's record with this activation counted, stored with the ACTIVE event. */
  function start(message: StoredMessage, flow: FlowControlRecord | undefined, at: number): void {
    store.transaction(() => {
      if (flow) store.putFlowControl(flow);
      logEvent(store, 'ACTIVE', message, at);
    });
    const controller = new AbortController();
    const flight: Flight = {
      controller,
      ...(message.settings.flowControl && { flowKey: message.settings.flowControl.key }),
      done: Promise.resolve(),
    };
    inFlight.set(message.messageId, flight);
    flight.done = deliver(message, signingKey, controller.signal)
      .then((outcome) => settle(message, outcome))
      .catch((error: unknown) => console.error('qstash broker: settling a delivery failed', error))
      .finally(() => {
        inFlight.delete(message.messageId);
        pump();
      });
  }

  /** A schedule whose URL group is gone, or has no endpoints left, fires nothing. */
  function fireDueSchedules(at: number): void {
    for (const schedule of store.listSchedules()) {
      if (schedule.paused || schedule.nextRunAt === undefined || schedule.nextRunAt > at) continue;
      const settings = { ...schedule.settings, scheduleId: schedule.scheduleId };
      const group =
        settings.urlGroup === undefined ? undefined : store.getUrlGroup(settings.urlGroup);
      const destinations =
        settings.urlGroup === undefined
          ? [settings]
          : group
            ? fanOut(settings, { kind: 'urlGroup', group })
            : [];
      store.transaction(() => {
        if (settings.queueName !== undefined) store.ensureQueue(settings.queueName, at);
        for (const each of destinations) {
          addMessage(store, newMessage(each, schedule.body, at, at + schedule.delayMs), at);
        }
        store.recordScheduleRun(schedule.scheduleId, at, nextRunAfter(schedule.cron, at));
      });
    }
  }

  function nextScheduleRun(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const schedule of store.listSchedules()) {
      if (!schedule.paused && schedule.nextRunAt !== undefined) {
        next = Math.min(next, schedule.nextRunAt);
      }
    }
    return next;
  }

  function pump(): void {
    if (closed) return;
    const at = now();
    fireDueSchedules(at);
    const queues = new Map(store.listQueues().map((queue) => [queue.name, queue]));
    const queuePositions = new Map<string, number>();
    const flowCounts = new Map<string, number>();
    for (const flight of inFlight.values()) {
      if (flight.flowKey !== undefined) {
        flowCounts.set(flight.flowKey, (flowCounts.get(flight.flowKey) ?? 0) + 1);
      }
    }
    const messages = store.listMessages();
    const records = new Map(store.listFlowControls().map((record) => [record.key, record]));
    const limits = limitsByKey(messages, [...records.values()]);
    let wakeAt = nextScheduleRun();
    for (const message of messages) {
      const { queueName, flowControl } = message.settings;
      // A queue message may start only among the first `parallelism` pending ones of its queue:
      // messages still in flight hold their places, which is what keeps delivery FIFO.
      const position = queueName === undefined ? 0 : (queuePositions.get(queueName) ?? 0);
      if (queueName !== undefined) queuePositions.set(queueName, position + 1);
      if (inFlight.has(message.messageId)) continue;
      if (queueName !== undefined) {
        const queue = queues.get(queueName);
        if (!queue || queue.paused || position >= queue.parallelism) continue;
      }
      if (message.nextAttemptAt > at) {
        wakeAt = Math.min(wakeAt, message.nextAttemptAt);
        continue;
      }
      if (inFlight.size >= maxInFlight) continue;
      const flowKey = flowControl?.key;
      const flow = flowKey === undefined ? undefined : limits.get(flowKey);
      let record: FlowControlRecord | undefined;
      if (flowKey !== undefined && flow !== undefined) {
        if (flow.paused) continue;
        const running = flowCounts.get(flowKey) ?? 0;
        if (flow.parallelism !== undefined && running >= flow.parallelism) continue;
        record = records.get(flowKey) ?? emptyRecord(flowKey);
        if (flow.rate !== undefined) {
          const window = currentWindow(record, flow.period, at);
          if (window.count >= flow.rate) {
            wakeAt = Math.min(wakeAt, window.end);
            continue;
          }
          record = { ...record, rateCount: window.count + 1, ratePeriodStart: window.start };
        }
        records.set(flowKey, record);
        flowCounts.set(flowKey, running + 1);
      }
      start(message, record, at);
    }
    clearTimeout(timer);
    if (Number.isFinite(wakeAt)) {
      timer = setTimeout(pump, Math.min(Math.max(0, wakeAt - at), maxTimerMs));
      timer.unref();
    }
  }

  return {
    /** Re-evaluates what is due now; call after any change to messages, queues or schedules. */
    pump,
    maxInFlight,
    /** Attempts in flight: all of them, or those of one flow-control key. */
    running(flowKey?: string): number {
      if (flowKey === undefined) return inFlight.size;
      return [...inFlight.values()].filter((flight) => flight.flowKey === flowKey).length;
    },
    /** Stops in-flight attempts of messages that were removed from the store. */
    abort(messageIds: Iterable<string>): void {
      for (const id of messageIds) inFlight.get(id)?.controller.abort();
    },
    /** Aborted attempts stay pending in the store, to be delivered again after a restart. */
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      const flights = [...inFlight.values()];
      for (const flight of flights) flight.controller.abort();
      await Promise.allSettled(flights.map((flight) => flight.done));
    },
  };
}
