// `X-API-Key` authentication. Round trips: the key's cached record and its per-key rate-limit count
// are started by prefetchApiKey(), registered just before the general rate limit, so all three
// Redis commands are in flight together and an authenticated request still costs one round trip.
// requireAuth (src/modules/auth/auth.middleware.ts) then calls authenticateApiKey, which awaits
// them. The database is read only when the record is not cached, and only once authentication is
// asked for: a client the general limit refuses never gets its keys looked up there.
//
// The per-key count is keyed by the key's hash, which stands for exactly one key just as its id
// does, but is known before the record is: keyed by id, the count would wait for the record.
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.ts';
import { AppError } from '../../lib/errors.ts';
import { sha256Hex } from '../../lib/opaque-tokens.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { countRequest } from '../../middleware/rate-limit.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import type { Principal } from '../auth/principal.ts';
import type { PendingApiKeyCheck } from './api-key-record.ts';
import { type ApiKeysRepository, createApiKeysRepository } from './api-keys.repository.ts';
import { findApiKeyRecord, isWellFormedApiKey, principalOfKey } from './api-keys.service.ts';

/** One answer for unknown, revoked and expired keys alike: a caller learns nothing about a key. */
function invalidApiKey(): AppError {
  return new AppError('API_KEY_INVALID', 'Invalid API key');
}

async function startApiKeyCheck(c: Context<AppEnv>, key: string): Promise<PendingApiKeyCheck> {
  const keyHash = await sha256Hex(key);
  const deps = c.get('deps');
  let settleLookup: (needed: boolean) => void = () => {};
  const lookupNeeded = new Promise<boolean>((resolve) => {
    settleLookup = resolve;
  });
  const repository = createApiKeysRepository(deps.db);
  const apiKeys: ApiKeysRepository = {
    ...repository,
    findForAuthentication: async (hash) => {
      if (!(await lookupNeeded)) throw new Error('key look-up given up: no authentication asked');
      return repository.findForAuthentication(hash);
    },
  };
  // Counted as the policy's middleware counts, so its headers, log fields and Redis-down rule
  // apply; an over-limit key makes it reject with the 429.
  const count = countRequest(c, 'apiKey', { key: () => `key:${keyHash}` });
  const record = findApiKeyRecord({ apiKeys, clock: deps.clock, cache: requestCache(c) }, keyHash);
  return { key, keyHash, outcome: Promise.allSettled([count, record]), settleLookup };
}

/** Starts the checks of a well-formed X-API-Key; register it right before the general rate limit. */
export const prefetchApiKey = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header('X-API-Key');
    if (key === undefined || !isWellFormedApiKey(key)) return next();
    const check = await startApiKeyCheck(c, key);
    c.set('apiKeyCheck', check);
    try {
      await next();
    } finally {
      check.settleLookup(false);
      // A check the route never awaited may still be under way; let it end after the response.
      waitUntil(c, 'api-key check', check.outcome);
    }
  });

/**
 * The principal an X-API-Key stands for: its owner, limited to the key's scopes. Throws 401
 * API_KEY_INVALID for a malformed, unknown, revoked or expired key or a soft-deleted owner, and
 * 429 RATE_LIMITED for a valid key over its limit.
 */
export async function authenticateApiKey(
  c: Context<AppEnv>,
  presentedKey: string,
): Promise<Principal> {
  if (!isWellFormedApiKey(presentedKey)) throw invalidApiKey();
  const prefetched = c.get('apiKeyCheck');
  const check =
    prefetched?.key === presentedKey ? prefetched : await startApiKeyCheck(c, presentedKey);
  check.settleLookup(true);
  const [count, record] = await check.outcome;
  if (record.status === 'rejected') throw record.reason;
  const principal = principalOfKey(record.value, c.get('deps').clock.now());
  if (principal === undefined) throw invalidApiKey();
  if (count.status === 'rejected') throw count.reason;
  c.get('event').apiKeyId = principal.apiKeyId;
  return principal;
}
