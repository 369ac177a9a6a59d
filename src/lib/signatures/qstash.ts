// QStash's delivery signature: `Upstash-Signature` is a JWT (HS256) signed with the current
// signing key, or the next one during a rotation. It names QStash as issuer, the exact URL it was
// sent to as subject, a validity window, and the base64url SHA-256 of the raw body bytes. Any
// difference in the body, the URL or the key makes the request a stranger's.
import { errors, jwtVerify } from 'jose';
import { toBase64Url } from '../base64.ts';
import { importKeyOnce } from '../imported-keys.ts';
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

const issuer = 'Upstash';

async function bodyHash(body: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', body as Uint8Array<ArrayBuffer>);
  return toBase64Url(new Uint8Array(digest));
}

function refusalOf(error: unknown): SignatureRefusal | 'wrong-key' {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'wrong-key';
  if (error instanceof errors.JWTExpired) return 'SIGNATURE_EXPIRED';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'SIGNATURE_WRONG_ISSUER';
    if (error.claim === 'sub') return 'SIGNATURE_WRONG_URL';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'SIGNATURE_EXPIRED';
  }
  return 'SIGNATURE_MALFORMED';
}

function keyOf(secret: string): Promise<CryptoKey> {
  return importKeyOnce(new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, [
    'verify',
  ]);
}

/** What a verified signature says of itself: its unique id, and when it expires (Unix seconds). */
export interface QstashSignature {
  id: string;
  expiresAt: number;
}

/**
 * Resolves when QStash signed exactly this request; throws a 401 AppError naming the failed check
 * otherwise. The current key is tried first, then the next one. QStash signs every delivery
 * attempt anew, so the signature's id (`jti`) names one attempt.
 */
export async function verifyQstashSignature(
  request: QstashSignedRequest,
  keys: QstashKeys,
  nowSeconds: number,
): Promise<QstashSignature> {
  if (request.signature === null || request.signature === '') {
    throw signatureRefused('SIGNATURE_MISSING', 'qstash');
  }
  for (const key of [keys.current, keys.next]) {
    try {
      const { payload } = await jwtVerify(request.signature, await keyOf(key), {
        algorithms: ['HS256'],
        issuer,
        subject: request.url,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ['exp', 'nbf', 'body', 'jti'],
      });
      const signedHash = typeof payload.body === 'string' ? payload.body.replace(/=+$/, '') : '';
      if (signedHash !== (await bodyHash(request.body))) {
        throw signatureRefused('SIGNATURE_BODY_MISMATCH', 'qstash');
      }
      return { id: String(payload.jti), expiresAt: payload.exp ?? nowSeconds };
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) throw error;
      const refusal = refusalOf(error);
      if (refusal !== 'wrong-key') throw signatureRefused(refusal, 'qstash');
    }
  }
  throw signatureRefused('SIGNATURE_INVALID', 'qstash');
}
