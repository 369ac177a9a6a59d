// The signing middleware in front of every endpoint QStash calls, on the edge and on the Node
// worker: the Upstash-Signature must cover the raw body bytes and the URL QStash was given (the
// public origin from config plus the path, never the Host header a proxy may rewrite). A refusal
// is a 401 naming the failed check, thrown before any handler runs; the handler then reads the
// delivery (the bytes that were verified, and QStash's message id) from `delivery`, never the
// request body again.
import type { Context, MiddlewareHandler } from 'hono';
import type { Delivery } from '../jobs/job-delivery.ts';
import { type QstashKeys, verifyQstashSignature } from '../lib/signatures/qstash.ts';

export interface QstashSignatureOptions {
  keys: QstashKeys;
  /** The public origin QStash calls this side at (API_PUBLIC_URL or JOBS_BASE_URL). */
  publicBaseUrl: string;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** Where the middleware leaves the delivery for the route behind it. */
interface DeliveryEnv {
  Variables: { delivery?: Delivery };
}

export function requireQstashSignature<E extends DeliveryEnv>(
  optionsOf: (c: Context<E>) => QstashSignatureOptions,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const { keys, publicBaseUrl, now } = optionsOf(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const url = new URL(c.req.url);
    await verifyQstashSignature(
      {
        signature: c.req.header('upstash-signature') ?? null,
        url: `${publicBaseUrl}${url.pathname}${url.search}`,
        body,
      },
      keys,
      Math.floor(now() / 1000),
    );
    c.set('delivery', { body, messageId: c.req.header('upstash-message-id') ?? '' });
    await next();
  };
}

/**
 * The delivery the middleware verified. A route registered without the middleware fails closed:
 * it throws rather than act on a body nobody checked.
 */
export function verifiedDelivery(c: { var: { delivery?: Delivery } }): Delivery {
  const { delivery } = c.var;
  if (delivery === undefined) throw new Error('a QStash route without requireQstashSignature');
  return delivery;
}
