// Business rules for API keys: what a key may be given, how it is made and kept (only its SHA-256
// is stored), and when a presented key stands for its owner.
import { AppError } from '../../lib/errors.ts';
import { randomToken, sha256Hex } from '../../lib/opaque-tokens.ts';
import { type PageRequest, paginationOf } from '../../lib/pagination.ts';
import type { Cache, InvalidateOptions } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import { permissionsOf } from '../auth/permissions.ts';
import type { Principal } from '../auth/principal.ts';
import type { ApiKeyRecord } from './api-key-record.ts';
import type { ApiKeyRow, ApiKeysRepository } from './api-keys.repository.ts';
import {
  type ApiKeySortColumn,
  type ApiKeyView,
  type CreateApiKeyBody,
  type CreatedApiKey,
  maxLifetimeDays,
} from './api-keys.schemas.ts';

export interface ApiKeysServiceDeps {
  apiKeys: ApiKeysRepository;
  clock: Clock;
  cache: Cache;
}

/** Key records cached for authentication, keyed by the key's hash. */
const apiKeysCacheGroup = 'api-keys';
const recordTtlSeconds = 60;

/**
 * Every cached key record stops counting at once. Whatever changes what a key stands for must
 * call it: revocation here, and the owner's soft delete or role change. A group invalidation (one
 * INCR) rather than deleting one entry: its version stamp also voids a fill already under way.
 * `required`: reject when Redis fails or is slow, rather than log and go on.
 */
export function forgetApiKeyRecords(cache: Cache, options: InvalidateOptions = {}): Promise<void> {
  return cache.group(apiKeysCacheGroup).invalidate(options);
}

const dayMs = 86_400_000;
/** 'sk_' and 43 base64url characters: 32 random bytes, unpadded. */
const keyPattern = /^sk_[A-Za-z0-9_-]{43}$/;
const prefixLength = 10;

function generateApiKey(): string {
  return `sk_${randomToken(32)}`;
}

export function isWellFormedApiKey(key: string): boolean {
  return keyPattern.test(key);
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** The fields a key's owner sees, named one by one: never the hash. */
export function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}

function invalidExpiry(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message, {
    details: { fields: [{ path: 'expiresAt', message }] },
  });
}

function expiryOf(body: CreateApiKeyBody, now: Date): Date | null {
  if (body.expiresInDays !== undefined) return new Date(now.getTime() + body.expiresInDays * dayMs);
  if (body.expiresAt === undefined) return null;
  const expiresAt = new Date(body.expiresAt);
  if (expiresAt <= now) throw invalidExpiry('expiresAt must be in the future');
  if (expiresAt.getTime() - now.getTime() > maxLifetimeDays * dayMs) {
    throw invalidExpiry(`expiresAt must be at most ${maxLifetimeDays} days away`);
  }
  return expiresAt;
}

/** A key may do only what its owner may do, and must be asked for by a session (see the routes). */
export async function createApiKey(
  deps: ApiKeysServiceDeps,
  owner: Principal,
  body: CreateApiKeyBody,
): Promise<CreatedApiKey> {
  const scopes = [...new Set(body.scopes)];
  const held: readonly string[] = permissionsOf(owner.role);
  const notHeld = scopes.filter((scope) => !held.includes(scope));
  if (notHeld.length > 0) {
    throw new AppError('FORBIDDEN', 'A key cannot be given permissions its owner does not hold', {
      details: { scopes: notHeld },
    });
  }
  const now = deps.clock.now();
  const key = generateApiKey();
  const row = await deps.apiKeys.insert({
    userId: owner.userId,
    name: body.name,
    prefix: key.slice(0, prefixLength),
    keyHash: await sha256Hex(key),
    scopes,
    createdAt: now,
    expiresAt: expiryOf(body, now),
  });
  return { ...toApiKeyView(row), key };
}

export async function listApiKeys(
  deps: ApiKeysServiceDeps,
  ownerId: string,
  page: PageRequest<ApiKeySortColumn>,
) {
  const { rows, total } = await deps.apiKeys.listByOwner(ownerId, page);
  return { items: rows.map(toApiKeyView), pagination: paginationOf(page, total) };
}

/** Every user's keys, or one user's, each with its owner: for the admin CLI. */
export async function listAllApiKeys(
  deps: ApiKeysServiceDeps,
  filter: { userId?: string },
  page: PageRequest<ApiKeySortColumn>,
) {
  const { rows, total } = await deps.apiKeys.listAll(filter, page);
  return {
    items: rows.map((row) => ({
      ...toApiKeyView(row),
      owner: { id: row.ownerId, email: row.ownerEmail },
    })),
    pagination: paginationOf(page, total),
  };
}

/** Another user's key answers exactly like one that does not exist: ids do not leak. */
export async function revokeApiKey(
  deps: ApiKeysServiceDeps,
  ownerId: string,
  id: string,
): Promise<ApiKeyView> {
  return revoked(deps, await deps.apiKeys.revoke(ownerId, id, deps.clock.now()));
}

/** Any user's key: the admin CLI's revocation. */
export async function revokeAnyApiKey(deps: ApiKeysServiceDeps, id: string): Promise<ApiKeyView> {
  return revoked(deps, await deps.apiKeys.revokeAny(id, deps.clock.now()));
}

async function revoked(deps: ApiKeysServiceDeps, row: ApiKeyRow | undefined): Promise<ApiKeyView> {
  if (row === undefined) throw new AppError('NOT_FOUND', 'API key not found');
  // Awaited and required: the key must stop working before the owner is told it has. Should the
  // invalidation fail, the cached record would authenticate for up to recordTtlSeconds more, so
  // the owner hears 503, not 200. The revocation stays in the database, and repeating it (revoke
  // keeps the first revokedAt) retries the invalidation.
  try {
    await forgetApiKeyRecords(deps.cache, { required: true });
  } catch (error) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      'The key is revoked, but its cached copy could not be cleared: repeat the request',
      { details: { backend: 'cache' }, cause: `api-keys cache invalidation: ${String(error)}` },
    );
  }
  return toApiKeyView(row);
}

const epochMs = (date: Date | null) => (date === null ? null : date.getTime());

/** The key's record, or null for a hash no key has (cached too, so guessing stays off the database). */
export function findApiKeyRecord(
  deps: ApiKeysServiceDeps,
  keyHash: string,
): Promise<ApiKeyRecord | null> {
  return deps.cache
    .group(apiKeysCacheGroup)
    .getOrSet(keyHash, recordTtlSeconds, async (): Promise<ApiKeyRecord | null> => {
      const row = await deps.apiKeys.findForAuthentication(keyHash);
      if (row === undefined) return null;
      return {
        id: row.id,
        userId: row.userId,
        scopes: row.scopes,
        expiresAt: epochMs(row.expiresAt),
        revokedAt: epochMs(row.revokedAt),
        ownerRole: row.ownerRole,
        ownerEmailVerified: row.ownerEmailVerifiedAt !== null,
        ownerDeleted: row.ownerDeletedAt !== null,
      };
    });
}

/** Who a key stands for, or undefined when it is revoked, expired or its owner is deleted. */
export function principalOfKey(record: ApiKeyRecord | null, now: Date): Principal | undefined {
  if (record === null || record.revokedAt !== null || record.ownerDeleted) return undefined;
  if (record.expiresAt !== null && record.expiresAt <= now.getTime()) return undefined;
  return {
    userId: record.userId,
    role: record.ownerRole,
    emailVerified: record.ownerEmailVerified,
    via: 'api-key',
    apiKeyId: record.id,
    scopes: record.scopes,
  };
}
