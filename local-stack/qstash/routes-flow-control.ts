// Flow-control keys as @upstash/qstash's `client.flowControl` manages them: get a key's state,
// the global parallelism, pause and resume delivery, pin and unpin limits, reset the rate window.
// A key is known once a pending message names it or one of these calls touched it.
import type { ApiContext } from './context.ts';
import { currentWindow, emptyRecord, limitsOf } from './flow-control.ts';
import type { FlowControlRecord } from './model.ts';
import { empty, errorResponse, json } from './responses.ts';
import { flowControlView } from './views.ts';

export function getFlowControl({ store, dispatcher, now }: ApiContext, key: string): Response {
  const record = store.getFlowControl(key);
  const pending = store.listMessages().filter((m) => m.settings.flowControl?.key === key);
  if (!record && pending.length === 0) {
    return errorResponse({ status: 404, message: `flow control key ${key} not found` });
  }
  const at = now();
  const limits = limitsOf(
    pending.flatMap((m) => m.settings.flowControl ?? []),
    record,
  );
  const stored = record ?? emptyRecord(key);
  const window = currentWindow(stored, limits.period, at);
  const running = dispatcher.running(key);
  const waiting = pending.filter((m) => m.nextAttemptAt <= at).length - running;
  return json(
    flowControlView({
      key,
      waitListSize: Math.max(0, waiting),
      ...(limits.parallelism !== undefined && { parallelismMax: limits.parallelism }),
      parallelismCount: running,
      ...(limits.rate !== undefined && { rateMax: limits.rate, ratePeriod: limits.period }),
      rateCount: window.count,
      ratePeriodStart: window.count > 0 ? window.start : stored.ratePeriodStart,
      paused: stored.paused,
      pinnedParallelism: stored.pinnedParallelism !== undefined,
      pinnedRate: stored.pinnedRate !== undefined,
    }),
  );
}

export function getGlobalParallelism({ dispatcher }: ApiContext): Response {
  return json({ parallelismMax: dispatcher.maxInFlight, parallelismCount: dispatcher.running() });
}

function update(
  { store, dispatcher }: ApiContext,
  key: string,
  change: (record: FlowControlRecord) => FlowControlRecord,
): Response {
  store.transaction(() => {
    store.putFlowControl(change(store.getFlowControl(key) ?? emptyRecord(key)));
  });
  dispatcher.pump();
  return empty();
}

export function setFlowControlPaused(context: ApiContext, key: string, paused: boolean): Response {
  return update(context, key, (record) => ({ ...record, paused }));
}

/** `parallelism`, `rate` and `period` (seconds) as query parameters, each optional. */
export function pinFlowControl(context: ApiContext, key: string, params: URLSearchParams) {
  const pins: Partial<Record<'parallelism' | 'rate' | 'period', number>> = {};
  for (const name of ['parallelism', 'rate', 'period'] as const) {
    const text = params.get(name);
    if (text === null) continue;
    if (!/^[1-9]\d*$/.test(text)) {
      return errorResponse({ status: 400, message: `${name} must be a positive integer` });
    }
    pins[name] = Number(text);
  }
  return update(context, key, (record) => ({
    ...record,
    ...(pins.parallelism !== undefined && { pinnedParallelism: pins.parallelism }),
    ...(pins.rate !== undefined && { pinnedRate: pins.rate }),
    ...(pins.period !== undefined && { pinnedPeriod: pins.period }),
  }));
}

/** `parallelism=true` and `rate=true` (the rate's period with it) say what to unpin. */
export function unpinFlowControl(context: ApiContext, key: string, params: URLSearchParams) {
  const parallelism = params.get('parallelism') === 'true';
  const rate = params.get('rate') === 'true';
  return update(context, key, ({ pinnedParallelism, pinnedRate, pinnedPeriod, ...record }) => ({
    ...record,
    ...(!parallelism && pinnedParallelism !== undefined && { pinnedParallelism }),
    ...(!rate && pinnedRate !== undefined && { pinnedRate }),
    ...(!rate && pinnedPeriod !== undefined && { pinnedPeriod }),
  }));
}

/** Ends the current rate window: the count starts again from now. */
export function resetFlowControlRate(context: ApiContext, key: string): Response {
  const at = context.now();
  return update(context, key, (record) => ({ ...record, rateCount: 0, ratePeriodStart: at }));
}
