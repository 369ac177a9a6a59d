// Standard Webhooks (https://www.standardwebhooks.com), for partners whose tooling already speaks
// it: `webhook-signature` lists `v1,<base64 HMAC-SHA-256>` entries separated by spaces, keyed with
// the base64-decoded part of a `whsec_` secret, over `${webhook-id}.${webhook-timestamp}.${body}`.
// A sender lists one entry per secret it holds, so a rotation needs no coordinated switch.
import { fromBase64, toBase64 } from '../base64.ts';
import { constantTimeEqual } from '../opaque-tokens.ts';
import { signatureRefused } from './refusal.ts';
import { checkFreshness, hmacSha256, type SignedPart, unixSeconds } from './timestamped-hmac.ts';

const scheme = 'standard-webhooks';

export const standardWebhookToleranceSeconds = 300;

const secretPrefix = 'whsec_';

// `<version>,<base64>`; only v1 (symmetric HMAC) is ours, other versions are skipped, not refused.
const signatureEntry = /^v\d+[a-z]?,[A-Za-z0-9+/]+={0,2}$/;

export function generateStandardWebhookSecret(): string {
  return `${secretPrefix}${toBase64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

function keyOf(secret: string): Uint8Array {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  return fromBase64(encoded);
}

export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number | string,
  body: SignedPart,
): Promise<string> {
  return `v1,${toBase64(await hmacSha256(keyOf(secret), [`${id}.${timestamp}.`, body]))}`;
}

export interface StandardWebhookInput {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  body: Uint8Array;
  /** Every active secret of the partner, each `whsec_<base64>`. */
  secrets: string[];
  nowSeconds: number;
}

/** Resolves when a v1 entry was made by one of the secrets; throws a 401 AppError otherwise. */
export async function verifyStandardWebhook(input: StandardWebhookInput): Promise<void> {
  const { id, timestamp, signature } = input;
  if (!id || !timestamp || !signature) throw signatureRefused('SIGNATURE_MISSING', scheme);
  // As the scheme's own libraries do, entries that are not ours are skipped: a sender may list
  // signatures of versions or formats this side does not know beside its v1 one.
  const entries = signature.split(' ').filter((entry) => signatureEntry.test(entry));
  if (!unixSeconds.test(timestamp) || entries.length === 0) {
    throw signatureRefused('SIGNATURE_MALFORMED', scheme);
  }
  checkFreshness(timestamp, input.nowSeconds, standardWebhookToleranceSeconds, scheme);
  const received = entries.filter((entry) => entry.startsWith('v1,'));
  for (const secret of input.secrets) {
    // One HMAC per secret however many entries the header lists.
    const expected = await signStandardWebhook(secret, id, timestamp, input.body);
    if (received.some((entry) => constantTimeEqual(expected, entry))) return;
  }
  throw signatureRefused('SIGNATURE_INVALID', scheme);
}
