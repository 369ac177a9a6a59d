// The Hono environment of the edge API: what every request carries (src/lib/request-env.ts),
// with the app's full dependencies and the values its middleware hands on to routes. The types
// named here import nothing that imports this file.
import type { Deps } from './deps.ts';
import type { Delivery } from './jobs/job-delivery.ts';
import type { RequestVariables } from './lib/request-env.ts';
import type { PendingApiKeyCheck } from './modules/api-keys/api-key-record.ts';
import type { Principal } from './modules/auth/principal.ts';
import type { PendingRevocationCheck } from './modules/auth/token-deny-list.ts';
import type { CachePrefetch } from './platform/cache.ts';
import type { IdempotentRequest, PendingClaim } from './platform/idempotency.ts';
import type { RateLimitPolicyName, StartedRateLimit } from './platform/rate-limits.ts';

export interface AppVariables extends RequestVariables {
  deps: Deps;
  /** Absent on anonymous requests. */
  principal?: Principal;
  /**
   * The deny-list read for the presented access token, started before the rate-limit check so
   * both share one Redis round trip (src/modules/auth/auth.middleware.ts); authentication awaits it.
   */
  tokenRevocation?: PendingRevocationCheck;
  /** The same for an X-API-Key: its record read and per-key count, started with the rate limit. */
  apiKeyCheck?: PendingApiKeyCheck;
  /** A route's cache read, started with the rate limit (src/middleware/request-cache.ts). */
  cachePrefetch?: CachePrefetch;
  /** An Idempotency-Key and the request's fingerprint, read before the credential prefetches. */
  idempotentRequest?: IdempotentRequest;
  /** Its claim, started with the rate limit (src/middleware/idempotency.ts). */
  idempotencyClaim?: PendingClaim;
  /** On QStash's routes, the delivery the signing middleware verified (verifiedDelivery). */
  delivery?: Delivery;
  /** Route policies' checks begun with the general rate limit (src/middleware/rate-limit.ts). */
  startedRateLimits?: Partial<Record<RateLimitPolicyName, StartedRateLimit>>;
}

export interface AppEnv {
  Variables: AppVariables;
}
