// The product.cache-warm job: after a change, the product's entry is read back into the cache, so
// the first reader after a write is a hit rather than a trip to the database. The write already
// bumped the entry's version, so this read misses and refills; run twice, the second is a hit.
import type { Deps } from '../../deps.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';
import { createCache } from '../../platform/cache.ts';
import { createProductsRepository } from './products.repository.ts';
import { cachedProductView } from './products.service.ts';

export function productCacheWarmJob(deps: Deps): JobHandler<'product.cache-warm'> {
  return async ({ payload }) => {
    const view = await cachedProductView(
      { products: createProductsRepository(deps.db), cache: createCache(deps) },
      payload.productId,
    );
    return { listed: view !== null };
  };
}
