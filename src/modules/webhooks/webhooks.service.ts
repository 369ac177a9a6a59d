// One partner webhook: who sent it (the partner's active secrets verify the signature over the raw
// body), whether it was seen before (each signature is accepted once), what it says, and then the
// event and its processing job stored in one batch. Every refusal comes before any write, and a
// refused request does not spend its signature. The partner's record comes from the cache, whose
// read the route started with its rate limit: three round trips in all (Redis, Redis, database).
// A miss, once a minute per partner or for every made-up id, adds a per-address count and the
// database read.
import type { Config } from '../../config.ts';
import type { PartnerScheme } from '../../db/schema.ts';
import { type PreparedJob, prepareJob } from '../../jobs/enqueue.ts';
import { AppError } from '../../lib/errors.ts';
import { sha256Hex } from '../../lib/opaque-tokens.ts';
import { openSecret } from '../../lib/secret-box.ts';
import { verifyPartnerHmac } from '../../lib/signatures/partner-hmac.ts';
import { signatureRefused } from '../../lib/signatures/refusal.ts';
import { verifyStandardWebhook } from '../../lib/signatures/standard-webhooks.ts';
import type { TraceContext } from '../../lib/trace-context.ts';
import { fieldIssues } from '../../middleware/error-handler.ts';
import type { Cache } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Database } from '../../platform/database.ts';
import type { Redis } from '../../platform/redis.ts';
import { firstSighting, forgetSighting, replayWindowSeconds } from '../../platform/replay-guard.ts';
import type { PartnersRepository } from '../partners/partners.repository.ts';
import { findPartnerForWebhook } from '../partners/partners.service.ts';
import { storePartnerEvent } from './webhooks.repository.ts';
import { isPartnerId, partnerEventBodySchema, type ReceivedEvent } from './webhooks.schemas.ts';

export interface WebhooksServiceDeps {
  db: Database;
  redis: Redis;
  clock: Clock;
  /** The request's trace: the event's job carries it. */
  trace?: TraceContext;
  config: Pick<Config, 'PARTNER_SECRETS_KEY'>;
  partners: PartnersRepository;
  /** The request's cache: the partner's record was prefetched with the rate limit. */
  cache: Cache;
  /**
   * Counts a partner look-up that missed the cache against the client's address; throws the 429.
   * The endpoint's own limit is per partner id and address, and every made-up id is a miss.
   */
  meterLookup: () => Promise<void>;
}

export interface PartnerDelivery {
  partnerId: string;
  headers: Headers;
  body: Uint8Array;
}

/**
 * An unknown partner is refused as a wrong signature in the scheme the request appears to use,
 * so the answer does not tell which partner ids exist.
 */
function apparentScheme(headers: Headers): PartnerScheme {
  return headers.has('webhook-signature') ? 'standard-webhooks' : 'hmac-sha256';
}

/**
 * Verifies the delivery with the scheme's headers and returns what identifies it for the replay
 * guard: the timestamp with the signature (normalised, so a re-cased copy is the same), or the
 * message id with the timestamp (a partner's retry of a message is signed anew with a new one).
 */
async function verify(
  scheme: PartnerScheme,
  delivery: PartnerDelivery,
  secrets: string[],
  nowSeconds: number,
): Promise<string> {
  const { headers, body } = delivery;
  if (scheme === 'hmac-sha256') {
    const timestamp = headers.get('x-timestamp');
    const signature = headers.get('x-signature');
    await verifyPartnerHmac({ timestamp, signature, body, secrets, nowSeconds });
    return `${timestamp}.${signature?.toLowerCase()}`;
  }
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const signature = headers.get('webhook-signature');
  await verifyStandardWebhook({ id, timestamp, signature, body, secrets, nowSeconds });
  return `${id}.${timestamp}`;
}

function parseEvent(scheme: PartnerScheme, delivery: PartnerDelivery) {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(delivery.body));
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The body is not JSON', {
      details: { target: 'json', fields: [] },
    });
  }
  const parsed = partnerEventBodySchema.safeParse(json);
  const fallbackId =
    scheme === 'standard-webhooks' ? (delivery.headers.get('webhook-id') ?? undefined) : undefined;
  const eventId = parsed.success ? (parsed.data.id ?? fallbackId) : undefined;
  if (!parsed.success || eventId === undefined || eventId.length > 200) {
    throw new AppError('VALIDATION_FAILED', 'The body is not an event', {
      details: {
        target: 'json',
        fields: parsed.success
          ? [
              {
                path: 'id',
                message: 'the event needs an id of 1 to 200 characters',
                code: 'custom',
              },
            ]
          : fieldIssues(parsed.error.issues),
      },
    });
  }
  return { eventId, type: parsed.data.type, payload: json };
}

export async function receivePartnerEvent(
  deps: WebhooksServiceDeps,
  delivery: PartnerDelivery,
): Promise<{ received: ReceivedEvent; job?: PreparedJob }> {
  const { partnerId } = delivery;
  const now = deps.clock.now();
  const partner = isPartnerId(partnerId)
    ? await findPartnerForWebhook(deps, partnerId, deps.meterLookup)
    : null;
  if (partner === null) {
    throw signatureRefused('SIGNATURE_INVALID', apparentScheme(delivery.headers));
  }
  const nowMs = now.getTime();
  const secrets = await Promise.all(
    partner.secrets
      .filter(({ expiresAt }) => expiresAt === null || expiresAt > nowMs)
      .map(({ sealed }) => openSecret(deps.config, sealed)),
  );
  const seen = await verify(partner.scheme, delivery, secrets, Math.floor(nowMs / 1000));
  // Read before the signature is remembered: a signed body that is no event is refused without a
  // write to Redis, and the sender's retry meets the same 422.
  const event = parseEvent(partner.scheme, delivery);
  // The job's id follows from the event's, so a repeated event finds its job staged already. The
  // event's id is hashed: it may be 200 characters of anything, and the job id is a header.
  const job = prepareJob(
    deps,
    'partner.event',
    { partnerId, eventId: event.eventId },
    { id: `partner-event-${partnerId}-${await sha256Hex(event.eventId)}` },
  );
  const scope = `partner:${partnerId}`;
  if (!(await firstSighting(deps.redis, scope, seen, replayWindowSeconds))) {
    throw signatureRefused('SIGNATURE_REPLAYED', partner.scheme);
  }
  let stored: boolean;
  try {
    stored = await storePartnerEvent(deps.db, { partnerId, ...event, receivedAt: now }, job);
  } catch (error) {
    await forgetSighting(deps.redis, scope, seen).catch(() => undefined);
    throw error;
  }
  return {
    received: { received: true, eventId: event.eventId, duplicate: !stored },
    ...(stored && { job }),
  };
}
