// The catalogue's analytics: how many listed products there are and what they cost, overall, per
// category and per calendar month (UTC), for one owner or for everyone. No HTTP here.
//
// Products are priced in several currencies, and an average across currencies means nothing, so
// every price figure is given per currency while counts cover them all. One computation is one
// database batch, cached for a minute in the shared `product-queries` group: every product write
// bumps that group, so the figures never lag a write. The key carries the current month, since
// the monthly window moves with it.
import type { Currency } from '../../db/schema.ts';
import type { Cache } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import { analyticsMonths, type ProductAnalytics } from './products.schemas.ts';
import { productQueriesCacheGroup } from './products.service.ts';
import type {
  AnalyticsRows,
  CategoryRow,
  MonthRow,
  ProductAnalyticsRepository,
} from './products-analytics.repository.ts';

export interface ProductAnalyticsServiceDeps {
  analytics: ProductAnalyticsRepository;
  cache: Cache;
  clock: Clock;
}

const analyticsTtlSeconds = 60;

/** Whose products are counted, and the name their figures are cached under. */
export interface AnalyticsScope {
  /** undefined: every owner's. */
  ownerId: string | undefined;
  /** Any name that always stands for this same scope. */
  entry: string;
}

export const everyonesProducts: AnalyticsScope = { ownerId: undefined, entry: 'all' };

/**
 * One owner's products, cached under the owner's name unless `entry` names them otherwise (an API
 * key's hash does, before the key's record says whose it is).
 */
export function ownersProducts(ownerId: string, entry = `user:${ownerId}`): AnalyticsScope {
  return { ownerId, entry };
}

/** The first instant of the month `monthsBack` months before the one `now` falls in (UTC). */
function monthStart(now: Date, monthsBack: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsBack, 1));
}

/** `YYYY-MM`, as the database names a month. */
function monthName(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** The cache key, in the shared query group, of an entry's figures in the month of `now`. */
export function analyticsCacheKey(now: Date, entry: string): string {
  return `analytics:${monthName(now)}:${entry}`;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Most products first, then by name: a stable order for equal counts. */
function mostFirst<T extends { count: number }>(nameOf: (item: T) => string) {
  return (a: T, b: T) => b.count - a.count || byName(nameOf(a), nameOf(b));
}

const currencyOrder = mostFirst<{ currency: Currency; count: number }>(
  (figures) => figures.currency,
);

function groupBy<K, R>(rows: readonly R[], keyOf: (row: R) => K): Map<K, R[]> {
  const groups = new Map<K, R[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  return groups;
}

/** Counts summed over the currencies, each currency's average apart. */
function perCurrency(rows: readonly (CategoryRow | MonthRow)[]) {
  return {
    count: rows.reduce((sum, row) => sum + row.count, 0),
    byCurrency: rows
      .map(({ currency, count, averagePrice }) => ({ currency, count, averagePrice }))
      .sort(currencyOrder),
  };
}

function analyticsOf(rows: AnalyticsRows, months: string[]): ProductAnalytics {
  const byMonth = groupBy(rows.monthly, (row) => row.month);
  return {
    summary: {
      count: rows.summary.reduce((sum, row) => sum + row.count, 0),
      byCurrency: [...rows.summary].sort(currencyOrder),
    },
    byCategory: [...groupBy(rows.byCategory, (row) => row.category)]
      .map(([category, categoryRows]) => ({ category, ...perCurrency(categoryRows) }))
      .sort(mostFirst((figures) => figures.category)),
    monthly: months.map((month) => ({ month, ...perCurrency(byMonth.get(month) ?? []) })),
  };
}

/** The figures of the scope's listed products, from the cache when it has them. */
export function productAnalytics(
  deps: ProductAnalyticsServiceDeps,
  scope: AnalyticsScope,
): Promise<ProductAnalytics> {
  const now = deps.clock.now();
  return deps.cache
    .group(productQueriesCacheGroup)
    .getOrSet(analyticsCacheKey(now, scope.entry), analyticsTtlSeconds, async () => {
      const months = Array.from({ length: analyticsMonths }, (_, index) =>
        monthName(monthStart(now, analyticsMonths - 1 - index)),
      );
      const rows = await deps.analytics.aggregates({
        ownerId: scope.ownerId,
        from: monthStart(now, analyticsMonths - 1),
        until: monthStart(now, -1),
      });
      return analyticsOf(rows, months);
    });
}
