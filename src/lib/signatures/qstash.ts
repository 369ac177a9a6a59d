// QStash's delivery signature: `Upstash-Signature` is a JWT (HS256) signed with the current
// signing key, or the next one during a rotation, naming QStash as issuer, the exact URL it was
// sent to as subject, a validity window, and the SHA-256 of the raw body. The official Receiver
// decides. It refuses with one message for several causes, so a refusal is then explained from the
// token's own (unverified) claims, for the 401's code and the log: an operator must be able to
// tell a wrong JOBS_BASE_URL from a wrong key or a stale delivery.
import { Receiver } from '@upstash/qstash';
import { decodeJwt } from 'jose';
import { toBase64Url } from '../base64.ts';
import { type SignatureRefusal, signatureRefused } from './refusal.ts';

export interface QstashKeys {
  current: string;
  next: string;
}

export interface QstashSignedRequest {
  signature: string | null;
  /** The endpoint's public URL, as QStash was told to call it (not the URL a proxy passed on). */
  url: string;
  body: Uint8Array;
}

/** What a verified signature says of itself: its unique id, and when it expires (Unix seconds). */
export interface QstashSignature {
  id: string;
  expiresAt: number;
}

async function bodyHash(body: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>);
  return toBase64Url(new Uint8Array(digest));
}

function claimsOf(signature: string): ReturnType<typeof decodeJwt> | undefined {
  try {
    return decodeJwt(signature);
  } catch {
    return undefined;
  }
}

/** Why the Receiver refused `request`, told from the token's claims; a wrong key when they hold. */
async function refusalOf(
  request: QstashSignedRequest & { signature: string },
  nowSeconds: number,
): Promise<SignatureRefusal> {
  const claims = claimsOf(request.signature);
  if (claims === undefined) return 'SIGNATURE_MALFORMED';
  if (claims.iss !== 'Upstash') return 'SIGNATURE_WRONG_ISSUER';
  const expired = claims.exp === undefined || claims.exp <= nowSeconds;
  if (expired || (claims.nbf ?? 0) > nowSeconds) return 'SIGNATURE_EXPIRED';
  if (claims.sub !== request.url) return 'SIGNATURE_WRONG_URL';
  const signedHash = typeof claims.body === 'string' ? claims.body.replace(/=+$/, '') : '';
  if (signedHash !== (await bodyHash(request.body))) return 'SIGNATURE_BODY_MISMATCH';
  return 'SIGNATURE_INVALID';
}

/**
 * Resolves with the signature's id and expiry when QStash signed exactly this request; throws a
 * 401 AppError naming the failed check otherwise. QStash signs every delivery attempt anew, so the
 * id (`jti`) names one attempt.
 */
export async function verifyQstashSignature(
  request: QstashSignedRequest,
  keys: QstashKeys,
  nowSeconds: number,
): Promise<QstashSignature> {
  const { signature } = request;
  if (signature === null || signature === '') {
    throw signatureRefused('SIGNATURE_MISSING', 'qstash');
  }
  // devMode false: never QStash's published development keys, whatever QSTASH_DEV says.
  const receiver = new Receiver({
    currentSigningKey: keys.current,
    nextSigningKey: keys.next,
    devMode: false,
  });
  // The Receiver hashes text: only a body that decodes to exactly its bytes can be checked.
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(request.body);
  } catch {
    throw signatureRefused('SIGNATURE_BODY_MISMATCH', 'qstash');
  }
  try {
    await receiver.verify({ signature, body, url: request.url });
  } catch {
    throw signatureRefused(await refusalOf({ ...request, signature }, nowSeconds), 'qstash');
  }
  const { jti, exp } = claimsOf(signature) ?? {};
  if (typeof jti !== 'string' || typeof exp !== 'number') {
    throw signatureRefused('SIGNATURE_MALFORMED', 'qstash');
  }
  return { id: jti, expiresAt: exp };
}
