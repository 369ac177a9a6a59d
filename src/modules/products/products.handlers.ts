import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { serverSecretOf } from '../../config.ts';
import { publishStaged } from '../../jobs/outbox.ts';
import { createCursorCodec } from '../../lib/cursor.ts';
import { ok, okPage } from '../../lib/envelope.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { checkPermission } from '../auth/permissions.ts';
import { createProductsRepository, type ProductsRepository } from './products.repository.ts';
import type {
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
  createProducts,
  getProduct,
  getProductIncludingDeleted,
  listProducts,
  type ProductActor,
  type ProductsServiceDeps,
  searchProducts,
  setProductDeleted,
  updateProduct,
} from './products.service.ts';

export function productsServiceDeps(c: Context<AppEnv>): ProductsServiceDeps {
  const deps = c.get('deps');
  let products: ProductsRepository | undefined;
  return {
    // On first use: a read served from the cache needs no database client.
    get products() {
      products ??= createProductsRepository(deps.db);
      return products;
    },
    cache: requestCache(c),
    clock: deps.clock,
    trace: deps.trace,
    cursors: createCursorCodec(serverSecretOf(deps.config)),
    publish: (jobs) => waitUntil(c, 'outbox-publish', publishStaged(deps, jobs)),
  };
}

function actorOf(c: Context<AppEnv>): ProductActor {
  const principal = principalOf(c);
  return {
    userId: principal.userId,
    isAdmin: checkPermission(principal, 'products:admin') === 'granted',
  };
}

export const listProductsHandler: RouteHandler<typeof listProductsRoute, AppEnv> = async (c) => {
  const page = await listProducts(productsServiceDeps(c), c.req.valid('query'));
  return okPage(c, page.data, page.pagination);
};

export const searchProductsHandler: RouteHandler<typeof searchProductsRoute, AppEnv> = async (
  c,
) => {
  const page = await searchProducts(productsServiceDeps(c), c.req.valid('query'));
  return okPage(c, page.data, page.pagination);
};

export const getProductHandler: RouteHandler<typeof getProductRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const deps = productsServiceDeps(c);
  const product = c.req.valid('query').includeDeleted
    ? await getProductIncludingDeleted(deps, id)
    : await getProduct(deps, id);
  return ok(c, product, 200);
};

export const createProductHandler: RouteHandler<typeof createProductRoute, AppEnv> = async (c) => {
  const [product] = await createProducts(productsServiceDeps(c), principalOf(c).userId, [
    c.req.valid('json'),
  ]);
  if (product === undefined) throw new Error('the insert returned no product');
  c.header('Location', `/v1/products/${product.id}`);
  return ok(c, product, 201);
};

export const bulkCreateProductsHandler: RouteHandler<
  typeof bulkCreateProductsRoute,
  AppEnv
> = async (c) => {
  const { items } = c.req.valid('json');
  return ok(c, await createProducts(productsServiceDeps(c), principalOf(c).userId, items), 201);
};

export const updateProductHandler: RouteHandler<typeof updateProductRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(
    c,
    await updateProduct(productsServiceDeps(c), actorOf(c), id, c.req.valid('json')),
    200,
  );
};

export const deleteProductHandler: RouteHandler<typeof deleteProductRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await setProductDeleted(productsServiceDeps(c), actorOf(c), id, true), 200);
};

export const restoreProductHandler: RouteHandler<typeof restoreProductRoute, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  return ok(c, await setProductDeleted(productsServiceDeps(c), actorOf(c), id, false), 200);
};
