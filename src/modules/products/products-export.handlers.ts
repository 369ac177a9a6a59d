import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { exportResponse } from '../../lib/export-stream.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { checkPermission } from '../auth/permissions.ts';
import { createProductsRepository } from './products.repository.ts';
import type { exportProductsRoute } from './products-export.routes.ts';
import { exportProducts } from './products-export.service.ts';

export const exportProductsHandler: RouteHandler<typeof exportProductsRoute, AppEnv> = async (
  c,
) => {
  const principal = principalOf(c);
  const pages = exportProducts(
    { products: createProductsRepository(c.get('deps').db) },
    {
      userId: principal.userId,
      isAdmin: checkPermission(principal, 'products:admin') === 'granted',
    },
    c.req.valid('query'),
  );
  return exportResponse(c, 'products', pages);
};
