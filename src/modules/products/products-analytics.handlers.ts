import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.ts';
import { ok } from '../../lib/envelope.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { adminProductAnalyticsQuerySchema } from './products.schemas.ts';
import { productQueriesCacheGroup } from './products.service.ts';
import {
  createProductAnalyticsRepository,
  type ProductAnalyticsRepository,
} from './products-analytics.repository.ts';
import type {
  getOwnProductAnalyticsRoute,
  getProductAnalyticsRoute,
} from './products-analytics.routes.ts';
import {
  type AnalyticsScope,
  analyticsCacheKey,
  everyonesProducts,
  ownersProducts,
  type ProductAnalyticsServiceDeps,
  productAnalytics,
} from './products-analytics.service.ts';

export function productAnalyticsServiceDeps(c: Context<AppEnv>): ProductAnalyticsServiceDeps {
  const deps = c.get('deps');
  let analytics: ProductAnalyticsRepository | undefined;
  return {
    // On first use: figures served from the cache need no database client.
    get analytics() {
      analytics ??= createProductAnalyticsRepository(deps.db);
      return analytics;
    },
    cache: requestCache(c),
    clock: deps.clock,
  };
}

// The caller's own figures are cached under a name its credential gives before authentication,
// so that their read leaves with the rate limit (one round trip for a hit): a session names its
// user (the subject the deny-list prefetch peeked from the token); an API key names itself by its
// hash, as its owner is known only once its record is read, a round trip later. Both were read by
// the credential prefetches that run just before this one.
function entryOf(c: Context<AppEnv>): string | undefined {
  const apiKey = c.get('apiKeyCheck');
  if (apiKey !== undefined) return `key:${apiKey.keyHash}`;
  const userId = c.get('tokenRevocation')?.userId;
  return userId === undefined ? undefined : ownersProducts(userId).entry;
}

function ownScope(c: Context<AppEnv>): AnalyticsScope {
  const { userId } = principalOf(c);
  const apiKey = c.get('apiKeyCheck');
  return apiKey === undefined
    ? ownersProducts(userId)
    : ownersProducts(userId, `key:${apiKey.keyHash}`);
}

/**
 * Starts the read of the caller's own figures with the rate limit (a RoutePrefetch handler). The
 * name is unverified: a wrong one (a forged token) only wastes the read, which the route then
 * ignores for its own key.
 */
export const prefetchOwnProductAnalytics = createMiddleware<AppEnv>(async (c, next) => {
  const entry = c.req.method === 'GET' ? entryOf(c) : undefined;
  if (entry !== undefined) {
    const key = analyticsCacheKey(c.get('deps').clock.now(), entry);
    c.set('cachePrefetch', requestCache(c).group(productQueriesCacheGroup).prefetch(key));
  }
  return next();
});

const adminScope = (userId: string | undefined) =>
  userId === undefined ? everyonesProducts : ownersProducts(userId);

/** The admin route's cache key, from its query as the route will parse it; invalid, none. */
export function adminProductAnalyticsCacheKey(c: Context<AppEnv>): string | undefined {
  const query = adminProductAnalyticsQuerySchema.safeParse(c.req.query()).data;
  return query === undefined
    ? undefined
    : analyticsCacheKey(c.get('deps').clock.now(), adminScope(query.userId).entry);
}

export const getOwnProductAnalyticsHandler: RouteHandler<
  typeof getOwnProductAnalyticsRoute,
  AppEnv
> = async (c) => ok(c, await productAnalytics(productAnalyticsServiceDeps(c), ownScope(c)), 200);

export const getProductAnalyticsHandler: RouteHandler<
  typeof getProductAnalyticsRoute,
  AppEnv
> = async (c) => {
  const scope = adminScope(c.req.valid('query').userId);
  return ok(c, await productAnalytics(productAnalyticsServiceDeps(c), scope), 200);
};
