// Who exports which products. A caller exports their own products; products:admin exports every
// product unless `ownerId` narrows it, and alone may ask for another user's or for deleted ones.
// The items are the products as the API shows them (product-serializer.ts), owner included.
import { AppError } from '../../lib/errors.ts';
import { keysetPages, type NextPage } from '../../lib/export-stream.ts';
import { serializeProduct } from './product-serializer.ts';
import type {
  KeysetPosition,
  ProductFilter,
  ProductRecord,
  ProductsRepository,
} from './products.repository.ts';
import type { ProductView } from './products.schemas.ts';
import type { ProductActor } from './products.service.ts';
import type { ProductExportQuery } from './products-export.schemas.ts';

export interface ProductsExportServiceDeps {
  products: Pick<ProductsRepository, 'listAfter'>;
}

/** Rows a page: a few hundred kilobytes of JSON, one database round trip each. */
export const productExportPageSize = 500;

function exportFilter(actor: ProductActor, query: ProductExportQuery): ProductFilter {
  if (!actor.isAdmin) {
    if (query.includeDeleted) {
      throw new AppError('FORBIDDEN', 'Exporting deleted products needs products:admin');
    }
    if (query.ownerId !== undefined && query.ownerId !== actor.userId) {
      throw new AppError('FORBIDDEN', "Exporting another user's products needs products:admin");
    }
  }
  return {
    ownerId: actor.isAdmin ? query.ownerId : actor.userId,
    category: query.category,
    includeDeleted: query.includeDeleted,
  };
}

/** The export's pages, oldest product first; nothing is read until the first page is asked for. */
export function exportProducts(
  deps: ProductsExportServiceDeps,
  actor: ProductActor,
  query: ProductExportQuery,
): NextPage<ProductView> {
  const filter = exportFilter(actor, query);
  const pages = keysetPages<ProductRecord, KeysetPosition>({
    pageSize: productExportPageSize,
    read: (after, limit) => deps.products.listAfter(filter, { limit, order: 'asc', after }),
    positionOf: ({ product }) => ({ createdAt: product.createdAt.getTime(), id: product.id }),
  });
  return async () => (await pages()).map(serializeProduct);
}
