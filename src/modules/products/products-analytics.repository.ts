// SQL for the catalogue's analytics: three aggregates, each grouped by currency as well (an
// average across currencies means nothing), sent as one batch: one round trip. "Listed" is the
// lists' own condition (filterConditions): the product and its owner not soft-deleted.
import { and, count, eq, gte, lt, sql } from 'drizzle-orm';
import { type Currency, type ProductCategory, products, users } from '../../db/schema.ts';
import type { Database } from '../../platform/database.ts';
import { filterConditions } from './products.repository.ts';

export interface CurrencySummaryRow {
  currency: Currency;
  count: number;
  averagePrice: number;
  minPrice: number;
  maxPrice: number;
}

export interface CategoryRow {
  category: ProductCategory;
  currency: Currency;
  count: number;
  averagePrice: number;
}

export interface MonthRow {
  /** `YYYY-MM`, UTC. */
  month: string;
  currency: Currency;
  count: number;
  averagePrice: number;
}

export interface AnalyticsRows {
  summary: CurrencySummaryRow[];
  byCategory: CategoryRow[];
  monthly: MonthRow[];
}

export interface AnalyticsRequest {
  /** One owner's products; undefined, everyone's. */
  ownerId: string | undefined;
  /** The months counted per month: created at or after `from` and before `until`. */
  from: Date;
  until: Date;
}

export interface ProductAnalyticsRepository {
  aggregates(request: AnalyticsRequest): Promise<AnalyticsRows>;
}

// Minor units are integers: the average is rounded in SQL, half away from zero.
const averagePrice = sql<number>`cast(round(avg(${products.priceAmount})) as integer)`.mapWith(
  Number,
);
const minPrice = sql<number>`min(${products.priceAmount})`.mapWith(Number);
const maxPrice = sql<number>`max(${products.priceAmount})`.mapWith(Number);
// created_at holds milliseconds; the month is UTC's.
const month = sql<string>`strftime('%Y-%m', ${products.createdAt} / 1000, 'unixepoch')`;

export function createProductAnalyticsRepository(db: Database): ProductAnalyticsRepository {
  return {
    async aggregates({ ownerId, from, until }) {
      const where = filterConditions({ includeDeleted: false, ownerId });
      const [summary, byCategory, monthly] = await db.batch([
        db
          .select({
            currency: products.priceCurrency,
            count: count(),
            averagePrice,
            minPrice,
            maxPrice,
          })
          .from(products)
          .innerJoin(users, eq(users.id, products.ownerId))
          .where(where)
          .groupBy(products.priceCurrency),
        db
          .select({
            category: products.category,
            currency: products.priceCurrency,
            count: count(),
            averagePrice,
          })
          .from(products)
          .innerJoin(users, eq(users.id, products.ownerId))
          .where(where)
          .groupBy(products.category, products.priceCurrency),
        db
          .select({ month, currency: products.priceCurrency, count: count(), averagePrice })
          .from(products)
          .innerJoin(users, eq(users.id, products.ownerId))
          .where(and(where, gte(products.createdAt, from), lt(products.createdAt, until)))
          .groupBy(month, products.priceCurrency),
      ]);
      return { summary, byCategory, monthly };
    },
  };
}
