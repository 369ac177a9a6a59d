// The Hono environment every route and middleware shares: dependencies and per-request values.
import type { UserRole } from './db/schema.ts';
import type { Deps } from './deps.ts';
import type { Delivery } from './jobs/job-delivery.ts';
import type { CachePrefetch } from './lib/cache.ts';
import type { LogFields } from './lib/logger.ts';
import type { RateLimitPolicyName } from './lib/rate-limit-policies.ts';
import type { PendingRevocationCheck } from './lib/token-deny-list.ts';
import type { StartedRateLimit } from './middleware/rate-limit.ts';
import type { PendingApiKeyCheck } from './modules/api-keys/api-key-auth.ts';

/** Who is calling, once authentication succeeded (src/middleware/auth.ts sets it). */
export interface Principal {
  userId: string;
  role: UserRole;
  emailVerified: boolean;
  via: 'session' | 'api-key';
  /** Sessions: the access token's jti and expiry (seconds), what logout puts on the deny-list. */
  tokenId?: string;
  tokenExpiresAt?: number;
  /** Sessions: the refresh-token family the access token belongs to, revoked with it at logout. */
  sessionId?: string;
  /** API keys: which key, and the scopes it was given (a subset of the owner's permissions). */
  apiKeyId?: string;
  scopes?: string[];
}

export interface AppVariables {
  deps: Deps;
  requestId: string;
  /**
   * The request's wide event: fields added along the way (cache hit or miss, user id, rate-limit
   * outcome) end up in the one log line written when the response leaves.
   */
  event: LogFields;
  /** Absent on anonymous requests. */
  principal?: Principal;
  /**
   * The deny-list read for the presented access token, started before the rate-limit check so
   * both share one Redis round trip (src/middleware/auth.ts); authentication awaits it.
   */
  tokenRevocation?: PendingRevocationCheck;
  /** The same for an X-API-Key: its record read and per-key count, started with the rate limit. */
  apiKeyCheck?: PendingApiKeyCheck;
  /** A route's cache read, started with the rate limit (src/lib/request-cache.ts). */
  cachePrefetch?: CachePrefetch;
  /** On QStash's routes, the delivery the signing middleware verified (verifiedDelivery). */
  delivery?: Delivery;
  /** Route policies' checks begun with the general rate limit (src/middleware/rate-limit.ts). */
  startedRateLimits?: Partial<Record<RateLimitPolicyName, StartedRateLimit>>;
}

export interface AppEnv {
  Variables: AppVariables;
}
