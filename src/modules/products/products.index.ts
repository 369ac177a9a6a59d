import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { cacheReadPrefetch } from '../../middleware/request-cache.ts';
import type { RoutePrefetch } from '../../middleware/route-prefetch.ts';
import { moduleRoutes } from '../../module-routes.ts';
import { productCacheWarmJob } from './product-cache-warm.job.ts';
import {
  bulkCreateProductsHandler,
  createProductHandler,
  deleteProductHandler,
  getProductHandler,
  listProductsHandler,
  restoreProductHandler,
  searchProductsHandler,
  updateProductHandler,
} from './products.handlers.ts';
import {
  bulkCreateProductsRoute,
  createProductRoute,
  deleteProductRoute,
  getProductRoute,
  listProductsRoute,
  restoreProductRoute,
  searchProductsRoute,
  updateProductRoute,
} from './products.routes.ts';
import {
  productIdParamsSchema,
  productListQuerySchema,
  productSearchQuerySchema,
} from './products.schemas.ts';
import {
  listCacheKey,
  productCacheGroupName,
  productQueriesCacheGroup,
  searchCacheKey,
} from './products.service.ts';
import {
  adminProductAnalyticsCacheKey,
  getOwnProductAnalyticsHandler,
  getProductAnalyticsHandler,
  prefetchOwnProductAnalytics,
} from './products-analytics.handlers.ts';
import {
  getOwnProductAnalyticsRoute,
  getProductAnalyticsRoute,
} from './products-analytics.routes.ts';
import { exportProductsHandler } from './products-export.handlers.ts';
import { exportProductsRoute } from './products-export.routes.ts';

/**
 * /v1/products/*. Fixed paths come before their `{id}` siblings: the first route that matches
 * answers, and "search", "analytics" or "export" is no UUID.
 */
export const productsRoutes = moduleRoutes()
  .openapi(searchProductsRoute, searchProductsHandler)
  .openapi(exportProductsRoute, exportProductsHandler)
  .openapi(getOwnProductAnalyticsRoute, getOwnProductAnalyticsHandler)
  .openapi(getProductAnalyticsRoute, getProductAnalyticsHandler)
  .openapi(bulkCreateProductsRoute, bulkCreateProductsHandler)
  .openapi(listProductsRoute, listProductsHandler)
  .openapi(createProductRoute, createProductHandler)
  .openapi(getProductRoute, getProductHandler)
  .openapi(updateProductRoute, updateProductHandler)
  .openapi(deleteProductRoute, deleteProductHandler)
  .openapi(restoreProductRoute, restoreProductHandler);

/**
 * The cache reads of a product, a list page, a search page and analytics, begun with the rate
 * limit: each read answered from the cache costs one round trip. The query is parsed here as the route will
 * parse it, to name the same entry; invalid input, or a request for deleted products, starts
 * nothing.
 */
export const productsPrefetches: RoutePrefetch[] = [
  cacheReadPrefetch(getProductRoute, productCacheGroupName, (c) =>
    c.req.query('includeDeleted') === 'true'
      ? undefined
      : productIdParamsSchema.safeParse(c.req.param()).data?.id,
  ),
  cacheReadPrefetch(listProductsRoute, productQueriesCacheGroup, (c) => {
    const query = productListQuerySchema.safeParse(c.req.query()).data;
    return query === undefined || query.includeDeleted ? undefined : listCacheKey(query);
  }),
  cacheReadPrefetch(searchProductsRoute, productQueriesCacheGroup, (c) => {
    const query = productSearchQuerySchema.safeParse(c.req.query()).data;
    return query === undefined ? undefined : searchCacheKey(query);
  }),
  { path: getOwnProductAnalyticsRoute.getRoutingPath(), handler: prefetchOwnProductAnalytics },
  cacheReadPrefetch(
    getProductAnalyticsRoute,
    productQueriesCacheGroup,
    adminProductAnalyticsCacheKey,
  ),
];

/** The module's jobs: the cache warm-up that follows every product event. */
export const productsJobs = (deps: Deps) =>
  ({ 'product.cache-warm': productCacheWarmJob(deps) }) satisfies JobHandlers;
