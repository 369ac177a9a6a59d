// One delivery attempt: the signed HTTP request QStash sends to a destination, and what came back.
import { type HeaderMap, headerMapOf, type StoredMessage } from './model.ts';
import { signDelivery } from './signing.ts';

export type DeliveryOutcome =
  | { kind: 'response'; status: number; header: HeaderMap; body: Uint8Array; retryAfterMs?: number }
  /** No usable answer: connection refused, reset, or Upstash-Timeout elapsed. */
  | { kind: 'error'; message: string }
  /** Stopped from outside (cancel or broker shutdown): the attempt does not count. */
  | { kind: 'aborted' };

export function isDelivered(outcome: DeliveryOutcome): boolean {
  return outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300;
}

/** Retry-After in seconds or as an HTTP date, on the answers where it means "come back later". */
function retryAfterMs(response: Response, nowMs: number): number | undefined {
  if (response.status !== 429 && response.status < 500) return undefined;
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** What goes on the wire: fetch sends no body with GET, so none is signed either. */
function sentBody(message: StoredMessage): Uint8Array {
  return message.settings.method === 'GET' ? new Uint8Array() : message.body;
}

function deliveryHeaders(message: StoredMessage, body: Uint8Array, signingKey: string): Headers {
  const headers = new Headers();
  for (const [name, values] of Object.entries(message.settings.header)) {
    for (const value of values) headers.append(name, value);
  }
  headers.set('User-Agent', 'Upstash-QStash');
  headers.set('Upstash-Message-Id', message.messageId);
  headers.set('Upstash-Retried', String(message.retried));
  if (message.settings.scheduleId) headers.set('Upstash-Schedule-Id', message.settings.scheduleId);
  headers.set(
    'Upstash-Signature',
    signDelivery({ url: message.settings.url, body, signingKey, nowMs: Date.now() }),
  );
  return headers;
}

export async function deliver(
  message: StoredMessage,
  signingKey: string,
  stop: AbortSignal,
): Promise<DeliveryOutcome> {
  const { url, method, timeoutMs } = message.settings;
  const signals = [stop];
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
  const signal = AbortSignal.any(signals);
  const body = sentBody(message);
  try {
    const response = await fetch(url, {
      method,
      headers: deliveryHeaders(message, body, signingKey),
      body: body.length > 0 ? body : null,
      signal,
    });
    const answer = new Uint8Array(await response.arrayBuffer());
    const wait = retryAfterMs(response, Date.now());
    return {
      kind: 'response',
      status: response.status,
      header: headerMapOf(response.headers),
      body: answer,
      ...(wait !== undefined && { retryAfterMs: wait }),
    };
  } catch (error) {
    if (stop.aborted) return { kind: 'aborted' };
    if (signal.aborted) return { kind: 'error', message: `timeout after ${timeoutMs} ms` };
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}
