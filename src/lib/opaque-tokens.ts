// Opaque secrets handed to clients (refresh tokens, CSRF tokens, API keys, emailed links): random
// bytes as base64url, stored only as their SHA-256, compared in constant time.
import { toBase64Url, toHex } from './base64.ts';

/** `byteLength` random bytes (32: 256 bits, beyond guessing), base64url-encoded. */
export function randomToken(byteLength = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/**
 * What the database keeps of a token: a leaked table cannot be replayed. A fast hash is enough
 * because the tokens are random and long; passwords need the slow one (passwords.ts).
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}

/** Compares every character whatever the first difference, so timing says nothing of where it is. */
export function constantTimeEqual(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let index = 0; index < a.length; index++) {
    difference |= a.charCodeAt(index) ^ (b.charCodeAt(index) || 0);
  }
  return difference === 0;
}
