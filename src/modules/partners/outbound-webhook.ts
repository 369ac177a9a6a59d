// One of our events as a partner receives it: the JSON body, the signature headers of the
// partner's scheme (the same functions that verify what partners send us), and one bounded POST.
// The POST trusts nothing of the receiver: no redirect is followed (it could lead inside our
// network, past the URL check), the whole exchange is cut off after a timeout, and at most a
// small part of the answer is read, so a hostile endpoint can neither hold a delivery nor fill
// its memory. Each POST carries the delivery's traceparent: a partner that traces can join its
// handling of the event to the change that caused it.
import type { PartnerScheme } from '../../db/schema.ts';
import type { JobPayload } from '../../jobs/catalogue.ts';
import { readPrefix } from '../../lib/byte-limits.ts';
import { fetchFailureReason } from '../../lib/fetch-failure.ts';
import { signPartnerHmac } from '../../lib/signatures/partner-hmac.ts';
import { signStandardWebhook } from '../../lib/signatures/standard-webhooks.ts';
import {
  formatTraceparent,
  type TraceContext,
  traceparentHeader,
} from '../../lib/trace-context.ts';

const outboundUserAgent = 'nexus-edge-webhooks/1';
/** Names the event's type on every delivery, in both schemes, for routing before parsing. */
const eventTypeHeader = 'X-Event-Type';
const outboundTimeoutMs = 10_000;
export const maxResponseBytes = 64 * 1024;
/** How much of a failed answer goes into the job's error, for whoever reads the dead job. */
const excerptChars = 200;

export type OutboundEvent = JobPayload<'partner.broadcast'>;

/** The body a partner receives, as it is signed and sent. */
export function outboundBody(event: OutboundEvent): string {
  return JSON.stringify({
    id: event.eventId,
    type: event.event,
    occurredAt: event.occurredAt,
    data: event.data,
  });
}

/**
 * The headers that sign `body` for a partner. `secrets` are its active secrets, newest first:
 * hmac-sha256 carries one signature, made with the oldest active secret (the one a rotation's
 * grace period keeps alive, so a partner that has not switched yet still verifies; the new
 * secret signs once the old one expires); standard-webhooks lists one `v1` entry per secret.
 */
export async function signedHeaders(
  scheme: PartnerScheme,
  secrets: readonly string[],
  event: Pick<OutboundEvent, 'eventId' | 'event'>,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  const oldest = secrets.at(-1);
  if (oldest === undefined) throw new Error('no secret to sign with');
  const common = {
    'Content-Type': 'application/json',
    'User-Agent': outboundUserAgent,
    [eventTypeHeader]: event.event,
  };
  if (scheme === 'hmac-sha256') {
    return {
      ...common,
      'X-Timestamp': String(timestampSeconds),
      'X-Signature': await signPartnerHmac(oldest, timestampSeconds, body),
    };
  }
  const entries = await Promise.all(
    secrets.map((secret) => signStandardWebhook(secret, event.eventId, timestampSeconds, body)),
  );
  return {
    ...common,
    'webhook-id': event.eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': entries.join(' '),
  };
}

export type PostOutcome =
  | { kind: 'answered'; status: number; excerpt: string }
  | { kind: 'unreachable'; reason: string };

/** POSTs the signed event; never throws, so the caller decides what each outcome means. */
export async function postEvent(
  url: URL,
  signed: Record<string, string>,
  body: string,
  options: { timeoutMs?: number; trace?: TraceContext } = {},
): Promise<PostOutcome> {
  const timeoutMs = options.timeoutMs ?? outboundTimeoutMs;
  const headers =
    options.trace === undefined
      ? signed
      : { ...signed, [traceparentHeader]: formatTraceparent(options.trace) };
  // One signal for the request and the reading of its answer: the bound is on the whole exchange.
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
  } catch (error) {
    return { kind: 'unreachable', reason: fetchFailureReason(error, timeoutMs) };
  }
  const answer = await readPrefix(response.body, maxResponseBytes);
  const excerpt = new TextDecoder().decode(answer).slice(0, excerptChars);
  return { kind: 'answered', status: response.status, excerpt };
}
