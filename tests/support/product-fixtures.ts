// Products as the catalogue's tests send and read them: valid bodies to vary one field at a time,
// the shapes the answers take, and the walk a client makes through cursor pages. Requests go
// through whatever sends them (a Worker in workerd, an app in-process): only status and text are read.
import { expect } from 'vitest';

export interface ProductView {
  id: string;
  name: string;
  description: string;
  category: string;
  price: { amount: number; currency: string };
  stock: number;
  tags: string[];
  owner: { id: string; name: string; createdAt: string };
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

export interface CursorPagination {
  limit: number;
  hasNext: boolean;
  nextCursor: string | null;
}

export interface OffsetPagination {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
  hasNext: boolean;
  hasPrev: boolean;
}

export interface ProductPage<P> {
  data: (ProductView & { snippet?: string | null })[];
  pagination: P;
}

/** What a page read needs of a response: Miniflare's and fetch's both fit. */
export interface ResponseLike {
  status: number;
  text(): Promise<string>;
}

/** Sends GET `path` as some client; the caller picks the credentials and the address. */
export type Get = (path: string) => Promise<ResponseLike>;

let made = 0;

/** A word no other product of this run holds, of one length, so no word is a prefix of another. */
export function uniqueWord(prefix = 'w'): string {
  made += 1;
  return `${prefix}${String(made).padStart(5, '0')}${crypto.randomUUID().slice(0, 6)}`;
}

/** A valid new product; `overrides` replace its fields (undefined removes one). */
export function productBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  made += 1;
  const body: Record<string, unknown> = {
    name: `Walnut lamp ${made}`,
    description: 'A warm, dimmable LED lamp with a solid walnut base.',
    category: 'home',
    price: { amount: 4999, currency: 'EUR' },
    stock: 12,
    tags: ['lighting', 'walnut'],
    ...overrides,
  };
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
  return body;
}

/** A query string from parameters; undefined ones are left out. */
export function queryOf(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  return search.toString();
}

/** A 200 page of `path`, its envelope checked. */
export async function readPage<P>(get: Get, path: string): Promise<ProductPage<P>> {
  const response = await get(path);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as ProductPage<P> & { success: boolean };
  expect(body.success).toBe(true);
  return body;
}

/** Compares products as a keyset page orders them: createdAt, then id, in one direction. */
export function keysetOrder(order: 'asc' | 'desc') {
  const sign = order === 'asc' ? 1 : -1;
  return (a: Pick<ProductView, 'createdAt' | 'id'>, b: Pick<ProductView, 'createdAt' | 'id'>) => {
    const byTime = Date.parse(a.createdAt) - Date.parse(b.createdAt);
    if (byTime !== 0) return sign * byTime;
    return sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
}

export interface CursorWalk {
  pages: ProductView[][];
  /** Every product in the order the pages gave them. */
  products: ProductView[];
  /** The last page's pagination. */
  last: CursorPagination;
}

/**
 * Follows nextCursor from the first page of /v1/products?`query` (from its `cursor`, if it has one)
 * to the last; `afterPage(n)` runs
 * once page n (from 1) is read, before the next is asked for. Stops with a failure past `maxPages`.
 */
export async function walkCursor(
  get: Get,
  query: Record<string, string | number | boolean | undefined>,
  afterPage: (page: number) => Promise<void> = async () => {},
  maxPages = 100,
): Promise<CursorWalk> {
  const pages: ProductView[][] = [];
  let cursor = typeof query.cursor === 'string' ? query.cursor : undefined;
  for (;;) {
    const page = await readPage<CursorPagination>(
      get,
      `/v1/products?${queryOf({ ...query, cursor })}`,
    );
    pages.push(page.data);
    await afterPage(pages.length);
    const { pagination } = page;
    expect(Object.keys(pagination).sort()).toEqual(['hasNext', 'limit', 'nextCursor']);
    if (!pagination.hasNext) {
      expect(pagination.nextCursor).toBeNull();
      return { pages, products: pages.flat(), last: pagination };
    }
    expect(pagination.nextCursor).toEqual(expect.any(String));
    if (pages.length >= maxPages) throw new Error(`more than ${maxPages} pages`);
    cursor = pagination.nextCursor ?? undefined;
  }
}

/** Ids that occur more than once. */
export function duplicatesOf(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    if (seen.has(id)) return true;
    seen.add(id);
    return false;
  });
}
