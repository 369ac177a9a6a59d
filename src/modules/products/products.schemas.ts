// The products resource's request and response schemas. Bodies are strict: id, owner and the
// timestamps are the server's, and sending one is refused with 422 rather than ignored, so nothing
// is mass-assigned. Money is an integer of minor units with its currency, never a float.
import { z } from '@hono/zod-openapi';
import { currencies, productCategories } from '../../db/schema.ts';
import { maxCursorLength } from '../../lib/cursor.ts';
import { defaultPageSize, maxPageSize } from '../../lib/pagination.ts';
import { booleanQuery, falseByDefault } from '../../lib/query-params.ts';
import { publicUserSchema } from '../users/user-serializer.ts';

/** 1,000,000.00 in a two-decimal currency: a typo's extra zeros stop here. */
const maxPriceAmount = 100_000_000;
const maxStock = 1_000_000;
const maxTags = 10;
const maxBulkItems = 100;
/** Deeper offset pages cost a scan of every row before them: cursor pages go on from there. */
const maxOffsetPage = 1_000;

const exampleProductId = '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f';

export const productIdParamsSchema = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The product id, a UUID.',
    example: exampleProductId,
  }),
});

const priceAmount = z
  .int()
  .min(0)
  .max(maxPriceAmount)
  .openapi({
    description: `In the currency's minor units (cents): 1999 is 19.99. At most ${maxPriceAmount}.`,
    example: 4999,
  });

export const priceSchema = z
  .strictObject({
    amount: priceAmount,
    currency: z.enum(currencies).openapi({ description: 'ISO 4217.', example: 'EUR' }),
  })
  .openapi('Price');

// The document shows a pattern's source alone: JSON Schema's patterns are Unicode-aware already,
// and the generator would leave a `/u` flag stuck to the end of it.
const tagPattern = /^[\p{L}\p{N}][\p{L}\p{N}-]{0,29}$/u;
const tag = z
  .string()
  .trim()
  .toLowerCase()
  .regex(tagPattern, 'a tag is 1-30 letters, digits or hyphens')
  .openapi({ example: 'walnut', pattern: tagPattern.source });

// Control characters have no place in a product's text (search snippets mark matches with two of
// them); a description keeps its tabs and line breaks.
const noControls = /^[^\p{Cc}]*$/u;
const noControlsButLines = /^(?:[^\p{Cc}]|[\t\n\r])*$/u;

const productFields = {
  name: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(noControls, 'no control characters')
    .openapi({ example: 'Walnut desk lamp', pattern: noControls.source }),
  description: z
    .string()
    .trim()
    .max(5_000)
    .regex(noControlsButLines, 'no control characters but tabs and line breaks')
    .openapi({
      example: 'A warm, dimmable LED lamp with a solid walnut base.',
      pattern: noControlsButLines.source,
    }),
  category: z.enum(productCategories).openapi({ example: 'home' }),
  price: priceSchema,
  stock: z.int().min(0).max(maxStock).openapi({ description: 'Units available.', example: 12 }),
  tags: z
    .array(tag)
    .max(maxTags)
    .refine((tags) => new Set(tags).size === tags.length, 'tags must be unique')
    .openapi({ example: ['lighting', 'walnut'] }),
};

const newProductExample = {
  name: 'Walnut desk lamp',
  description: 'A warm, dimmable LED lamp with a solid walnut base.',
  category: 'home',
  price: { amount: 4999, currency: 'EUR' },
  stock: 12,
  tags: ['lighting', 'walnut'],
} as const;

export const newProductSchema = z
  .strictObject({
    ...productFields,
    description: productFields.description.default(''),
    stock: productFields.stock.default(0),
    tags: productFields.tags.default([]),
  })
  .openapi('NewProduct', { example: newProductExample });

export type NewProduct = z.infer<typeof newProductSchema>;

export const productChangesSchema = z
  .strictObject({
    name: productFields.name.optional(),
    description: productFields.description.optional(),
    category: productFields.category.optional(),
    price: productFields.price.optional(),
    stock: productFields.stock.optional(),
    tags: productFields.tags.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'name at least one field to change')
  .openapi('ProductChanges', { example: { price: { amount: 3999, currency: 'EUR' }, stock: 40 } });

export type ProductChanges = z.infer<typeof productChangesSchema>;

export const bulkCreateBodySchema = z
  .strictObject({
    items: z
      .array(newProductSchema)
      .min(1)
      .max(maxBulkItems)
      .openapi({
        description: `1 to ${maxBulkItems} products; an invalid one is named by its index (items.3.price.amount).`,
      }),
  })
  .openapi('BulkNewProducts', {
    example: { items: [newProductExample, { ...newProductExample, name: 'Oak desk lamp' }] },
  });

const instant = (description: string) => z.iso.datetime().openapi({ description });

export const productSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    category: z.enum(productCategories),
    price: priceSchema,
    stock: z.int(),
    tags: z.array(z.string()),
    owner: publicUserSchema,
    createdAt: instant('When the product was created (UTC).'),
    updatedAt: instant('When it last changed (UTC).'),
    deletedAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: 'When it was soft-deleted; null while it is listed.' }),
  })
  .openapi('Product');

export type ProductView = z.infer<typeof productSchema>;

export const productSortColumns = ['createdAt', 'updatedAt', 'name', 'price', 'stock'] as const;
export type ProductSortColumn = (typeof productSortColumns)[number];

const limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(maxPageSize)
  .default(defaultPageSize)
  .openapi({ description: `Items per page, at most ${maxPageSize}.`, example: 20 });

const page = z.coerce
  .number()
  .int()
  .min(1)
  .max(maxOffsetPage)
  .openapi({
    description: `Offset pagination: the page to answer, from 1 to ${maxOffsetPage}, with totals.`,
    example: 1,
  });

const priceBound = (description: string) =>
  z.coerce.number().int().min(0).max(maxPriceAmount).optional().openapi({ description });

/** What narrows a list or a search, besides its text. */
const filterFields = {
  category: z.enum(productCategories).optional().openapi({ description: 'Only this category.' }),
  minPrice: priceBound('Only prices of at least this many minor units.'),
  maxPrice: priceBound('Only prices of at most this many minor units.'),
  currency: z
    .enum(currencies)
    .optional()
    .openapi({ description: 'Only prices in this currency (price bounds compare minor units).' }),
  inStock: booleanQuery('true: only products in stock; false: only sold-out ones.').optional(),
  ownerId: z.uuid().optional().openapi({ description: "Only this user's products." }),
};

const priceRangeInOrder = (query: {
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
}) =>
  query.minPrice === undefined || query.maxPrice === undefined || query.minPrice <= query.maxPrice;
const priceRangeIssue = { message: 'minPrice must not exceed maxPrice', path: ['minPrice'] };

export const productListQuerySchema = z
  .object({
    ...filterFields,
    includeDeleted: falseByDefault(
      'Include soft-deleted products: needs credentials with products:admin (a session, or an ' +
        'API key with that scope), else 401 or 403.',
    ),
    limit,
    page: page.optional(),
    cursor: z
      .string()
      .min(1)
      .max(maxCursorLength)
      .optional()
      .openapi({
        description:
          'Cursor pagination: `pagination.nextCursor` of the previous page, for the same filters. ' +
          'Pages by createdAt, stable while products are added.',
      }),
    sortBy: z
      .enum(productSortColumns)
      .default('createdAt')
      .openapi({ description: 'Sorting on anything but createdAt pages by offset.' }),
    sortOrder: z.enum(['asc', 'desc']).default('desc'),
  })
  .refine(priceRangeInOrder, priceRangeIssue)
  .refine((query) => query.cursor === undefined || query.page === undefined, {
    message: 'use either cursor or page, not both',
    path: ['cursor'],
  })
  .refine((query) => query.cursor === undefined || query.sortBy === 'createdAt', {
    message: 'cursor pages are ordered by createdAt',
    path: ['cursor'],
  });

export type ProductListQuery = z.infer<typeof productListQuerySchema>;

/** Longer text is refused; what is kept of it is a few plain words (search-text.ts). */
export const maxSearchTextLength = 10_240;

export const productSearchQuerySchema = z
  .object({
    q: z
      .string()
      .max(maxSearchTextLength)
      .optional()
      .openapi({
        description:
          'Words to find in the name, description and tags; the last one, from 3 characters, ' +
          'also matches as a prefix (type-ahead). Punctuation and search operators are read as ' +
          'plain text.',
        example: 'walnut lam',
      }),
    ...filterFields,
    limit,
    page: page.default(1),
  })
  .refine(priceRangeInOrder, priceRangeIssue);

export type ProductSearchQuery = z.infer<typeof productSearchQuerySchema>;

export const searchHitSchema = productSchema
  .extend({
    snippet: z.string().nullable().openapi({
      description:
        'The best-matching passage, HTML-escaped, with matches in <mark>; null without text.',
      example: 'Walnut desk <mark>lamp</mark>',
    }),
  })
  .openapi('ProductSearchHit');

export type SearchHit = z.infer<typeof searchHitSchema>;

// ---- Analytics (products-analytics.*.ts) ----
// Prices come in several currencies, and an average across currencies means nothing: every price
// figure is given per currency (`byCurrency`); counts cover every currency.

const productCount = (description: string) => z.int().min(0).openapi({ description, example: 3 });

const currencyFigures = {
  currency: z.enum(currencies).openapi({ example: 'EUR' }),
  count: productCount('Products priced in this currency.'),
  averagePrice: z.int().min(0).openapi({
    description: 'The mean price in minor units, rounded to an integer (half away from zero).',
    example: 2500,
  }),
};

const byCurrency = <T extends z.ZodType>(description: string, figures: T) =>
  z.array(figures).openapi({
    description: `${description} One entry per currency in use, most products first, ties by code.`,
  });

const currencyPriceRangeSchema = z
  .object({
    ...currencyFigures,
    minPrice: z.int().min(0).openapi({ description: 'In minor units.', example: 999 }),
    maxPrice: z.int().min(0).openapi({ description: 'In minor units.', example: 4999 }),
  })
  .openapi('CurrencyPriceRange');

const currencyAverageSchema = z.object(currencyFigures).openapi('CurrencyAveragePrice');

/** How many months `monthly` covers, the current one last. */
export const analyticsMonths = 12;

export const productAnalyticsSchema = z
  .object({
    summary: z.object({
      count: productCount('Listed products, in every currency.'),
      byCurrency: byCurrency('Prices per currency.', currencyPriceRangeSchema),
    }),
    byCategory: z
      .array(
        z.object({
          category: z.enum(productCategories),
          count: productCount('Listed products of this category, in every currency.'),
          byCurrency: byCurrency('Average prices per currency.', currencyAverageSchema),
        }),
      )
      .openapi({
        description: 'Only categories with products, most products first, ties by name.',
      }),
    monthly: z
      .array(
        z.object({
          month: z
            .string()
            .regex(/^\d{4}-\d\d$/)
            .openapi({ description: 'A calendar month, UTC.', example: '2026-05' }),
          count: productCount('Listed products created that month, in every currency.'),
          byCurrency: byCurrency('Average prices per currency.', currencyAverageSchema),
        }),
      )
      .length(analyticsMonths)
      .openapi({
        description:
          `The last ${analyticsMonths} calendar months (UTC), oldest first, ending with the ` +
          'current one; a month without products is there with zeros.',
      }),
  })
  .openapi('ProductAnalytics');

export type ProductAnalytics = z.infer<typeof productAnalyticsSchema>;

export const adminProductAnalyticsQuerySchema = z.object({
  userId: z
    .uuid()
    .optional()
    .openapi({
      description:
        'Only this user’s products. An unknown or soft-deleted user has no listed products: the ' +
        'figures are zeros, not a 404. Without it, every user’s.',
      example: '8a2f4c6e-1b3d-4e5f-9a7b-0c1d2e3f4a5b',
    }),
});
