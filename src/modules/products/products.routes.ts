// The catalogue's routes. Reading is public: anyone may list, search and read listed products.
// Creating takes products:write; changing, deleting and restoring a product takes its owner with
// products:write, or products:admin. Deleted products are seen only with products:admin.
import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../app-env.ts';
import {
  cursorPaginationSchema,
  metaSchema,
  paginatedEnvelopeSchema,
  paginationSchema,
} from '../../lib/envelope.ts';
import { anyone, sessionOrApiKey } from '../../lib/openapi-security.ts';
import {
  failure,
  forbidden,
  invalid,
  jsonBody,
  notFound,
  success,
  unauthorized,
} from '../../lib/route-responses.ts';
import {
  idempotency,
  idempotencyKeyHeaders,
  withIdempotencyRefusals,
} from '../../middleware/idempotency.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import {
  bulkCreateBodySchema,
  newProductSchema,
  productChangesSchema,
  productIdParamsSchema,
  productListQuerySchema,
  productSchema,
  productSearchQuerySchema,
  searchHitSchema,
} from './products.schemas.ts';

const tags = ['Products'];

/**
 * Public reads, except that `includeDeleted=true` takes products:admin: only then are credentials
 * read, so an anonymous read costs no authentication.
 */
const adminToIncludeDeleted = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.query('includeDeleted') !== 'true') return next();
  await requireAuth()(c, async () => {
    await requirePermission('products:admin')(c, next);
  });
});

/**
 * Anyone: no credentials are read. `includeDeleted=true` alone reads them (a session, or a key
 * with products:admin), which its parameter's description says.
 */
const publicRead = anyone;
// An administrator's key writes with products:write too; products:admin then widens whose
// products it may change.
const writers = sessionOrApiKey('products:write');
const writeMiddleware = [requireAuth(), requirePermission('products:write')];

const includeDeletedQuery = z.object({
  includeDeleted: productListQuerySchema.shape.includeDeleted,
});

const cursorBadRequest = failure(
  'The cursor was altered or belongs to other filters (code INVALID_CURSOR).',
);
const notAdmin = forbidden('includeDeleted=true without products:admin');

export const listProductsRoute = createRoute({
  method: 'get',
  path: '/v1/products',
  operationId: 'listProducts',
  tags,
  summary: 'List products',
  description:
    'Listed products, filtered and sorted. Two ways to page: by cursor (the default when ' +
    'sorting by createdAt: follow `pagination.nextCursor`; pages stay stable while products are ' +
    'added, and any depth costs the same) or by offset (`page`, or any other sort: ' +
    '`pagination` gives total and pages). Cached for up to 30 seconds, and forgotten on every ' +
    'change. Each product carries its owner’s public profile.',
  security: publicRead,
  middleware: [adminToIncludeDeleted],
  request: { query: productListQuerySchema },
  responses: {
    200: {
      description: 'One page of products.',
      content: {
        'application/json': {
          schema: z.object({
            success: z.literal(true),
            data: z.array(productSchema),
            pagination: z.union([paginationSchema, cursorPaginationSchema]),
            meta: metaSchema,
          }),
        },
      },
    },
    400: cursorBadRequest,
    401: unauthorized,
    403: notAdmin,
    422: invalid('A filter, sort or page parameter out of range, e.g. limit over 100'),
  },
});

export const searchProductsRoute = createRoute({
  method: 'get',
  path: '/v1/products/search',
  operationId: 'searchProducts',
  tags,
  summary: 'Search products',
  description:
    'Full-text search of listed products over name, description and tags, best match first ' +
    '(the name weighs most; ties newest first), with a highlighted snippet. The last word, from ' +
    '3 characters, also matches as a prefix (type-ahead). Any text is safe: quotes, operators ' +
    'and punctuation are read as plain words. Without `q`, the filters alone select, newest ' +
    'first. Paged by offset with totals; cached for up to 30 seconds. Deleted products are never ' +
    'found: list them with GET /v1/products?includeDeleted=true.',
  security: publicRead,
  request: { query: productSearchQuerySchema },
  responses: {
    200: {
      description: 'One page of hits.',
      content: { 'application/json': { schema: paginatedEnvelopeSchema(searchHitSchema) } },
    },
    422: invalid('A filter or page parameter out of range, or q over 10,240 characters'),
  },
});

export const getProductRoute = createRoute({
  method: 'get',
  path: '/v1/products/{id}',
  operationId: 'getProduct',
  tags,
  summary: 'A product',
  description:
    'A listed product with its owner’s public profile; cached, and forgotten on every change. ' +
    'With `includeDeleted=true` (products:admin), a deleted one too.',
  security: publicRead,
  middleware: [adminToIncludeDeleted],
  request: { params: productIdParamsSchema, query: includeDeletedQuery },
  responses: {
    200: success('The product.', productSchema),
    401: unauthorized,
    403: notAdmin,
    404: notFound('No listed product has this id'),
    422: invalid('The id is not a UUID'),
  },
});

export const createProductRoute = createRoute({
  method: 'post',
  path: '/v1/products',
  operationId: 'createProduct',
  tags,
  summary: 'Create a product',
  description:
    'A product owned by the caller. The id, owner and timestamps are the server’s: a body that ' +
    'sends one is refused. Emits product.created.',
  security: writers,
  middleware: [...writeMiddleware, idempotency()],
  request: { headers: idempotencyKeyHeaders, body: jsonBody(newProductSchema) },
  responses: withIdempotencyRefusals({
    201: success('The product; `Location` names it.', productSchema),
    401: unauthorized,
    403: forbidden('The credentials may not create products'),
    422: invalid('A missing or invalid field, e.g. a negative price, or one that cannot be set'),
  }),
});

export const bulkCreateProductsRoute = createRoute({
  method: 'post',
  path: '/v1/products/bulk',
  operationId: 'createProductsInBulk',
  tags,
  summary: 'Create up to 100 products at once',
  description:
    'Every item is validated first, and an invalid one refuses the whole request, named by its ' +
    'index (`items.3.price.amount`); then all are created in one transaction, or none. Emits ' +
    'product.created for each.',
  security: writers,
  middleware: [...writeMiddleware, idempotency()],
  request: { headers: idempotencyKeyHeaders, body: jsonBody(bulkCreateBodySchema) },
  responses: withIdempotencyRefusals({
    201: success('The products, in the order sent.', z.array(productSchema)),
    401: unauthorized,
    403: forbidden('The credentials may not create products'),
    422: invalid('No items, more than 100, or an invalid item (named by its index)'),
  }),
});

const changeResponses = {
  401: unauthorized,
  403: forbidden('The product is someone else’s, and the caller lacks products:admin'),
  422: invalid('Not a UUID, or an invalid or unknown field'),
};

export const updateProductRoute = createRoute({
  method: 'patch',
  path: '/v1/products/{id}',
  operationId: 'updateProduct',
  tags,
  summary: 'Change a product',
  description:
    'The owner, or products:admin, changes any of name, description, category, price, stock and ' +
    'tags; id, owner and timestamps are refused. Emits product.updated.',
  security: writers,
  middleware: writeMiddleware,
  request: { params: productIdParamsSchema, body: jsonBody(productChangesSchema) },
  responses: {
    200: success('The changed product.', productSchema),
    ...changeResponses,
    404: notFound('No listed product has this id'),
    409: failure('Changed by others three times over while trying (code CONFLICT).'),
  },
});

export const deleteProductRoute = createRoute({
  method: 'delete',
  path: '/v1/products/{id}',
  operationId: 'deleteProduct',
  tags,
  summary: 'Delete a product (soft)',
  description:
    'Hides the product everywhere; its owner or an administrator can restore it. Emits ' +
    'product.deleted.',
  security: writers,
  middleware: writeMiddleware,
  request: { params: productIdParamsSchema },
  responses: {
    200: success('The deleted product, with deletedAt.', productSchema),
    ...changeResponses,
    404: notFound('No listed product has this id'),
  },
});

export const restoreProductRoute = createRoute({
  method: 'post',
  path: '/v1/products/{id}/restore',
  operationId: 'restoreProduct',
  tags,
  summary: 'Restore a deleted product',
  description: 'Lists a soft-deleted product again. Emits product.updated.',
  security: writers,
  middleware: writeMiddleware,
  request: { params: productIdParamsSchema },
  responses: {
    200: success('The restored product.', productSchema),
    ...changeResponses,
    404: notFound('No deleted product has this id'),
  },
});
