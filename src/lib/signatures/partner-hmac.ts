// The partner HMAC scheme: `X-Signature` is the lowercase hex HMAC-SHA-256, keyed with the UTF-8
// bytes of the partner's secret, of `${X-Timestamp}.` followed by the raw body bytes. Signing the
// timestamp bounds how long a captured request stays usable; signing the raw bytes (not re-encoded
// JSON) means any change to the body, even whitespace, breaks the signature.
import { toHex } from '../base64.ts';
import { constantTimeEqual } from '../opaque-tokens.ts';
import { signatureRefused } from './refusal.ts';
import { checkFreshness, hmacSha256, type SignedPart, unixSeconds } from './timestamped-hmac.ts';

const scheme = 'hmac-sha256';

export const partnerHmacToleranceSeconds = 300;

const hexSignature = /^[0-9a-f]{64}$/i;

export async function signPartnerHmac(
  secret: string,
  timestamp: number | string,
  body: SignedPart,
): Promise<string> {
  return toHex(await hmacSha256(secret, [`${timestamp}.`, body]));
}

export interface PartnerHmacInput {
  timestamp: string | null;
  signature: string | null;
  body: Uint8Array;
  /** Every active secret of the partner: during a rotation the old and the new both verify. */
  secrets: string[];
  nowSeconds: number;
}

/** Resolves when one of the secrets signed this body at this time; throws a 401 AppError otherwise. */
export async function verifyPartnerHmac(input: PartnerHmacInput): Promise<void> {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) throw signatureRefused('SIGNATURE_MISSING', scheme);
  if (!unixSeconds.test(timestamp) || !hexSignature.test(signature)) {
    throw signatureRefused('SIGNATURE_MALFORMED', scheme);
  }
  checkFreshness(timestamp, input.nowSeconds, partnerHmacToleranceSeconds, scheme);
  const received = signature.toLowerCase();
  for (const secret of input.secrets) {
    if (constantTimeEqual(await signPartnerHmac(secret, timestamp, input.body), received)) return;
  }
  throw signatureRefused('SIGNATURE_INVALID', scheme);
}
