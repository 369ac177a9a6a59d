// The catalogue's analytics: a user's own products (products:read), and everyone's or any one
// user's for administrators (products:admin).
import { createRoute } from '@hono/zod-openapi';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { failure, invalid, success, unauthorized } from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import {
  adminProductAnalyticsQuerySchema,
  analyticsMonths,
  productAnalyticsSchema,
} from './products.schemas.ts';

const contents =
  'Listed products only (neither they nor their owner soft-deleted): `summary`, `byCategory` ' +
  `(categories with products, most first) and \`monthly\` (the last ${analyticsMonths} calendar ` +
  'months in UTC, oldest first, the current one last, empty months as zeros). Products are ' +
  'priced in several currencies and an average across them would mean nothing, so counts cover ' +
  'every currency while each price figure is given per currency in `byCurrency`, in minor ' +
  'units, averages rounded to integers. Cached for up to 60 seconds, and forgotten on every ' +
  'product change.';

const figures = success('The figures.', productAnalyticsSchema);

export const getOwnProductAnalyticsRoute = createRoute({
  method: 'get',
  path: '/v1/products/analytics',
  operationId: 'getOwnProductAnalytics',
  tags: ['Products'],
  summary: 'Analytics of my products',
  description: `The caller’s own products. ${contents}`,
  security: sessionOrApiKey('products:read'),
  middleware: [requireAuth(), requirePermission('products:read')],
  responses: {
    200: figures,
    401: unauthorized,
    403: failure(
      'The role lacks products:read (code FORBIDDEN), or the API key lacks that scope (code ' +
        'SCOPE_MISSING).',
    ),
  },
});

export const getProductAnalyticsRoute = createRoute({
  method: 'get',
  path: '/v1/admin/products/analytics',
  operationId: 'getProductAnalytics',
  tags: ['Admin'],
  summary: 'Analytics of the catalogue, or of one user’s products',
  description:
    'Every user’s products, or with `userId` one user’s (an unknown or deleted user’s figures ' +
    `are zeros). ${contents}`,
  security: sessionOrApiKey('products:admin'),
  middleware: [requireAuth(), requirePermission('products:admin')],
  request: { query: adminProductAnalyticsQuerySchema },
  responses: {
    200: figures,
    401: unauthorized,
    403: failure(
      'The caller is not an administrator (code FORBIDDEN), or the API key lacks ' +
        'products:admin (code SCOPE_MISSING).',
    ),
    422: invalid('userId is not a UUID'),
  },
});
