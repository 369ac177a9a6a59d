// The Upstash-Signature QStash puts on every delivery: an HS256 JWT over the destination URL and a
// SHA-256 of the raw body, which `Receiver.verify` from @upstash/qstash checks.
import { createHash, createHmac } from 'node:crypto';
import { newId } from './ids.ts';

const tokenLifetimeSeconds = 5 * 60;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export interface SignatureInput {
  url: string;
  body: Uint8Array;
  signingKey: string;
  /** Wall-clock milliseconds: receivers compare nbf and exp with their own clock. */
  nowMs: number;
}

export function signDelivery({ url, body, signingKey, nowMs }: SignatureInput): string {
  const now = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(
    JSON.stringify({
      iss: 'Upstash',
      sub: url,
      exp: now + tokenLifetimeSeconds,
      nbf: now,
      iat: now,
      jti: newId('jwt'),
      // QStash keeps the base64 padding in this claim; Receiver strips it on both sides.
      body: createHash('sha256')
        .update(body)
        .digest('base64')
        .replace(/\+/g, '-')
        .replace(/\//g, '_'),
    }),
  );
  const signature = createHmac('sha256', Buffer.from(signingKey, 'utf8'))
    .update(`${header}.${payload}`)
    .digest();
  return `${header}.${payload}.${base64url(signature)}`;
}
