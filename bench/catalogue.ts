// The catalogue's budgets at 100,000 products (DESIGN.md, Budgets): search p95 <= 10 ms at the
// database, a cursor page 1,000 costs what page 1 costs, exports stream with flat memory. One local
// stack in a child process, seeded once with the catalogue `npm run db:seed -- --products 100000`
// makes (seed 1, dated before a fixed day): every run searches the same rows.
//
// "At the database" is the engine alone: the statements the app sends, recorded from drizzle as
// the repository builds them (through a client that records them and sends nothing), run in this
// process with the `libsql` package on the stack's database file, the engine its server runs.
// Beside them, the same repository calls through the app's own client over HTTP, which add the
// protocol and the server. Each search and page is timed on both paths back to back.
import { join } from 'node:path';
import {
  type Client,
  createClient,
  type InStatement,
  type InValue,
  type ResultSet,
} from '@libsql/client/http';
import { and, count, desc, eq, like, or } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/libsql/http';
import Database from 'libsql';
import { type ProductCategory, products, users } from '../src/db/schema.ts';
import { seedDatabase } from '../src/entries/seed.ts';
import {
  createProductsRepository,
  filterConditions,
  type KeysetPosition,
  type ProductFilter,
  type ProductRecord,
  type ProductsRepository,
} from '../src/modules/products/products.repository.ts';
import { matchExpressionOf } from '../src/modules/products/search-text.ts';
import { signedInUsers } from '../tests/support/users-fixtures.ts';
import { benchApp, median, withStackProcess } from './app-on-stack.ts';
import type { Benchmark, BenchmarkReport } from './benchmark.ts';
import { compareExports } from './catalogue-export.ts';

const productCount = 100_000;
const productSeed = 1;
const seededBefore = new Date('2026-01-01T00:00:00.000Z');

const searchBudgetP95Ms = 10;
const cursorBudgetRatio = 1.5;

/** The API's default page size, and the search's first page. */
const pageSize = 20;
const deepPage = 1_000;
const deepOffset = (deepPage - 1) * pageSize;
const pageWarmUpRounds = 4;
const pageRounds = 12;

/** Searches run on both paths before any is timed: the first statements pay for cold pages. */
const searchWarmUp = 20;
/** A LIKE scan of 100,000 rows costs about half a second: every fifth search gets one. */
const likeEvery = 5;

/** The local stack keeps its database here (local-stack/stack.ts; startStackProcess's folder). */
const databaseFile = (workDir: string) => join(workDir, 'stack', 'libsql.db');

// The search mix: what a shop's search box receives. Common words match thousands of products,
// rare ones a few hundred at most and typos none, type-ahead sends each keystroke's prefix; about a
// third of the searches carry price or stock filters, and some are made inside a category.

type SearchKind =
  | 'common words'
  | 'rare words or typos'
  | 'two or three words'
  | 'type-ahead prefixes'
  | 'in a category';

interface SearchCase {
  kind: SearchKind;
  text: string;
  match: string;
  filter: ProductFilter;
}

const listed: ProductFilter = { includeDeleted: false };

/** Filters taken in turn by the searches made outside a category: three in eight filter. */
const filterTurns: ProductFilter[] = [
  listed,
  listed,
  { ...listed, inStock: true },
  listed,
  listed,
  { ...listed, minPrice: 2_000, maxPrice: 10_000, currency: 'EUR' },
  listed,
  { ...listed, inStock: true, minPrice: 5_000, maxPrice: 30_000, currency: 'USD' },
];

// biome-ignore format: filled word lists
const commonWords = ['gift', 'wireless', 'leather', 'steel', 'cotton', 'organic', 'warranty',
  'black', 'recycled', 'compact', 'portable', 'handmade', 'travel', 'outdoor', 'wool', 'oak',
  'classic', 'waterproof', 'lightweight', 'natural', 'vegan', 'modern', 'kitchen', 'set', 'design',
  'stainless', 'glass', 'comfort', 'premium', 'eco', 'rechargeable', 'home', 'style', 'size',
  'guarantee', 'aluminium', 'walnut', 'linen', 'silver', 'coffee'];
// biome-ignore format: filled word lists
const rareWords = ['manuka', 'cajon', 'ukulele', 'kettlebell', 'sencha', 'cufflinks', 'brooch',
  'dollhouse', 'koa', 'rosehip', 'jojoba', 'anklet', 'locket', 'hammock', 'shredder', 'stapler',
  'padel', 'goggles', 'kite', 'tofu', 'matcha', 'flosser', 'inflator', 'sunshade', 'wok', 'larch',
  'nubuck', 'percale', 'durum', 'spelt', 'cedar', 'squalane', 'niacinamide', 'cork', 'espresso',
  'kettel', 'headphnes', 'iphone', 'playstation', 'lego'];
// biome-ignore format: filled word lists
const twoWordTexts = ['cast iron', 'running shoes', 'wireless earbuds', 'chef knife', 'yoga mat',
  'coffee beans', 'olive oil', 'dog bed', 'merino sweater', 'leather boots', 'standing desk',
  'bluetooth speaker', 'green tea', 'wool blanket', 'cast iron skillet', 'noise cancelling',
  'office chair', 'coffee table', 'hiking backpack', 'sleeping bag', 'bike helmet', 'water bottle',
  'rain jacket', 'face serum', 'hair dryer', 'dark chocolate', 'cat tree', 'gold necklace',
  'silver ring', 'board game', 'acoustic guitar', 'usb microphone', 'desk lamp', 'fountain pen',
  'dash cam', 'phone mount', 'garden hose', 'raised bed', 'solar lights', 'throw blanket',
  'table lamp', 'area rug', 'laptop stand', 'mechanical keyboard', 'gaming mouse', 'external ssd',
  'smart scale', 'protein powder', 'first aid', 'foam roller'];
// Keystroke by keystroke, from the two characters the prefix index starts at.
// biome-ignore format: filled word lists
const typeAheadTexts = ['he', 'hea', 'head', 'sk', 'ski', 'skil', 'ch', 'che', 'chel', 'wa', 'wat',
  'watc', 'bl', 'blu', 'blue', 'so', 'sof', 'sofa', 'ke', 'ket', 'kett', 'la', 'lap', 'lapt', 'ca',
  'cas', 'cast', 'yo', 'yog', 'mo', 'mon', 'moni', 'gu', 'gui', 'guit', 'de', 'des', 'desk', 'ru',
  'run'];
// biome-ignore format: one search to a pair
const categoryTexts: [string, ProductCategory][] = [['steel', 'kitchen'], ['leather', 'shoes'],
  ['wireless', 'electronics'], ['oak', 'furniture'], ['organic', 'grocery'], ['cotton', 'clothing'],
  ['silver', 'jewelry'], ['waterproof', 'outdoors'], ['guitar', 'music'], ['notebook', 'office'],
  ['dog', 'pets'], ['serum', 'beauty'], ['puzzle', 'toys'], ['novel', 'books'],
  ['charger', 'automotive'], ['planter', 'garden'], ['yoga mat', 'sports'], ['laptop', 'computers'],
  ['lamp', 'home'], ['protein', 'health'], ['sk', 'kitchen'], ['bo', 'shoes'],
  ['he', 'electronics'], ['ch', 'furniture'], ['wool', 'home'], ['gift', 'beauty'],
  ['running', 'shoes'], ['cast iron', 'kitchen'], ['tent', 'outdoors'], ['monitor', 'computers']];

function searchCase(kind: SearchKind, text: string, filter: ProductFilter): SearchCase {
  const match = matchExpressionOf(text);
  if (match === undefined) throw new Error(`"${text}" holds no word to search`);
  return { kind, text, match, filter };
}

function searchMix(): SearchCase[] {
  const turns = (kind: SearchKind, texts: string[]) =>
    texts.map((text, i) => searchCase(kind, text, filterTurns[i % filterTurns.length] ?? listed));
  const mix = [
    ...turns('common words', commonWords),
    ...turns('rare words or typos', rareWords),
    ...turns('two or three words', twoWordTexts),
    ...turns('type-ahead prefixes', typeAheadTexts),
    ...categoryTexts.map(([text, category]) =>
      searchCase('in a category', text, { ...listed, category }),
    ),
  ];
  // Kinds alternate, as they would in a log, so no kind meets the machine in one mood only.
  return mix
    .map((search, i) => ({ search, key: (i * 7919) % mix.length }))
    .sort((a, b) => a.key - b.key)
    .map(({ search }) => search);
}

/** One statement as drizzle hands it to the client. */
interface Statement {
  sql: string;
  args: InValue[];
}

function statementOf(stmt: InStatement): Statement {
  if (typeof stmt === 'string') return { sql: stmt, args: [] };
  if (stmt.args !== undefined && !Array.isArray(stmt.args)) {
    throw new Error(`named arguments where drizzle sends positional ones: ${stmt.sql}`);
  }
  return { sql: stmt.sql, args: stmt.args ?? [] };
}

const noRows: ResultSet = {
  columns: [],
  columnTypes: [],
  rows: [],
  rowsAffected: 0,
  lastInsertRowid: undefined,
  toJSON: () => ({}),
};

/**
 * The repository over a client that records each statement and answers no rows: the SQL and
 * arguments the app's repository sends for a call, without sending them.
 */
function statementRecorder() {
  let recorded: Statement[] = [];
  const client: Client = new Proxy(createClient({ url: 'http://statement-recorder.invalid' }), {
    get(target, key) {
      if (key === 'execute') {
        return async (stmt: InStatement) => {
          recorded.push(statementOf(stmt));
          return noRows;
        };
      }
      if (key === 'batch') {
        return async (stmts: InStatement[]) => {
          recorded.push(...stmts.map(statementOf));
          return stmts.map(() => noRows);
        };
      }
      return Reflect.get(target, key);
    },
  });
  const db = drizzle(client);
  const repository = createProductsRepository(db);
  return {
    db,
    async statementsOf(call: (repository: ProductsRepository) => Promise<unknown>) {
      recorded = [];
      await call(repository);
      return recorded;
    },
  };
}

/** libSQL in this process on the stack's database file: the engine alone, no protocol. */
function openEngine(file: string) {
  const db = new Database(file);
  return {
    /** Prepares and runs each statement in turn; answers the time taken and each one's rows. */
    run(statements: Statement[]): { ms: number; results: unknown[][][] } {
      const started = performance.now();
      const results = statements.map(
        ({ sql, args }) => db.prepare(sql).raw(true).all(args) as unknown[][],
      );
      return { ms: performance.now() - started, results };
    },
    /** The owner whose product count is nearest `target`. */
    ownerNear(target: number): string {
      const [row] = db
        .prepare(
          `SELECT "${products.ownerId.name}", count(*) AS n FROM "products" ` +
            'GROUP BY 1 ORDER BY abs(n - ?) LIMIT 1',
        )
        .raw(true)
        .all([target]) as [string][];
      if (row === undefined) throw new Error('the catalogue has no products');
      return row[0];
    },
    close: () => db.close(),
  };
}

type Engine = ReturnType<typeof openEngine>;
type Recorder = ReturnType<typeof statementRecorder>;

/** The p-quantile by nearest rank: the least value with a share p of them at or below it. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

const ms = (value: number) =>
  `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`;
const times = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(0)}x`;
const thousands = (value: number) => value.toLocaleString('en-US');

/**
 * What a LIKE scan would do for the same search: each word anywhere in the name or description,
 * the same filters, newest first, with its count; the repository's joins and columns.
 */
function likeScan(recorder: Recorder, search: SearchCase): Statement[] {
  const words = [...search.match.matchAll(/"([^"]*)"/g)].map(([, word = '']) => word);
  const where = and(
    filterConditions(search.filter),
    ...words.map((word) =>
      or(like(products.name, `%${word}%`), like(products.description, `%${word}%`)),
    ),
  );
  const owner = { id: users.id, name: users.name, createdAt: users.createdAt };
  return [
    recorder.db
      .select({ product: products, owner })
      .from(products)
      .innerJoin(users, eq(users.id, products.ownerId))
      .where(where)
      .orderBy(desc(products.createdAt))
      .limit(pageSize)
      .toSQL(),
    recorder.db
      .select({ total: count() })
      .from(products)
      .innerJoin(users, eq(users.id, products.ownerId))
      .where(where)
      .toSQL(),
  ].map(({ sql, params }) => ({ sql, args: params as InValue[] }));
}

interface SearchTiming {
  search: SearchCase;
  engineMs: number;
  httpMs: number;
  total: number;
  likeMs?: number;
}

async function measureSearch(
  engine: Engine,
  recorder: Recorder,
  repository: ProductsRepository,
): Promise<BenchmarkReport> {
  const mix = searchMix();
  const request = (search: SearchCase) => ({ match: search.match, limit: pageSize, offset: 0 });
  // One at a time: the recorder keeps the statements of the call under way.
  const prepared = [];
  for (const [i, search] of mix.entries()) {
    prepared.push({
      search,
      statements: await recorder.statementsOf((r) => r.search(search.filter, request(search))),
      like: i % likeEvery === 0 ? likeScan(recorder, search) : undefined,
    });
  }
  for (const { search, statements } of prepared.slice(0, searchWarmUp)) {
    engine.run(statements);
    await repository.search(search.filter, request(search));
  }
  const timings: SearchTiming[] = [];
  for (const { search, statements, like: likeStatements } of prepared) {
    const { ms: engineMs, results } = engine.run(statements);
    const started = performance.now();
    const answer = await repository.search(search.filter, request(search));
    const httpMs = performance.now() - started;
    // The recorded statements must be what the repository ran: the same rows and total.
    const [rows = [], [[total] = []] = []] = results;
    if (rows.length !== answer.rows.length || total !== answer.total) {
      throw new Error(
        `"${search.text}": the engine found ${rows.length} rows of ${String(total)}, the ` +
          `repository ${answer.rows.length} of ${answer.total}`,
      );
    }
    timings.push({
      search,
      engineMs,
      httpMs,
      total: answer.total,
      ...(likeStatements !== undefined && { likeMs: engine.run(likeStatements).ms }),
    });
  }

  const engineMs = timings.map((t) => t.engineMs);
  const p95 = percentile(engineMs, 0.95);
  const within = p95 <= searchBudgetP95Ms;
  const row = (label: string, values: number[], tail = '') =>
    `  ${label.padEnd(42)} ${ms(median(values)).padStart(9)} ` +
    `${ms(percentile(values, 0.95)).padStart(9)} ${ms(Math.max(...values)).padStart(9)}${tail}`;
  const scanned = timings.filter((t) => t.likeMs !== undefined);
  const likeMs = scanned.map((t) => t.likeMs ?? 0);
  const ftsOfScanned = scanned.map((t) => t.engineMs);
  const kinds = [...new Set(mix.map((search) => search.kind))];
  const filtered = mix.filter((search) => search.filter !== listed).length;
  const matches = timings.map((t) => t.total);
  return {
    lines: [
      `search: ${mix.length} searches, the repository's search as the API runs it (limit ` +
        `${pageSize}, page 1: rows and total, two statements in one batch), each timed once on ` +
        `both paths after ${searchWarmUp} uncounted`,
      `  ${kinds.map((kind) => `${mix.filter((s) => s.kind === kind).length} ${kind}`).join(', ')}; ` +
        `${filtered} filtered (category, price or stock); products matched: median ` +
        `${thousands(median(matches))}, most ${thousands(Math.max(...matches))}`,
      `  ${''.padEnd(42)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'max'.padStart(9)}`,
      row(
        'FTS5 at the engine (libsql in-process)',
        engineMs,
        `   budget p95 <= ${searchBudgetP95Ms} ms: ${within ? 'within budget' : 'over budget'}`,
      ),
      row(
        "FTS5 through the app's client over HTTP",
        timings.map((t) => t.httpMs),
        '   (reported)',
      ),
      row(
        `LIKE scan at the engine, every ${likeEvery}th search`,
        likeMs,
        `   LIKE/FTS5 on these ${scanned.length}: p50 ` +
          `${times(median(likeMs) / median(ftsOfScanned))}, ` +
          `p95 ${times(percentile(likeMs, 0.95) / percentile(ftsOfScanned, 0.95))}`,
      ),
      row(`FTS5 at the engine, the same ${scanned.length}`, ftsOfScanned),
      '  FTS5 at the engine, by kind:',
      ...kinds.map((kind) =>
        row(
          `  ${kind}`,
          timings.filter((t) => t.search.kind === kind).map((t) => t.engineMs),
        ),
      ),
    ],
    overBudget: within
      ? []
      : [
          `search p95 at the database ${ms(p95)} > ${searchBudgetP95Ms} ms ` +
            `(p50 ${ms(median(engineMs))}, max ${ms(Math.max(...engineMs))})`,
        ],
  };
}

interface PageVariant {
  label: string;
  call: (repository: ProductsRepository) => Promise<unknown>;
}

/** A page's ids, without the row listAfter reads to tell whether another page follows. */
const idsOf = (records: ProductRecord[]) =>
  records
    .slice(0, pageSize)
    .map((record) => record.product.id)
    .join();

async function measurePages(
  engine: Engine,
  recorder: Recorder,
  repository: ProductsRepository,
): Promise<BenchmarkReport> {
  // Page 1,000 starts after the last row of page 999.
  const { rows } = await repository.listPage(listed, {
    limit: 1,
    offset: deepOffset - 1,
    sortBy: 'createdAt',
    order: 'desc',
  });
  const last = rows[0]?.product;
  if (last === undefined) throw new Error(`the list has no row at offset ${deepOffset - 1}`);
  const after: KeysetPosition = { createdAt: last.createdAt.getTime(), id: last.id };
  const cursorPage = (r: ProductsRepository) =>
    r.listAfter(listed, { limit: pageSize, order: 'desc', after });
  const offsetPage = (r: ProductsRepository) =>
    r.listPage(listed, { limit: pageSize, offset: deepOffset, sortBy: 'createdAt', order: 'desc' });
  const variants: PageVariant[] = [
    { label: 'page 1', call: (r) => r.listAfter(listed, { limit: pageSize, order: 'desc' }) },
    { label: `cursor page ${thousands(deepPage)}`, call: cursorPage },
    { label: `offset page ${thousands(deepPage)}`, call: offsetPage },
  ];
  const statements = [];
  for (const variant of variants) statements.push(await recorder.statementsOf(variant.call));
  const cursorIds = idsOf(await cursorPage(repository));
  if (cursorIds !== idsOf((await offsetPage(repository)).rows)) {
    throw new Error(`cursor and offset page ${deepPage} hold different rows`);
  }

  const http: number[][] = variants.map(() => []);
  const atEngine: number[][] = variants.map(() => []);
  for (let round = 0; round < pageWarmUpRounds + pageRounds; round += 1) {
    // Page 1 and the cursor page take turns to go first, so each follows the offset page, whose
    // 400 ms of work leave the next request slower, as often as the other.
    for (const i of round % 2 === 0 ? [0, 1, 2] : [1, 0, 2]) {
      const variant = variants[i];
      const statementsOfVariant = statements[i];
      if (variant === undefined || statementsOfVariant === undefined) continue;
      const started = performance.now();
      await variant.call(repository);
      const httpMs = performance.now() - started;
      const { ms: engineMs } = engine.run(statementsOfVariant);
      if (round < pageWarmUpRounds) continue;
      http[i]?.push(httpMs);
      atEngine[i]?.push(engineMs);
    }
  }
  const medians = (samples: number[][]) => samples.map(median);
  const [page1 = 0, cursor = 0, offset = 0] = medians(http);
  const [enginePage1 = 0, engineCursor = 0, engineOffset = 0] = medians(atEngine);
  const ratio = cursor / page1;
  const within = ratio <= cursorBudgetRatio;
  const header = ['', ...variants.map((v) => v.label), 'cursor/page 1', 'offset/page 1'];
  const widths = [42, 9, 19, 19, 14, 14];
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(' ');
  return {
    lines: [
      `pages: the default list (no filters, newest first), limit ${pageSize}; page ${thousands(deepPage)} ` +
        `by cursor (listAfter) and by offset ${thousands(deepOffset)} (listPage, with its total); ` +
        `medians of ${pageRounds} interleaved rounds after ${pageWarmUpRounds} uncounted`,
      line(header),
      `${line([
        "the repository, the app's client over HTTP",
        ms(page1),
        ms(cursor),
        ms(offset),
        times(ratio),
        times(offset / page1),
      ])}   budget cursor <= ${cursorBudgetRatio}x: ${within ? 'within budget' : 'over budget'}`,
      line([
        'at the engine (libsql in-process)',
        ms(enginePage1),
        ms(engineCursor),
        ms(engineOffset),
        times(engineCursor / enginePage1),
        times(engineOffset / enginePage1),
      ]),
    ],
    overBudget: within
      ? []
      : [
          `cursor page ${thousands(deepPage)} costs ${times(ratio)} page 1 (${ms(cursor)} against ` +
            `${ms(page1)}) > ${cursorBudgetRatio}x`,
        ],
  };
}

export const catalogue: Benchmark = {
  name: 'catalogue',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const started = performance.now();
      const seeded = await seedDatabase(
        stack.env.TURSO_DATABASE_URL ?? '',
        stack.env.TURSO_AUTH_TOKEN,
        {
          products: { count: productCount, seed: productSeed, now: seededBefore },
        },
      );
      const seedSeconds = (performance.now() - started) / 1000;
      if (seeded.products?.inserted !== productCount) {
        throw new Error(`seeded ${seeded.products?.inserted ?? 0} products, not ${productCount}`);
      }
      // A search in a category can take seconds here (its count walks the category's index and
      // asks FTS5 about each row), past the app's 5 s database timeout when the machine is busy:
      // measured, not cut short.
      const app = benchApp({ ...stack.env, DATABASE_TIMEOUT_MS: '60000' });
      const repository = createProductsRepository(app.deps.db);
      const recorder = statementRecorder();
      const engine = openEngine(databaseFile(workDir));
      let search: BenchmarkReport;
      let pages: BenchmarkReport;
      let smallOwner: string;
      try {
        search = await measureSearch(engine, recorder, repository);
        pages = await measurePages(engine, recorder, repository);
        smallOwner = engine.ownerNear(1_000);
      } finally {
        engine.close();
      }
      const [admin] = await signedInUsers(app.deps, [{ name: 'Catalogue Admin', role: 'admin' }]);
      if (admin === undefined) throw new Error('the administrator was not created');
      // As an administrator, deleted products included: the whole catalogue is 100,000 rows.
      const exports = await compareExports(
        app,
        admin.accessToken,
        {
          label: "one seller's products",
          query: `?ownerId=${smallOwner}&includeDeleted=true`,
        },
        { label: 'the whole catalogue', query: '?includeDeleted=true' },
      );
      return {
        lines: [
          `${thousands(productCount)} products seeded in ${seedSeconds.toFixed(1)} s into a fresh ` +
            `local libSQL server (npm run db:seed -- --products ${productCount}: seed ${productSeed}, ` +
            `dated over the 18 months before ${seededBefore.toISOString().slice(0, 10)})`,
          ...search.lines,
          ...pages.lines,
          `export: as an administrator with includeDeleted=true (the whole catalogue: ` +
            `${thousands(productCount)} rows) and with the ownerId of the seller nearest 1,000 products`,
          ...exports.lines.map((line) => `  ${line}`),
        ],
        overBudget: [...search.overBudget, ...pages.overBudget, ...exports.overBudget],
      };
    }),
};
