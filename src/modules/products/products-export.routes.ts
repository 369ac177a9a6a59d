// GET /v1/products/export: products as a download that streams (src/lib/export-stream.ts).
import { createRoute } from '@hono/zod-openapi';
import { exportResponseDoc } from '../../lib/export-stream.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { forbidden, invalid, unauthorized } from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import { productSchema } from './products.schemas.ts';
import { productExportQuerySchema } from './products-export.schemas.ts';

export const exportProductsRoute = createRoute({
  method: 'get',
  path: '/v1/products/export',
  operationId: 'exportProducts',
  tags: ['Products'],
  summary: 'Export products',
  description:
    'The caller’s own products with products:read; with products:admin every product, or one ' +
    'owner’s with `ownerId`. Each as the API shows products, owner included.',
  security: sessionOrApiKey('products:read'),
  middleware: [requireAuth(), requirePermission('products:read')],
  request: { query: productExportQuerySchema },
  responses: {
    200: exportResponseDoc('products', productSchema),
    401: unauthorized,
    403: forbidden(
      'Without products:read, or another user’s or deleted products without products:admin',
    ),
    422: invalid(
      'An ownerId that is no UUID, an unknown category, or includeDeleted not a boolean',
    ),
  },
});
