// Downloads of a whole collection that stream: rows are read one keyset page at a time, each only
// once the client has taken the page before, so memory stays at about two pages whatever the size
// and a slow client slows the reads instead of piling up bytes. NDJSON by default (a line per
// item, usable as it arrives); one JSON array when the Accept header prefers application/json.
//
// The status leaves with the first byte. So the first page is read before answering: a database
// that cannot serve then answers in the envelope like any request. Once bytes have left, a failure
// can only cut the body short: the stream errors (the HTTP body ends without its terminating
// chunk, which clients report as an error, and a JSON array lacks its `]`) and the log says why.
import { z } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import { accepts } from 'hono/accepts';
import type { JSONParsed } from 'hono/utils/types';
import type { RequestEnv } from './request-env.ts';

const exportMediaTypes = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
} as const;

export type ExportFormat = keyof typeof exportMediaTypes;

/**
 * An export's 200 in the OpenAPI document: an NDJSON line or an array element is one `item`, and
 * what a client must know of the stream is said once here for every export.
 */
export function exportResponseDoc<T extends z.ZodType>(name: string, item: T) {
  return {
    description:
      `The ${name}, oldest first, as the attachment \`${name}-<UTC date>.ndjson\` (one item a ` +
      'line) or, when Accept prefers application/json, `.json` (one array). The body streams, ' +
      'read a page at a time as the client reads, and is no snapshot: rows added meanwhile may ' +
      'appear at its end. A failure after the first byte cuts it short (the transfer ends in an ' +
      'error; an array lacks its `]`): download again.',
    headers: z.object({
      'Content-Disposition': z
        .string()
        .openapi({ example: `attachment; filename="${name}-2026-12-06.ndjson"` }),
    }),
    content: {
      [exportMediaTypes.ndjson]: { schema: item },
      [exportMediaTypes.json]: { schema: z.array(item) },
    },
  };
}

/** The next page of items, in order; an empty page ends the export. */
export type NextPage<T> = () => Promise<readonly T[]>;

export interface KeysetPagesOptions<Row, Position> {
  pageSize: number;
  /** Up to `limit` rows after `after` (from the first row when undefined), in the keyset's order. */
  read: (after: Position | undefined, limit: number) => Promise<readonly Row[]>;
  /** The keyset's columns of a row: the next page starts after the last row of this one. */
  positionOf: (row: Row) => Position;
}

/**
 * Walks a keyset in pages. A page that comes back short is the last: no query is spent to learn
 * that nothing follows. Rows added behind the walk's position during it are not seen, rows added
 * ahead of it are; no row is read twice.
 */
export function keysetPages<Row, Position>({
  pageSize,
  read,
  positionOf,
}: KeysetPagesOptions<Row, Position>): NextPage<Row> {
  let after: Position | undefined;
  let done = false;
  return async () => {
    if (done) return [];
    const rows = await read(after, pageSize);
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) done = true;
    else after = positionOf(last);
    return rows;
  };
}

/** NDJSON unless the Accept header ranks application/json first; anything else gets NDJSON. */
function exportFormatOf<E extends RequestEnv>(c: Context<E>): ExportFormat {
  const chosen = accepts(c, {
    header: 'Accept',
    supports: [exportMediaTypes.ndjson, exportMediaTypes.json],
    default: exportMediaTypes.ndjson,
  });
  return chosen === exportMediaTypes.json ? 'json' : 'ndjson';
}

/** `products-2026-12-06.ndjson`: the collection and the UTC day of the export. */
export function exportFilename(name: string, at: Date, format: ExportFormat): string {
  return `${name}-${at.toISOString().slice(0, 10)}.${format}`;
}

export interface ExportSummary {
  outcome: 'complete' | 'cancelled' | 'failed';
  items: number;
  /** Pages sent, the first included. */
  pages: number;
  error?: unknown;
}

const encoder = new TextEncoder();

function encodePage(items: readonly unknown[], format: ExportFormat, first: boolean): Uint8Array {
  const lines = items.map((item) => JSON.stringify(item));
  if (format === 'ndjson') return encoder.encode(`${lines.join('\n')}\n`);
  return encoder.encode(`${first ? '[' : ','}${lines.join(',')}`);
}

/**
 * The export's bytes, one chunk per page. The first page is read before this resolves, so its
 * failure rejects here; every later page is read when the consumer has taken the one before
 * (a queue of one chunk): at most one page is read ahead of what was sent. `onEnd` hears once how
 * the stream ended: read to the end, cancelled by the consumer, or failed on a page.
 */
export async function exportBody<T>(
  nextPage: NextPage<T>,
  format: ExportFormat,
  onEnd: (summary: ExportSummary) => void,
): Promise<ReadableStream<Uint8Array>> {
  let waiting: readonly T[] | undefined = await nextPage();
  let items = 0;
  let pages = 0;
  let ended = false;
  const end = (outcome: ExportSummary['outcome'], error?: unknown) => {
    ended = true;
    onEnd({ outcome, items, pages, ...(error !== undefined && { error }) });
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let page: readonly T[];
        try {
          page = waiting ?? (await nextPage());
        } catch (error) {
          if (ended) return;
          end('failed', error);
          controller.error(error);
          return;
        }
        waiting = undefined;
        // Cancelled while the page was read: the stream takes nothing more.
        if (ended) return;
        if (page.length === 0) {
          if (format === 'json') controller.enqueue(encoder.encode(pages === 0 ? '[]' : ']'));
          controller.close();
          end('complete');
          return;
        }
        controller.enqueue(encodePage(page, format, pages === 0));
        items += page.length;
        pages += 1;
      },
      cancel() {
        if (!ended) end('cancelled');
      },
    },
    { highWaterMark: 1 },
  );
}

/** The innermost error: a driver's wrapper names the whole statement, its cause what went wrong. */
function rootCause(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  return inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
}

/**
 * The export's response, typed as its JSON variant (an array of the items), which is what a
 * route's handler is checked against: its NDJSON variant has no type of its own there.
 */
type ExportResponse<T> = Response & TypedResponse<JSONParsed<T[]>, 200, 'json'>;

/**
 * The export as the response: negotiated format, a dated attachment name, never cached, and one
 * log line when it ends (an error line when it failed after the status had left).
 */
export async function exportResponse<T, E extends RequestEnv>(
  c: Context<E>,
  name: string,
  nextPage: NextPage<T>,
): Promise<ExportResponse<T>> {
  const format = exportFormatOf(c);
  const { logger, clock } = c.get('deps');
  const requestId = c.get('requestId');
  const started = performance.now();
  const body = await exportBody(nextPage, format, ({ error, ...summary }) => {
    const fields = {
      requestId,
      export: name,
      format,
      ...summary,
      durationMs: Math.round(performance.now() - started),
    };
    if (error === undefined) logger.info('export ended', fields);
    else logger.error('export failed', { ...fields, cause: rootCause(error) });
  });
  // Appended: the CORS policy varies the answer with Origin as well.
  c.header('Vary', 'Accept', { append: true });
  const response: Response = c.body(body, 200, {
    'Content-Type': exportMediaTypes[format],
    'Content-Disposition': `attachment; filename="${exportFilename(name, clock.now(), format)}"`,
    'Cache-Control': 'no-store',
  });
  return response as ExportResponse<T>;
}
