// SQL for products. Every read joins the owner's public columns in the same statement, so a page
// of products never costs a query per owner; a list or search with its total is two statements in
// one batch, one round trip. Products of a soft-deleted owner are hidden with them unless deleted
// rows are asked for. Writes carry their staged events (the outbox rows) in the same batch.
import { and, asc, count, desc, eq, gte, isNull, lte, type SQL, sql } from 'drizzle-orm';
import { type AvatarRef, type ProductRow, products, users } from '../../db/schema.ts';
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { stageJobIfChanged, stageJobs } from '../../jobs/outbox.ts';
import type { Database } from '../../platform/database.ts';
import type { ProductSortColumn } from './products.schemas.ts';

/** The owner: the public profile's fields, which every product shows, and whether it is deleted. */
export interface ProductOwner {
  id: string;
  name: string;
  avatar: AvatarRef | null;
  createdAt: Date;
  deletedAt: Date | null;
}

export interface ProductRecord {
  product: ProductRow;
  owner: ProductOwner;
}

export interface ProductFilter {
  category?: ProductRow['category'] | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  currency?: ProductRow['priceCurrency'] | undefined;
  inStock?: boolean | undefined;
  ownerId?: string | undefined;
  includeDeleted: boolean;
}

/** Where a keyset page starts: after the row with this creation time and id. */
export interface KeysetPosition {
  createdAt: number;
  id: string;
}

export interface CursorPageRequest {
  limit: number;
  order: 'asc' | 'desc';
  after?: KeysetPosition | undefined;
}

export interface OffsetPageRequest {
  limit: number;
  offset: number;
  sortBy: ProductSortColumn;
  order: 'asc' | 'desc';
}

export interface SearchRequest {
  /** An FTS5 MATCH expression (search-text.ts); without one the filters alone select. */
  match?: string | undefined;
  limit: number;
  offset: number;
}

export interface SearchRecord extends ProductRecord {
  /** The best passage, matches between search-text.ts's markers; null without a text query. */
  snippet: string | null;
}

/** A write's row values, every one the server's choice but the product's own fields. */
export type ProductValues = Omit<ProductRow, 'seq' | 'deletedAt'>;

export type ProductChangeSet = Partial<
  Pick<
    ProductRow,
    | 'name'
    | 'description'
    | 'category'
    | 'priceAmount'
    | 'priceCurrency'
    | 'stock'
    | 'tags'
    | 'deletedAt'
  >
>;

const ownerColumns = {
  id: users.id,
  name: users.name,
  avatar: users.avatar,
  createdAt: users.createdAt,
  deletedAt: users.deletedAt,
};
const recordColumns = { product: products, owner: ownerColumns };

// FTS5 is not a table drizzle knows: its name, its MATCH, its ranking and its snippet as SQL. The
// index holds listed products only (drizzle/0006_search_index_listed_only.sql). Column weights
// follow its column order: name, description, tags, category (never searched for words).
const productsFts = sql`products_fts`;
const relevance = sql`bm25(products_fts, 10.0, 1.0, 3.0, 0.0)`;
const snippetIn = (column: number) =>
  sql`snippet(products_fts, ${sql.raw(String(column))}, char(2), char(3), '…', 16)`;
/** The name's passage if the name matched, else the description's, else the tags'. */
const snippetOf = sql<string>`CASE
  WHEN instr(${snippetIn(0)}, char(2)) > 0 THEN ${snippetIn(0)}
  WHEN instr(${snippetIn(1)}, char(2)) > 0 THEN ${snippetIn(1)}
  ELSE ${snippetIn(2)} END`;
/** The row filters' columns alone (schema.ts, products_search_filters_idx). */
const filterColumns = sql`${products} INDEXED BY products_search_filters_idx`;
/** Ties go to the product created last: seq grows with every insert. */
const newestFirst = sql`products_fts.rowid DESC`;

/** The words, confined to the text columns, and the category, which the index narrows itself. */
function matchOf(words: string, category: ProductFilter['category']): SQL {
  const text = `{name description tags} : (${words})`;
  // The category is one of the schema's enum values: nothing a client typed reaches the match.
  return sql`products_fts MATCH ${category === undefined ? text : `${text} AND category : "${category}"`}`;
}

const sortColumns = {
  createdAt: products.createdAt,
  updatedAt: products.updatedAt,
  name: products.name,
  price: products.priceAmount,
  stock: products.stock,
} as const;

/** The filters a product's own row answers: price, currency, stock and owner. */
function rowConditions(filter: ProductFilter): SQL | undefined {
  return and(
    filter.minPrice === undefined ? undefined : gte(products.priceAmount, filter.minPrice),
    filter.maxPrice === undefined ? undefined : lte(products.priceAmount, filter.maxPrice),
    filter.currency === undefined ? undefined : eq(products.priceCurrency, filter.currency),
    filter.inStock === undefined
      ? undefined
      : filter.inStock
        ? sql`${products.stock} > 0`
        : eq(products.stock, 0),
    filter.ownerId === undefined ? undefined : eq(products.ownerId, filter.ownerId),
  );
}

/** The filter as SQL conditions on products joined with their owners. */
export function filterConditions(filter: ProductFilter): SQL | undefined {
  return and(
    // The unary + keeps SQLite from walking users by their deleted_at index first, and then
    // every product of each: a page then reads a handful of rows, not the whole table.
    filter.includeDeleted
      ? undefined
      : and(isNull(products.deletedAt), sql`+${users.deletedAt} IS NULL`),
    filter.category === undefined ? undefined : eq(products.category, filter.category),
    rowConditions(filter),
  );
}

/** Rows after `after` in (createdAt, id) order: a row-value comparison the index serves. */
export function keysetAfter(after: KeysetPosition | undefined, order: 'asc' | 'desc') {
  if (after === undefined) return undefined;
  return order === 'desc'
    ? sql`(${products.createdAt}, ${products.id}) < (${after.createdAt}, ${after.id})`
    : sql`(${products.createdAt}, ${products.id}) > (${after.createdAt}, ${after.id})`;
}

export interface ProductsRepository {
  findById(id: string, options?: { includeDeleted?: boolean }): Promise<ProductRecord | undefined>;
  /** Up to `limit` rows after `after` in (createdAt, id) order: a keyset page. */
  listAfter(filter: ProductFilter, page: CursorPageRequest): Promise<ProductRecord[]>;
  listPage(
    filter: ProductFilter,
    page: OffsetPageRequest,
  ): Promise<{ rows: ProductRecord[]; total: number }>;
  /**
   * Listed products matching the text, best first (bm25, the name weighing most), ties and
   * text-less searches newest first, with the total; two statements in one batch.
   */
  search(
    filter: ProductFilter,
    request: SearchRequest,
  ): Promise<{ rows: SearchRecord[]; total: number }>;
  /** Inserts products and the jobs that follow them, all or nothing; answers them with owners. */
  create(values: ProductValues[], jobs: PreparedJob[]): Promise<ProductRecord[]>;
  /**
   * Applies changes to `current` unless it changed since it was read (undefined: nothing written),
   * staging `jobs` only when it did. Every change moves updatedAt on, so comparing it finds any
   * change in between, a deletion or restore included.
   */
  update(
    current: ProductRow,
    changes: ProductChangeSet & { updatedAt: Date },
    jobs: PreparedJob[],
  ): Promise<ProductRow | undefined>;
}

export function createProductsRepository(db: Database): ProductsRepository {
  const selectRecords = () =>
    db.select(recordColumns).from(products).innerJoin(users, eq(users.id, products.ownerId));

  const ownerOf = (ownerId: string) =>
    db.select(ownerColumns).from(users).where(eq(users.id, ownerId)).limit(1);

  const countOf = (where: SQL | undefined) =>
    db
      .select({ total: count() })
      .from(products)
      .innerJoin(users, eq(users.id, products.ownerId))
      .where(where);

  async function listPage(filter: ProductFilter, page: OffsetPageRequest) {
    const where = filterConditions(filter);
    const direction = page.order === 'asc' ? asc : desc;
    // The id breaks ties, so rows with equal sort values keep one order across pages.
    const [rows, [totals]] = await db.batch([
      selectRecords()
        .where(where)
        .orderBy(direction(sortColumns[page.sortBy]), direction(products.id))
        .limit(page.limit)
        .offset(page.offset),
      countOf(where),
    ]);
    return { rows, total: totals?.total ?? 0 };
  }

  return {
    async findById(id, options = {}) {
      const [record] = await selectRecords()
        .where(
          options.includeDeleted
            ? eq(products.id, id)
            : and(eq(products.id, id), isNull(products.deletedAt), isNull(users.deletedAt)),
        )
        .limit(1);
      return record;
    },

    listAfter(filter, page) {
      const direction = page.order === 'asc' ? asc : desc;
      return selectRecords()
        .where(and(filterConditions(filter), keysetAfter(page.after, page.order)))
        .orderBy(direction(products.createdAt), direction(products.id))
        .limit(page.limit);
    },

    listPage,

    async search(filter, request) {
      if (request.match === undefined) {
        const page = await listPage(filter, { ...request, sortBy: 'createdAt', order: 'desc' });
        return { rows: page.rows.map((row) => ({ ...row, snippet: null })), total: page.total };
      }
      const matching = matchOf(request.match, filter.category);
      const onRow = rowConditions(filter);
      // The page is ranked first, reading the row of a match only when a filter needs it; then
      // only the page's twenty are read, with their snippets (made for those alone) and owners.
      // CROSS JOIN fixes the loop order: the index first, then each row and owner by its key.
      const ranked = db
        .select({
          rowid: sql<number>`products_fts.rowid`.as('rowid'),
          score: sql`${relevance}`.as('score'),
        })
        .from(productsFts);
      const page = (
        onRow === undefined
          ? ranked.where(matching)
          : ranked
              .crossJoin(filterColumns)
              .where(and(matching, sql`${products.seq} = products_fts.rowid`, onRow))
      )
        .orderBy(sql`score`, newestFirst)
        .limit(request.limit)
        .offset(request.offset)
        .as('ranked');
      const counted =
        onRow === undefined
          ? db.select({ total: count() }).from(productsFts).where(matching)
          : db
              .select({ total: count() })
              .from(productsFts)
              .crossJoin(filterColumns)
              .where(and(matching, sql`${products.seq} = products_fts.rowid`, onRow));
      const [rows, [totals]] = await db.batch([
        db
          .select({ ...recordColumns, snippet: snippetOf })
          .from(page)
          .crossJoin(productsFts)
          .crossJoin(products)
          .crossJoin(users)
          .where(
            and(
              matching,
              sql`products_fts.rowid = ranked.rowid`,
              sql`${products.seq} = ranked.rowid`,
              eq(users.id, products.ownerId),
            ),
          )
          .orderBy(sql`ranked.score`, sql`ranked.rowid DESC`),
        counted,
      ]);
      return { rows, total: totals?.total ?? 0 };
    },

    async create(values, jobs) {
      const ownerIds = [...new Set(values.map((value) => value.ownerId))];
      const [inserted, ...rest] = await db.batch([
        db.insert(products).values(values).returning(),
        ...(jobs.length === 0 ? [] : [stageJobs(db, jobs)]),
        ...ownerIds.map((ownerId) => ownerOf(ownerId)),
      ]);
      const owners = new Map(
        (rest.slice(jobs.length === 0 ? 0 : 1) as ProductOwner[][])
          .flat()
          .map((owner) => [owner.id, owner]),
      );
      return (inserted as ProductRow[]).flatMap((product) => {
        const owner = owners.get(product.ownerId);
        return owner === undefined ? [] : [{ product, owner }];
      });
    },

    async update(current, changes, jobs) {
      const [rows] = await db.batch([
        db
          .update(products)
          .set(changes)
          .where(and(eq(products.id, current.id), eq(products.updatedAt, current.updatedAt)))
          .returning(),
        ...jobs.map((job) => stageJobIfChanged(db, job)),
      ]);
      return rows[0];
    },
  };
}
