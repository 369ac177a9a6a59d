// Reads the Upstash-* headers of a publish, enqueue, batch item or schedule into the settings the
// broker stores, with QStash's validation errors.
import { createHash } from 'node:crypto';
import { parseDuration } from './durations.ts';
import { appendHeader, type FlowControl, type HeaderMap, type MessageSettings } from './model.ts';
import { fail, ok, type Result } from './result.ts';
import { compileRetryDelay } from './retry-delay.ts';

const defaultRetries = 3;
const methods = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
const forwardPrefix = 'upstash-forward-';
const callbackForwardPrefix = 'upstash-callback-forward-';
const failureCallbackForwardPrefix = 'upstash-failure-callback-forward-';

export interface ParsedPublish {
  settings: MessageSettings;
  delayMs: number;
  /** Absolute first-attempt time (ms) from Upstash-Not-Before; wins over the delay. */
  notBeforeMs?: number;
  deduplicationKey?: string;
}

export function validateUrl(text: string, what: string): Result<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(400, `invalid ${what} url: endpoint has invalid scheme, add http:// or https://`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(400, `invalid ${what} url: endpoint has invalid scheme, add http:// or https://`);
  }
  return ok(text);
}

export function validateName(name: string, what: string): Result<string> {
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(name)) {
    return fail(400, `invalid ${what}: only alphanumerics, "-", "_" and "." are allowed`);
  }
  return ok(name);
}

/** The client sends `period=1m` or `period=60s`; a bare number is taken as seconds. */
function parsePeriodSeconds(text: string): number | undefined {
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  return ms !== undefined && ms >= 1000 ? Math.floor(ms / 1000) : undefined;
}

function parseFlowControl(
  key: string | null,
  value: string | null,
): Result<FlowControl | undefined> {
  if (key === null) return ok(undefined);
  const flow: FlowControl = { key };
  for (const part of (value ?? '').split(',')) {
    const [name, raw] = part.split('=').map((s) => s.trim());
    if (!name) continue;
    const periodSeconds = name === 'period' && raw ? parsePeriodSeconds(raw) : undefined;
    if (periodSeconds !== undefined) flow.period = periodSeconds;
    else if ((name === 'parallelism' || name === 'rate') && raw && /^[1-9]\d*$/.test(raw)) {
      flow[name] = Number(raw);
    } else return fail(400, `invalid Upstash-Flow-Control-Value: ${value}`);
  }
  if (flow.parallelism === undefined && flow.rate === undefined) {
    return fail(400, 'Upstash-Flow-Control-Value needs parallelism or rate');
  }
  return ok(flow);
}

function contentDeduplicationKey(destination: string, header: HeaderMap, body: Uint8Array): string {
  const hash = createHash('sha256').update(destination).update('\n');
  for (const name of Object.keys(header).sort())
    hash.update(`${name}:${header[name]?.join(',')}\n`);
  return `content:${hash.update(body).digest('hex')}`;
}

function optionalUrl(headers: Headers, name: string, what: string): Result<string | undefined> {
  const value = headers.get(name);
  if (value === null) return ok(undefined);
  return validateUrl(value, what);
}

/**
 * Reads a publish's Upstash-* headers. `destination` is what the path named, already resolved by
 * the caller (a URL, or a URL group's name that the caller fans out): it becomes the settings' url
 * and feeds content-based deduplication.
 */
export function parsePublish(
  destination: string,
  headers: Headers,
  body: Uint8Array,
): Result<ParsedPublish> {
  const header: HeaderMap = {};
  const callbackHeader: HeaderMap = {};
  const failureCallbackHeader: HeaderMap = {};
  headers.forEach((value, name) => {
    if (name.startsWith(failureCallbackForwardPrefix)) {
      appendHeader(failureCallbackHeader, name.slice(failureCallbackForwardPrefix.length), value);
    } else if (name.startsWith(callbackForwardPrefix)) {
      appendHeader(callbackHeader, name.slice(callbackForwardPrefix.length), value);
    } else if (name.startsWith(forwardPrefix)) {
      appendHeader(header, name.slice(forwardPrefix.length), value);
    } else if (name === 'content-type') {
      appendHeader(header, name, value);
    }
  });

  const method = (headers.get('upstash-method') ?? 'POST').toUpperCase();
  if (!methods.has(method)) return fail(400, `invalid Upstash-Method: ${method}`);

  const retriesText = headers.get('upstash-retries');
  if (retriesText !== null && !/^\d+$/.test(retriesText.trim())) {
    return fail(400, `invalid Upstash-Retries header: ${retriesText}`);
  }
  const maxRetries = retriesText === null ? defaultRetries : Number(retriesText);

  const retryDelayExpression = headers.get('upstash-retry-delay') ?? undefined;
  if (retryDelayExpression !== undefined) {
    const compiled = compileRetryDelay(retryDelayExpression);
    if (!compiled.ok) return compiled;
  }

  const delayText = headers.get('upstash-delay');
  const delayMs = delayText === null ? 0 : parseDuration(delayText);
  if (delayMs === undefined) return fail(400, `invalid Upstash-Delay header: ${delayText}`);

  const notBeforeText = headers.get('upstash-not-before');
  if (notBeforeText !== null && !/^\d+$/.test(notBeforeText.trim())) {
    return fail(400, `invalid Upstash-Not-Before header: ${notBeforeText}`);
  }

  const timeoutText = headers.get('upstash-timeout');
  const timeoutMs = timeoutText === null ? undefined : parseDuration(timeoutText);
  if (timeoutText !== null && timeoutMs === undefined) {
    return fail(400, `invalid Upstash-Timeout header: ${timeoutText}`);
  }

  const callback = optionalUrl(headers, 'upstash-callback', 'callback');
  if (!callback.ok) return callback;
  const failureCallback = optionalUrl(headers, 'upstash-failure-callback', 'failure callback');
  if (!failureCallback.ok) return failureCallback;

  const flowControl = parseFlowControl(
    headers.get('upstash-flow-control-key'),
    headers.get('upstash-flow-control-value'),
  );
  if (!flowControl.ok) return flowControl;

  const labelText = headers.get('upstash-label');
  const settings: MessageSettings = {
    url: destination,
    method,
    header,
    maxRetries,
    ...(retryDelayExpression !== undefined && { retryDelayExpression }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(callback.value !== undefined && { callback: callback.value, callbackHeader }),
    ...(failureCallback.value !== undefined && {
      failureCallback: failureCallback.value,
      failureCallbackHeader,
    }),
    ...(flowControl.value !== undefined && { flowControl: flowControl.value }),
    ...(labelText !== null && { labels: labelText.split(',').map((label) => label.trim()) }),
  };

  const deduplicationId = headers.get('upstash-deduplication-id');
  const contentBased = headers.get('upstash-content-based-deduplication') === 'true';
  const deduplicationKey =
    deduplicationId !== null
      ? `id:${deduplicationId}`
      : contentBased
        ? contentDeduplicationKey(destination, header, body)
        : undefined;

  return ok({
    settings,
    delayMs,
    ...(notBeforeText !== null && { notBeforeMs: Number(notBeforeText) * 1000 }),
    ...(deduplicationKey !== undefined && { deduplicationKey }),
  });
}
