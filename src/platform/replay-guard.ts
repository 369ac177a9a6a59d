// A captured signed request can be sent again as it is, and its signature stays valid for the whole
// tolerance window. Remembering each signature once it is accepted closes that: the second sighting
// is a replay. The key holds a hash, so Redis never stores a usable signature.
import { sha256Hex } from '../lib/opaque-tokens.ts';
import type { Redis } from './redis.ts';

/**
 * A signature is accepted up to 5 minutes before and after its timestamp, so it must be
 * remembered for the 10 minutes it could come back in.
 */
export const replayWindowSeconds = 600;

/** True the first time `value` is seen in `scope` within `ttlSeconds`; one SET NX EX. */
export async function firstSighting(
  redis: Redis,
  scope: string,
  value: string,
  ttlSeconds: number,
): Promise<boolean> {
  const key = await sightingKey(scope, value);
  return (await redis.set(key, 1, { nx: true, ex: ttlSeconds })) === 'OK';
}

/**
 * Forgets a sighting whose request was then not accepted (the database failed), so the sender's
 * retry of the very same request is not taken for a replay.
 */
export async function forgetSighting(redis: Redis, scope: string, value: string): Promise<void> {
  await redis.del(await sightingKey(scope, value));
}

async function sightingKey(scope: string, value: string): Promise<string> {
  return `seen:${scope}:${await sha256Hex(value)}`;
}
