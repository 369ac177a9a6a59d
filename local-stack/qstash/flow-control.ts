// Flow control per key: what limits apply, and the rate window. The limits of a key are the ones
// an operator pinned, else the most permissive among its pending messages ("QStash will
// effectively allow the highest rate/period or highest parallelism" while old and new settings
// coexist). The rate is counted in fixed windows of `period` seconds: the first activation after a
// window has ended opens the next one, and once `rate` activations fell in a window the others
// wait for its end.
import type { FlowControl, FlowControlRecord, StoredMessage } from './model.ts';

export interface FlowLimits {
  parallelism?: number;
  rate?: number;
  /** Seconds; meaningful only with a rate. */
  period: number;
  paused: boolean;
}

function mostPermissive(flows: FlowControl[]): Pick<FlowLimits, 'parallelism' | 'rate' | 'period'> {
  let parallelism: number | undefined;
  let best: FlowControl | undefined;
  for (const flow of flows) {
    if (flow.parallelism !== undefined) parallelism = Math.max(parallelism ?? 0, flow.parallelism);
    if (flow.rate === undefined) continue;
    const perSecond = flow.rate / (flow.period ?? 1);
    if (!best || perSecond > (best.rate ?? 0) / (best.period ?? 1)) best = flow;
  }
  return {
    ...(parallelism !== undefined && { parallelism }),
    ...(best?.rate !== undefined && { rate: best.rate }),
    period: best?.period ?? 1,
  };
}

export function limitsOf(flows: FlowControl[], record: FlowControlRecord | undefined): FlowLimits {
  const fromMessages = mostPermissive(flows);
  const parallelism = record?.pinnedParallelism ?? fromMessages.parallelism;
  const rate = record?.pinnedRate ?? fromMessages.rate;
  return {
    ...(parallelism !== undefined && { parallelism }),
    ...(rate !== undefined && { rate }),
    period: record?.pinnedPeriod ?? fromMessages.period,
    paused: record?.paused ?? false,
  };
}

/** The limits of every key that pending messages or stored settings name. */
export function limitsByKey(
  messages: StoredMessage[],
  records: FlowControlRecord[],
): Map<string, FlowLimits> {
  const flows = new Map<string, FlowControl[]>();
  for (const { settings } of messages) {
    const flow = settings.flowControl;
    if (flow) flows.set(flow.key, [...(flows.get(flow.key) ?? []), flow]);
  }
  const byKey = new Map(records.map((record) => [record.key, record]));
  const keys = new Set([...flows.keys(), ...byKey.keys()]);
  return new Map([...keys].map((key) => [key, limitsOf(flows.get(key) ?? [], byKey.get(key))]));
}

export function emptyRecord(key: string): FlowControlRecord {
  return { key, paused: false, rateCount: 0, ratePeriodStart: 0 };
}

/** The window an activation at `at` counts in: the stored one, or a new one once it has ended. */
export function currentWindow(
  record: FlowControlRecord,
  periodSeconds: number,
  at: number,
): { start: number; count: number; end: number } {
  const periodMs = periodSeconds * 1000;
  if (at < record.ratePeriodStart + periodMs) {
    return {
      start: record.ratePeriodStart,
      count: record.rateCount,
      end: record.ratePeriodStart + periodMs,
    };
  }
  return { start: at, count: 0, end: at + periodMs };
}
