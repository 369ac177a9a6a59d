// What authenticating an X-API-Key reads, kept apart so the app's env can name it without
// importing the module's services.
import type { UserRole } from '../../db/schema.ts';

/** What authentication keeps of a key between requests: times as epoch milliseconds. */
export type ApiKeyRecord = {
  id: string;
  userId: string;
  scopes: string[];
  expiresAt: number | null;
  revokedAt: number | null;
  ownerRole: UserRole;
  ownerEmailVerified: boolean;
  ownerDeleted: boolean;
};

/** The per-key count and the record read of a presented key, both under way. */
export interface PendingApiKeyCheck {
  key: string;
  /** The key's SHA-256 (hex): how it is stored, counted and cached. */
  keyHash: string;
  /** Settled, never rejected: a prefetch nobody awaits (a public route) must not go unhandled. */
  outcome: Promise<[PromiseSettledResult<unknown>, PromiseSettledResult<ApiKeyRecord | null>]>;
  /** Lets a cache miss go on to the database (true) or gives it up (false); the first call counts. */
  settleLookup(needed: boolean): void;
}
