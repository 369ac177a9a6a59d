// The signing middleware in front of every endpoint QStash calls, on the edge and on the Node
// worker: the Upstash-Signature must cover the raw body bytes and the URL QStash was given (the
// public origin from config plus the path, never the Host header a proxy may rewrite). A refusal
// is a 401 naming the failed check, thrown before any handler runs; the handler then reads the
// delivery (the bytes that were verified, and QStash's message id) from `delivery`, never the
// request body again.
//
// Each signature is taken once. QStash signs every attempt anew, but a captured delivery could
// be sent again while its signature is valid, with another Upstash-Message-Id (a header the
// signature does not cover); a scheduled job, keyed by that id, would then run twice.
import type { Context, MiddlewareHandler } from 'hono';
import type { Delivery } from '../jobs/job-delivery.ts';
import { type QstashKeys, verifyQstashSignature } from '../lib/signatures/qstash.ts';
import { signatureRefused } from '../lib/signatures/refusal.ts';
import type { Redis } from '../platform/redis.ts';
import { firstSighting } from '../platform/replay-guard.ts';

export interface QstashSignatureOptions {
  keys: QstashKeys;
  /** The public origin QStash calls this side at (API_PUBLIC_URL or JOBS_BASE_URL). */
  publicBaseUrl: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Where the signatures already taken are remembered until they expire. */
  redis: Redis;
}

/** Where the middleware leaves the delivery for the route behind it. */
interface DeliveryEnv {
  Variables: { delivery?: Delivery };
}

export function requireQstashSignature<E extends DeliveryEnv>(
  optionsOf: (c: Context<E>) => QstashSignatureOptions,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const { keys, publicBaseUrl, now, redis } = optionsOf(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const url = new URL(c.req.url);
    const nowSeconds = Math.floor(now() / 1000);
    const signature = await verifyQstashSignature(
      {
        signature: c.req.header('upstash-signature') ?? null,
        url: `${publicBaseUrl}${url.pathname}${url.search}`,
        body,
      },
      keys,
      nowSeconds,
    );
    const ttlSeconds = Math.max(1, signature.expiresAt - nowSeconds + 1);
    if (!(await firstSighting(redis, 'qstash', signature.id, ttlSeconds))) {
      throw signatureRefused('SIGNATURE_REPLAYED', 'qstash');
    }
    c.set('delivery', { body, messageId: c.req.header('upstash-message-id') ?? '' });
    await next();
  };
}

/**
 * The delivery the middleware verified. A route registered without the middleware fails closed:
 * it throws rather than act on a body nobody checked.
 */
export function verifiedDelivery(c: { get(key: 'delivery'): Delivery | undefined }): Delivery {
  const delivery = c.get('delivery');
  if (delivery === undefined) throw new Error('a QStash route without requireQstashSignature');
  return delivery;
}
