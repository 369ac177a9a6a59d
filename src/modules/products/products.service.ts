// Business rules of the catalogue: who may change a product, how lists page, what is cached and
// when the cache forgets. No HTTP here.
//
// Caching, with versioned keys and nothing scanned: each product's entry lives in a group of its
// own (`product:<id>`), and every list, search and analytics page in one shared group. A write
// bumps both versions before it answers, so the writer's next read, and everyone's, misses the old
// entries; a fill that raced the write was stamped with the old version and never counts.
import type { ProductRow } from '../../db/schema.ts';
import type { PartnerEventType } from '../../jobs/catalogue.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { type CursorCodec, invalidCursor } from '../../lib/cursor.ts';
import type { CursorPagination, Pagination } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { offsetOf, paginationOf } from '../../lib/pagination.ts';
import type { TraceContext } from '../../lib/trace-context.ts';
import type { Cache, CacheGroup, Json } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import { productEventJobs } from './product-events.ts';
import { serializeProduct } from './product-serializer.ts';
import type {
  KeysetPosition,
  ProductChangeSet,
  ProductFilter,
  ProductRecord,
  ProductsRepository,
  ProductValues,
} from './products.repository.ts';
import type {
  NewProduct,
  ProductChanges,
  ProductListQuery,
  ProductSearchQuery,
  ProductView,
  SearchHit,
} from './products.schemas.ts';
import { highlighted, matchExpressionOf } from './search-text.ts';

export interface ProductsServiceDeps {
  products: ProductsRepository;
  cache: Cache;
  clock: Clock;
  /** The request's trace: the jobs a change stages carry it. */
  trace?: TraceContext;
  cursors: CursorCodec;
  /** Hands staged jobs to the queue after the commit, off the response's path. */
  publish: (jobs: PreparedJob[]) => void;
}

/** Who is acting, and whether they may act on anyone's products (products:admin). */
export interface ProductActor {
  userId: string;
  isAdmin: boolean;
}

/**
 * A product's entry also shows its owner's public profile, which the owner's changes do not
 * forget (that would mean finding each of their products): a rename or a deleted owner shows on a
 * product read within this time, on lists and searches at once.
 */
const productTtlSeconds = 60;
const queryTtlSeconds = 30;
/**
 * Outlives its group's one entry, then goes: a counter per product id ever read (a probe of
 * random ids too) must not pile up in Redis.
 */
const productVersionTtlSeconds = 2 * productTtlSeconds;

/** The lists, searches and analytics pages: one version, bumped by every write. */
export const productQueriesCacheGroup = 'product-queries';

export function productCacheGroupName(id: string): string {
  return `product:${id}`;
}

function productCacheGroup(cache: Cache, id: string): CacheGroup {
  return cache.group(productCacheGroupName(id), { versionTtlSeconds: productVersionTtlSeconds });
}

const notFound = () => new AppError('NOT_FOUND', 'Product not found');

/**
 * The listed product's view through its cache entry, null when there is none. An unknown id is
 * cached too (as null), so probing random ids does not reach the database. After a change, its
 * first call reads the product again: the cache warm-up job makes that call.
 */
export function cachedProductView(
  deps: Pick<ProductsServiceDeps, 'products' | 'cache'>,
  id: string,
): Promise<ProductView | null> {
  return productCacheGroup(deps.cache, id).getOrSet(
    id,
    productTtlSeconds,
    async (): Promise<ProductView | null> => {
      const record = await deps.products.findById(id);
      return record === undefined ? null : serializeProduct(record);
    },
  );
}

export async function getProduct(deps: ProductsServiceDeps, id: string): Promise<ProductView> {
  const view = await cachedProductView(deps, id);
  if (view === null) throw notFound();
  return view;
}

/** A product whatever its state, for an administrator; never cached. */
export async function getProductIncludingDeleted(
  deps: ProductsServiceDeps,
  id: string,
): Promise<ProductView> {
  const record = await deps.products.findById(id, { includeDeleted: true });
  if (record === undefined) throw notFound();
  return serializeProduct(record);
}

function filterOf(query: ProductListQuery | ProductSearchQuery): ProductFilter {
  return {
    category: query.category,
    minPrice: query.minPrice,
    maxPrice: query.maxPrice,
    currency: query.currency,
    inStock: query.inStock,
    ownerId: query.ownerId,
    // The search index holds listed products only.
    includeDeleted: 'includeDeleted' in query && query.includeDeleted,
  };
}

/** The same text for the same query whatever the order of its parameters: a cache key. */
function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => [key, value[key]]),
  );
}

/**
 * Reads through the shared query group, unless deleted rows are asked for: an administrator's
 * view of them is rare and must be exact.
 */
function cachedQuery<T extends Json>(
  deps: ProductsServiceDeps,
  key: string,
  includeDeleted: boolean,
  load: () => Promise<T>,
): Promise<T> {
  if (includeDeleted) return load();
  return deps.cache.group(productQueriesCacheGroup).getOrSet(key, queryTtlSeconds, load);
}

export type ProductList =
  | { mode: 'cursor'; data: ProductView[]; pagination: CursorPagination }
  | { mode: 'offset'; data: ProductView[]; pagination: Pagination };

function positionOf(decoded: unknown): KeysetPosition {
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    !Number.isSafeInteger(decoded[0]) ||
    typeof decoded[1] !== 'string'
  ) {
    throw invalidCursor();
  }
  return { createdAt: decoded[0], id: decoded[1] };
}

export function listCacheKey(query: ProductListQuery): string {
  return `list:${canonical(query)}`;
}

export function searchCacheKey(query: ProductSearchQuery): string {
  const { q, ...rest } = query;
  // Texts that come to the same words share their entry.
  return `search:${canonical({ ...rest, match: q === undefined ? undefined : matchExpressionOf(q) })}`;
}

/**
 * One page of products. Cursor pages (the default when sorting by createdAt) walk (createdAt, id)
 * from where the last page ended, so rows added meanwhile never shift or repeat a page, and page
 * 1,000 costs what page 1 does; offset pages (`page`, or another sort) come with totals.
 */
export function listProducts(
  deps: ProductsServiceDeps,
  query: ProductListQuery,
): Promise<ProductList> {
  const filter = filterOf(query);
  const byOffset = query.page !== undefined || query.sortBy !== 'createdAt';
  return cachedQuery(deps, listCacheKey(query), query.includeDeleted, async () => {
    if (byOffset) {
      const page = { page: query.page ?? 1, limit: query.limit };
      const { rows, total } = await deps.products.listPage(filter, {
        limit: query.limit,
        offset: offsetOf(page),
        sortBy: query.sortBy,
        order: query.sortOrder,
      });
      return {
        mode: 'offset' as const,
        data: rows.map(serializeProduct),
        pagination: paginationOf(page, total),
      };
    }
    // The cursor is bound to the filters and order, not to the page size.
    const { cursor: _cursor, limit: _limit, page: _page, ...scope } = query;
    const fingerprint = canonical(scope);
    const after =
      query.cursor === undefined
        ? undefined
        : positionOf(await deps.cursors.decode(query.cursor, fingerprint));
    // One row more than the page, to tell whether another follows.
    const rows = await deps.products.listAfter(filter, {
      limit: query.limit + 1,
      order: query.sortOrder,
      after,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1)?.product;
    const hasNext = rows.length > query.limit && last !== undefined;
    return {
      mode: 'cursor' as const,
      data: page.map(serializeProduct),
      pagination: {
        limit: query.limit,
        hasNext,
        nextCursor: hasNext
          ? await deps.cursors.encode([last.createdAt.getTime(), last.id], fingerprint)
          : null,
      },
    };
  });
}

/** Full-text search of listed products with filters, best match first, by offset page with totals. */
export function searchProducts(
  deps: ProductsServiceDeps,
  query: ProductSearchQuery,
): Promise<{ data: SearchHit[]; pagination: Pagination }> {
  const match = query.q === undefined ? undefined : matchExpressionOf(query.q);
  return cachedQuery(deps, searchCacheKey(query), false, async () => {
    const page = { page: query.page, limit: query.limit };
    const { rows, total } = await deps.products.search(filterOf(query), {
      match,
      limit: query.limit,
      offset: offsetOf(query),
    });
    return {
      data: rows.map((row) => ({
        ...serializeProduct(row),
        snippet: row.snippet === null ? null : highlighted(row.snippet),
      })),
      pagination: paginationOf(page, total),
    };
  });
}

function valuesOf(input: NewProduct, ownerId: string, at: Date): ProductValues {
  return {
    id: crypto.randomUUID(),
    ownerId,
    name: input.name,
    description: input.description,
    category: input.category,
    priceAmount: input.price.amount,
    priceCurrency: input.price.currency,
    stock: input.stock,
    tags: input.tags,
    createdAt: at,
    updatedAt: at,
  };
}

/** Every list, search and analytics page stops counting. */
export function forgetProductPages(cache: Cache): Promise<void> {
  return cache.group(productQueriesCacheGroup).invalidate();
}

/** The pages, and with `id`, that product's entry. */
async function forgetCached(deps: ProductsServiceDeps, id?: string): Promise<void> {
  await Promise.all([
    forgetProductPages(deps.cache),
    id === undefined ? undefined : productCacheGroup(deps.cache, id).invalidate(),
  ]);
}

/**
 * Creates products for `ownerId`, all or none, each with its product.created event. Validation
 * happened before: one invalid item refused the whole request with its index.
 */
export async function createProducts(
  deps: ProductsServiceDeps,
  ownerId: string,
  inputs: NewProduct[],
): Promise<ProductView[]> {
  const now = deps.clock.now();
  const values = inputs.map((input) => valuesOf(input, ownerId, now));
  const jobs = values.flatMap((value) =>
    productEventJobs(deps, 'product.created', { ...value, seq: 0, deletedAt: null }),
  );
  const records = await deps.products.create(values, jobs);
  await forgetCached(deps);
  deps.publish(jobs);
  // In the order sent, whatever order the insert answered in.
  const byId = new Map(records.map((record) => [record.product.id, record]));
  return values.flatMap((value) => {
    const record = byId.get(value.id);
    return record === undefined ? [] : [serializeProduct(record)];
  });
}

/**
 * The product `actor` may change: its owner or an administrator. Someone else's product answers
 * 403 while it is listed (anyone can read it) and 404 once it is hidden, deleted or its owner
 * deleted (no one else can read it, so the answer must not tell it exists).
 */
async function loadForChange(
  deps: ProductsServiceDeps,
  actor: ProductActor,
  id: string,
): Promise<ProductRecord> {
  const record = await deps.products.findById(id, { includeDeleted: true });
  if (record === undefined) throw notFound();
  if (record.product.ownerId !== actor.userId && !actor.isAdmin) {
    if (record.product.deletedAt !== null || record.owner.deletedAt !== null) throw notFound();
    throw new AppError('FORBIDDEN', 'Only the owner or an administrator may change this product');
  }
  return record;
}

/** A change always moves updatedAt on, so it can tell a concurrent change from none. */
function nextUpdatedAt(deps: ProductsServiceDeps, current: ProductRow): Date {
  return new Date(Math.max(deps.clock.now().getTime(), current.updatedAt.getTime() + 1));
}

/** How often a change is tried again after another change got there first. */
const changeAttempts = 3;

interface PlannedChange {
  event: PartnerEventType;
  set: ProductChangeSet & { updatedAt: Date };
}

/**
 * Reads the product, plans the change from what it is now (`plan` throws when the change does not
 * apply), and writes it only if nobody changed the product in between; otherwise reads again and
 * replans, a few times, then answers 409. The event is built from the very row the change
 * leaves, so partners never hear of a state that did not exist.
 */
async function changeProduct(
  deps: ProductsServiceDeps,
  actor: ProductActor,
  id: string,
  plan: (current: ProductRow) => PlannedChange,
): Promise<ProductView> {
  for (let attempt = 0; attempt < changeAttempts; attempt += 1) {
    const { product: current, owner } = await loadForChange(deps, actor, id);
    const { event, set } = plan(current);
    const jobs = productEventJobs(deps, event, { ...current, ...set });
    const changed = await deps.products.update(current, set, jobs);
    if (changed !== undefined) {
      // Forgotten before the events leave: a warm-up must not refill what the bump then drops.
      await forgetCached(deps, id);
      deps.publish(jobs);
      return serializeProduct({ product: changed, owner });
    }
  }
  throw new AppError('CONFLICT', 'The product kept changing under this request; try again', {
    details: { reason: 'concurrent_change' },
  });
}

export function updateProduct(
  deps: ProductsServiceDeps,
  actor: ProductActor,
  id: string,
  changes: ProductChanges,
): Promise<ProductView> {
  const { price, ...fields } = changes;
  return changeProduct(deps, actor, id, (current) => {
    if (current.deletedAt !== null) throw notFound();
    return {
      event: 'product.updated',
      set: {
        ...fields,
        ...(price !== undefined && { priceAmount: price.amount, priceCurrency: price.currency }),
        updatedAt: nextUpdatedAt(deps, current),
      },
    };
  });
}

/** Soft delete (deleted: true) or restore (false); a product already so answers 404. */
export function setProductDeleted(
  deps: ProductsServiceDeps,
  actor: ProductActor,
  id: string,
  deleted: boolean,
): Promise<ProductView> {
  return changeProduct(deps, actor, id, (current) => {
    if (deleted && current.deletedAt !== null) throw notFound();
    if (!deleted && current.deletedAt === null) {
      throw new AppError('NOT_FOUND', 'No deleted product has this id');
    }
    const at = nextUpdatedAt(deps, current);
    return {
      event: deleted ? 'product.deleted' : 'product.updated',
      set: { deletedAt: deleted ? at : null, updatedAt: at },
    };
  });
}
