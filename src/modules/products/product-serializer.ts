// The one place that decides what of a product leaves the server: for API answers with the
// owner's public profile, for events with the owner's id (partners get no profiles). The row's
// seq is the search index's key and never leaves.
import type { ProductRow } from '../../db/schema.ts';
import { publicProfileOf } from '../users/user-serializer.ts';
import type { ProductRecord } from './products.repository.ts';
import type { ProductView } from './products.schemas.ts';

type ProductFields = Omit<ProductView, 'owner'>;

function fieldsOf(product: ProductRow): ProductFields {
  return {
    id: product.id,
    name: product.name,
    description: product.description,
    category: product.category,
    price: { amount: product.priceAmount, currency: product.priceCurrency },
    stock: product.stock,
    tags: product.tags,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
    deletedAt: product.deletedAt === null ? null : product.deletedAt.toISOString(),
  };
}

export function serializeProduct({ product, owner }: ProductRecord): ProductView {
  return {
    ...fieldsOf(product),
    owner: publicProfileOf(owner),
  };
}

/** A product as an event carries it to its handlers and to partners. */
export function productEventData(product: ProductRow): ProductFields & { ownerId: string } {
  return { ...fieldsOf(product), ownerId: product.ownerId };
}
