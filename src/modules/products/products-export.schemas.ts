// The catalogue export's query: the list's own filter fields, described for the export.
import { z } from '@hono/zod-openapi';
import { productListQuerySchema } from './products.schemas.ts';

const listFields = productListQuerySchema.shape;

export const productExportQuerySchema = z.object({
  ownerId: listFields.ownerId.openapi({
    description:
      "Only this user's products. Without it: the caller's own products, or every product for " +
      'a caller with products:admin. Another user’s id needs products:admin.',
  }),
  category: listFields.category,
  includeDeleted: listFields.includeDeleted.openapi({
    description: 'Include soft-deleted products (needs products:admin).',
  }),
});

export type ProductExportQuery = z.infer<typeof productExportQuerySchema>;
