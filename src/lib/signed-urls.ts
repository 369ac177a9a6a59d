// Short-lived URLs that carry their own permission: the method, the path and an expiry, signed
// with HMAC-SHA-256. Whoever holds one may make that one request until it expires, and nothing
// else: another method, another path or a later time fails the check. They let a process that
// holds no credentials (the Node worker, a browser uploading straight to us) read or write one
// stored object. The key is derived from a server secret, so these signatures are never valid as
// anything else.
import { toBase64Url } from './base64.ts';
import { AppError } from './errors.ts';
import { constantTimeEqual } from './opaque-tokens.ts';
import { hmacSha256 } from './signatures/timestamped-hmac.ts';

export type SignedMethod = 'GET' | 'PUT';

const derivedKeys = new Map<string, Promise<Uint8Array>>();

function keyFrom(secret: string): Promise<Uint8Array> {
  let key = derivedKeys.get(secret);
  if (key === undefined) {
    key = hmacSha256(secret, ['nexus-edge signed url v1']);
    derivedKeys.set(secret, key);
  }
  return key;
}

async function signatureOf(secret: string, method: string, path: string, expires: string) {
  return toBase64Url(await hmacSha256(await keyFrom(secret), [method, '\n', path, '\n', expires]));
}

/** `url` (absolute) with `expires` (Unix seconds) and `signature` added to its query. */
export async function signUrl(
  secret: string,
  method: SignedMethod,
  url: string,
  expiresAt: Date,
): Promise<string> {
  const signed = new URL(url);
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  signed.searchParams.set('expires', expires);
  signed.searchParams.set('signature', await signatureOf(secret, method, signed.pathname, expires));
  return signed.toString();
}

/**
 * Checks a request against its URL's signature: SIGNATURE_MISSING without one, SIGNATURE_INVALID
 * for one made for another method or path (or forged), SIGNATURE_EXPIRED after its time.
 */
export async function verifySignedUrl(
  secret: string,
  method: string,
  url: string,
  nowMs: number,
): Promise<void> {
  const { pathname, searchParams } = new URL(url);
  const expires = searchParams.get('expires');
  const signature = searchParams.get('signature');
  if (expires === null || signature === null) {
    throw new AppError('SIGNATURE_MISSING', 'This URL must be signed: it has no signature');
  }
  const expected = await signatureOf(secret, method.toUpperCase(), pathname, expires);
  if (!/^\d{1,12}$/.test(expires) || !constantTimeEqual(expected, signature)) {
    throw new AppError('SIGNATURE_INVALID', 'The URL’s signature does not verify');
  }
  if (Number(expires) * 1000 <= nowMs) {
    throw new AppError('SIGNATURE_EXPIRED', 'The signed URL has expired');
  }
}
