// Offset pagination (the seeds' paginate helper): page and limit with a maximum, a sort column
// from an allow-list and a direction, read from the query string, and the `pagination` block of
// the envelope computed from the total.
import { z } from '@hono/zod-openapi';
import type { Pagination } from './envelope.ts';

export const maxPageSize = 100;
export const defaultPageSize = 20;

export type SortOrder = 'asc' | 'desc';

export interface PageRequest<S extends string = string> {
  page: number;
  limit: number;
  sortBy: S;
  sortOrder: SortOrder;
}

/**
 * The query parameters of a paginated list. Only the named columns can be sorted on, so a client
 * never chooses what goes into ORDER BY.
 */
export function pageQuerySchema<const S extends readonly [string, ...string[]]>(
  sortable: S,
  defaults: { sortBy: S[number]; sortOrder: SortOrder },
) {
  return z.object({
    page: z.coerce
      .number()
      .int()
      .min(1)
      .default(1)
      .openapi({ description: 'The page to answer, from 1.', example: 1 }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(maxPageSize)
      .default(defaultPageSize)
      .openapi({ description: `Items per page, at most ${maxPageSize}.`, example: 20 }),
    sortBy: z
      .enum(sortable)
      .default(defaults.sortBy)
      .openapi({ description: 'The column to sort on.' }),
    sortOrder: z
      .enum(['asc', 'desc'])
      .default(defaults.sortOrder)
      .openapi({ description: 'The sort direction.' }),
  });
}

/** How many rows come before the page. */
export function offsetOf(page: Pick<PageRequest, 'page' | 'limit'>): number {
  return (page.page - 1) * page.limit;
}

export function paginationOf(page: Pick<PageRequest, 'page' | 'limit'>, total: number): Pagination {
  const totalPages = Math.ceil(total / page.limit);
  return {
    page: page.page,
    limit: page.limit,
    total,
    totalPages,
    hasNext: page.page < totalPages,
    hasPrev: page.page > 1,
  };
}
