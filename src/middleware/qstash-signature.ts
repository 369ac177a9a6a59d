// The signing middleware in front of every endpoint QStash calls, on the edge and on the Node
// worker: the Upstash-Signature must cover the raw body bytes and the URL QStash was given (the
// public origin from config plus the path, never the Host header a proxy may rewrite). A refusal
// is a 401 naming the failed check, thrown before any handler runs; the handler then reads the
// bytes that were verified from `signedBody`, never the request body again.
import type { Context, MiddlewareHandler } from 'hono';
import { type QstashKeys, verifyQstashSignature } from '../lib/signatures/qstash.ts';

export interface QstashSignatureOptions {
  keys: QstashKeys;
  /** The public origin QStash calls this side at (API_PUBLIC_URL or JOBS_BASE_URL). */
  publicBaseUrl: string;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export interface SignedBodyEnv {
  Variables: { signedBody: Uint8Array };
}

export function requireQstashSignature<E extends SignedBodyEnv>(
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
    c.set('signedBody', body);
    await next();
  };
}
