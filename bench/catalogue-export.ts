// What a catalogue export costs the app on Node: its time, and its memory while the body is read,
// for about 1,000 products and for 100,000 (the catalogue benchmark, catalogue.ts, seeds them and
// calls compareExports). The export streams a keyset page at a time, so the two should hold about
// the same memory; a buffered export would hold the whole body (100,000 products are some 50 MB of
// NDJSON). The app runs in this process (benchApp), the local stack in a child process, so
// process.memoryUsage() is the app's and the reader's, not the database's. The reader takes every
// chunk as it comes and keeps none. workerd reports no memory figure, so this is the app's V8 heap
// on Node standing in for the Worker's.
//
// Two memory figures. heapUsed sampled on the way counts garbage not yet collected, which follows
// the collector's moods more than the export's. What the export holds is the live memory (heap and
// array buffers): in a run of its own, the client pauses after every page, long enough for the
// stream to read the next one, and the heap is collected and measured then.
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { productExportPageSize } from '../src/modules/products/products-export.service.ts';
import { type BenchApp, median } from './app-on-stack.ts';
import type { BenchmarkReport } from './benchmark.ts';

export interface ExportMeasurement {
  /** NDJSON lines received. */
  rows: number;
  bytes: number;
  /** From the request to the body's last byte (pauses and collections included with `pauseMs`). */
  wallMs: number;
  /** The highest heapUsed and rss seen while the body was read, above their values before. */
  heapGrowthMB: number;
  rssGrowthMB: number;
  /** With `pauseMs`: the most live memory (heap and array buffers) at a pause, above before. */
  liveGrowthMB?: number;
}

export interface MeasureExportOptions {
  /** Appended to /v1/products/export: `?ownerId=…`, `?category=books`. */
  query?: string;
  sampleEveryMs?: number;
  /**
   * Pause this long after every chunk (a page), as a slow client, then collect the heap and
   * measure what stays live. The time then measures the pauses, not the export.
   */
  pauseMs?: number;
}

/** Megabytes (10^6 bytes), the unit the budget is given in. */
const mb = (bytes: number) => bytes / 1_000_000;

let gc: (() => void) | undefined;
/** V8's collector, asked for at run time: `npm run bench` starts node without --expose-gc. */
function collect(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * Downloads GET /v1/products/export as `token`'s user, as NDJSON, reading every chunk as soon as it
 * comes and keeping none; samples process.memoryUsage() on every chunk and every `sampleEveryMs`
 * besides. The heap is collected first, so growth is counted from what was live before.
 */
export async function measureExport(
  app: BenchApp,
  token: string,
  { query = '', sampleEveryMs = 5, pauseMs }: MeasureExportOptions = {},
): Promise<ExportMeasurement> {
  collect();
  const before = process.memoryUsage();
  const live = (usage: NodeJS.MemoryUsage) => usage.heapUsed + usage.arrayBuffers;
  let heapPeak = before.heapUsed;
  let rssPeak = before.rss;
  let livePeak = live(before);
  const sample = () => {
    const now = process.memoryUsage();
    heapPeak = Math.max(heapPeak, now.heapUsed);
    rssPeak = Math.max(rssPeak, now.rss);
  };
  const sampler = setInterval(sample, sampleEveryMs);
  const started = performance.now();
  try {
    const response = await app.request('GET', `/v1/products/export${query}`, {
      token,
      headers: { accept: 'application/x-ndjson' },
    });
    if (response.status !== 200 || response.body === null) {
      throw new Error(`export answered ${response.status}: ${await response.text()}`);
    }
    let rows = 0;
    let bytes = 0;
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 0x0a) rows += 1;
      sample();
      if (pauseMs !== undefined) {
        await sleep(pauseMs);
        collect();
        livePeak = Math.max(livePeak, live(process.memoryUsage()));
      }
    }
    return {
      rows,
      bytes,
      wallMs: performance.now() - started,
      heapGrowthMB: mb(heapPeak - before.heapUsed),
      rssGrowthMB: mb(rssPeak - before.rss),
      ...(pauseMs !== undefined && { liveGrowthMB: mb(livePeak - live(before)) }),
    };
  } finally {
    clearInterval(sampler);
  }
}

export interface ExportCase {
  /** What is exported, for the report: "one seller's products". */
  label: string;
  /** Appended to /v1/products/export. */
  query: string;
}

const timedRuns = 3;
/** Flat: the large export may hold at most this much more live memory than the small one. */
const exportMemoryBudgetMB = 10;

interface CaseFigures {
  exportCase: ExportCase;
  timed: ExportMeasurement[];
  live: ExportMeasurement;
}

async function measureCase(app: BenchApp, token: string, exportCase: ExportCase) {
  // No separate warm-up: the first run's colder caches are what the median leaves out.
  const timed: ExportMeasurement[] = [];
  for (let run = 0; run < timedRuns; run += 1) {
    timed.push(await measureExport(app, token, { query: exportCase.query }));
  }
  const live = await measureExport(app, token, { query: exportCase.query, pauseMs: 20 });
  return { exportCase, timed, live };
}

function describe({ exportCase, timed, live }: CaseFigures): string {
  const wallMs = median(timed.map((run) => run.wallMs));
  const { rows, bytes } = live;
  const heap = median(timed.map((run) => run.heapGrowthMB));
  const rss = median(timed.map((run) => run.rssGrowthMB));
  return (
    `${rows.toLocaleString('en-US').padStart(7)} rows (${exportCase.label}): ` +
    `${mb(bytes).toFixed(1)} MB in ${wallMs.toFixed(0)} ms ` +
    `(${Math.round(rows / (wallMs / 1000)).toLocaleString('en-US')} rows/s); ` +
    `held at a pause +${(live.liveGrowthMB ?? 0).toFixed(1)} MB, ` +
    `heapUsed peak +${heap.toFixed(1)} MB, rss +${rss.toFixed(1)} MB`
  );
}

/**
 * Exports `small` then `large` as `token`'s user, each three times timed and once with pauses for
 * the memory it holds; within budget when the large one holds no more than exportMemoryBudgetMB
 * above the small one.
 */
export async function compareExports(
  app: BenchApp,
  token: string,
  small: ExportCase,
  large: ExportCase,
): Promise<BenchmarkReport> {
  const figures = [await measureCase(app, token, small), await measureCase(app, token, large)];
  const [smallHeld, largeHeld] = figures.map((figure) => figure.live.liveGrowthMB ?? 0);
  const growth = (largeHeld ?? 0) - (smallHeld ?? 0);
  const within = growth <= exportMemoryBudgetMB;
  const largeRows = figures[1]?.live.rows ?? 0;
  const smallRows = figures[0]?.live.rows ?? 0;
  return {
    lines: [
      `GET /v1/products/export as NDJSON (${productExportPageSize} rows a page), read as fast as ` +
        `it comes; time: median of ${timedRuns} runs`,
      "memory: the app's V8 heap and array buffers on Node (workerd exposes no memory figure)",
      ...figures.map(describe),
      `held, ${largeRows.toLocaleString('en-US')} rows against ${smallRows.toLocaleString('en-US')}: ` +
        `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB   budget +${exportMemoryBudgetMB} MB ` +
        `(flat memory): ${within ? 'within budget' : 'over budget'}`,
    ],
    overBudget: within
      ? []
      : [
          `the export's memory grows with its size: ${largeRows} rows hold +${growth.toFixed(1)} MB ` +
            `more than ${smallRows} > ${exportMemoryBudgetMB} MB`,
        ],
  };
}
