// The messages QStash publishes on its own after a delivery: to Upstash-Callback when the
// destination answered 2xx, to Upstash-Failure-Callback when the last retry failed. Their JSON body
// carries the destination's answer and the source message, bodies in base64.
import type { DeliveryOutcome } from './delivery.ts';
import { type HeaderMap, type MessageSettings, newMessage, type StoredMessage } from './model.ts';

const callbackRetries = 3;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export function callbackBody(
  source: StoredMessage,
  outcome: Exclude<DeliveryOutcome, { kind: 'aborted' }>,
  dlqId?: string,
): Record<string, unknown> {
  const { settings } = source;
  return {
    ...(outcome.kind === 'response'
      ? { status: outcome.status, header: outcome.header, body: base64(outcome.body) }
      : { header: {}, body: base64(new TextEncoder().encode(outcome.message)) }),
    retried: source.retried,
    maxRetries: settings.maxRetries,
    ...(dlqId !== undefined && { dlqId }),
    sourceMessageId: source.messageId,
    url: settings.url,
    method: settings.method,
    sourceHeader: settings.header,
    sourceBody: base64(source.body),
    notBefore: String(source.notBefore),
    createdAt: String(source.createdAt),
    ...(settings.scheduleId !== undefined && { scheduleId: settings.scheduleId }),
    ...(settings.queueName !== undefined && { queueName: settings.queueName }),
  };
}

export function callbackMessage(
  url: string,
  forwardedHeader: HeaderMap | undefined,
  body: Record<string, unknown>,
  now: number,
): StoredMessage {
  const settings: MessageSettings = {
    url,
    method: 'POST',
    header: { ...forwardedHeader, 'Content-Type': ['application/json'] },
    maxRetries: callbackRetries,
  };
  return newMessage(settings, new TextEncoder().encode(JSON.stringify(body)), now, now);
}
