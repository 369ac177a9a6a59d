// What both partner schemes share: an HMAC-SHA-256 over a message that starts with the time it was
// signed, accepted only a few minutes either side of our clock. The window is two-sided because a
// partner's clock may run ahead of ours; a signature from further away is refused as expired.
import { importKeyOnce } from '../imported-keys.ts';
import { signatureRefused } from './refusal.ts';

const encoder = new TextEncoder();

export type SignedPart = string | Uint8Array;

function bytesOf(part: SignedPart): Uint8Array {
  return typeof part === 'string' ? encoder.encode(part) : part;
}

/** The parts' bytes back to back: the raw body is signed as it came, never re-encoded. */
function concatenate(parts: SignedPart[]): Uint8Array<ArrayBuffer> {
  const chunks = parts.map(bytesOf);
  const message = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    message.set(chunk, offset);
    offset += chunk.length;
  }
  return message;
}

export async function hmacSha256(key: SignedPart, parts: SignedPart[]): Promise<Uint8Array> {
  const cryptoKey = await importKeyOnce(concatenate([key]), { name: 'HMAC', hash: 'SHA-256' }, [
    'sign',
  ]);
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, concatenate(parts)));
}

/** `X-Timestamp` / `webhook-timestamp`: Unix seconds, digits only. */
export const unixSeconds = /^\d+$/;

/** Refused as expired when signed further than `toleranceSeconds` from now, either way. */
export function checkFreshness(
  timestamp: string,
  nowSeconds: number,
  toleranceSeconds: number,
  scheme: string,
): void {
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    throw signatureRefused('SIGNATURE_EXPIRED', scheme);
  }
}
