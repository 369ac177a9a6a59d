// W3C Trace Context's `traceparent` (https://www.w3.org/TR/trace-context/): what ties a request to
// the call that caused it. A request continues the trace it arrives with, or starts one, and is a
// span of its own either way; what it causes (its jobs, the partner webhooks they send) names that
// span as its parent. No tracing backend is involved: the trace id on every log line is what finds
// a request and everything it caused.

export const traceparentHeader = 'traceparent';

/** The trace a request takes part in. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zeros: the whole trace's id. */
  traceId: string;
  /** 16 lowercase hex digits: this request's span, the parent of what it causes. */
  spanId: string;
  /** 2 hex digits; `01` is the sampled flag. */
  flags: string;
}

/** What a valid incoming traceparent says: the trace, and the caller's span. */
export interface TraceParent {
  traceId: string;
  parentId: string;
  flags: string;
}

// version-traceId-parentId-flags, lowercase hex; a later version may append fields after a dash.
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const allZeros = /^0+$/;
const sampled = '01';

/**
 * The incoming header's trace, or undefined when it is absent or invalid (then the request starts
 * a trace of its own). Version ff is invalid; version 00 takes nothing after the flags. A later
 * version is read as far as version 00 goes, and of its flags only `sampled` is understood.
 */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  const match = header === undefined ? null : traceparentPattern.exec(header);
  if (match === null) return undefined;
  const [, version = '', traceId = '', parentId = '', flags = '', rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (allZeros.test(traceId) || allZeros.test(parentId)) return undefined;
  if (version === '00') return { traceId, parentId, flags };
  return { traceId, parentId, flags: Number.parseInt(flags, 16) & 1 ? sampled : '00' };
}

const hexOfByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function randomHex(bytes: number): string {
  let hex = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) hex += hexOfByte[byte];
  return hex;
}

/**
 * A request's place in a trace: the incoming one continued, or a new one (sampled: every request's
 * log line records it), with a span id of its own.
 */
export function traceOf(incoming: TraceParent | undefined): TraceContext {
  if (incoming !== undefined) {
    return { traceId: incoming.traceId, spanId: randomHex(8), flags: incoming.flags };
  }
  // Both ids from one draw: the call to the random source is most of a request's cost here.
  const ids = randomHex(24);
  return { traceId: ids.slice(0, 32), spanId: ids.slice(32), flags: sampled };
}

/** The traceparent that names this request's span as the parent: answered, and sent onwards. */
export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}
