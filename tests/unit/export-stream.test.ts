// Streaming exports, domain-free: pages in, NDJSON or one JSON array out, read no further ahead
// than one page of what the consumer took; the first page's failure rejects before any byte, a
// later one errors the stream; the Accept header picks the format, the clock the file's name.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  type ExportSummary,
  exportBody,
  exportFilename,
  exportResponse,
  keysetPages,
  type NextPage,
} from '../../src/lib/export-stream.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { RequestEnv } from '../../src/lib/request-env.ts';

interface Item {
  n: number;
}

/** Pages of `size` items numbered from 0, `total` in all (endless without one); counts its reads. */
function fakeSource(size: number, total = Number.POSITIVE_INFINITY) {
  const source = {
    reads: 0,
    next: (async () => {
      const start = source.reads * size;
      source.reads += 1;
      const count = Math.max(0, Math.min(size, total - start));
      return Array.from({ length: count }, (_, i) => ({ n: start + i }));
    }) as NextPage<Item>,
  };
  return source;
}

/** Lets every pending pull run: a read-ahead that could happen has happened after this. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<{ text: string; chunks: number }> {
  let text = '';
  let chunks = 0;
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    text += decoder.decode(chunk, { stream: true });
    chunks += 1;
  }
  return { text, chunks };
}

const ignoreEnd = () => {};

describe('exportBody', () => {
  it('writes NDJSON: one line per item, one chunk per page, every line ended', async () => {
    const source = fakeSource(3, 8);
    const { text, chunks } = await readAll(await exportBody(source.next, 'ndjson', ignoreEnd));
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      Array.from({ length: 8 }, (_, n) => ({ n })),
    );
    expect(chunks).toBe(3);
  });

  it('writes one JSON array, and [] for nothing; NDJSON of nothing is empty', async () => {
    const { text } = await readAll(await exportBody(fakeSource(3, 7).next, 'json', ignoreEnd));
    expect(JSON.parse(text)).toEqual(Array.from({ length: 7 }, (_, n) => ({ n })));
    expect((await readAll(await exportBody(fakeSource(3, 0).next, 'json', ignoreEnd))).text).toBe(
      '[]',
    );
    expect((await readAll(await exportBody(fakeSource(3, 0).next, 'ndjson', ignoreEnd))).text).toBe(
      '',
    );
  });

  it('reads the first page before it resolves, and no more while nothing is read', async () => {
    const source = fakeSource(100);
    const stream = await exportBody(source.next, 'ndjson', ignoreEnd);
    expect(source.reads).toBe(1);
    await settle();
    expect(source.reads).toBe(1);

    const reader = stream.getReader();
    for (let taken = 1; taken <= 5; taken += 1) {
      await reader.read();
      await settle();
      // The page taken, and at most the one waiting behind it.
      expect(source.reads).toBeLessThanOrEqual(taken + 1);
    }
    await reader.cancel();
  });

  it('rejects before the first byte when the first page fails', async () => {
    const failing: NextPage<Item> = async () => {
      throw new Error('database down');
    };
    await expect(exportBody(failing, 'ndjson', ignoreEnd)).rejects.toThrow('database down');
  });

  it('errors the stream after the pages it sent when a later page fails, and says so once', async () => {
    let page = 0;
    const failingThird: NextPage<Item> = async () => {
      page += 1;
      if (page === 3) throw new Error('connection reset');
      return [{ n: page }];
    };
    const ends: ExportSummary[] = [];
    const reader = (await exportBody(failingThird, 'json', (end) => ends.push(end))).getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe('[{"n":1}');
    expect(decoder.decode((await reader.read()).value)).toBe(',{"n":2}');
    await expect(reader.read()).rejects.toThrow('connection reset');
    expect(ends).toEqual([
      { outcome: 'failed', items: 2, pages: 2, error: new Error('connection reset') },
    ]);
  });

  it('stops reading when the consumer cancels', async () => {
    const source = fakeSource(10);
    const ends: ExportSummary[] = [];
    const reader = (await exportBody(source.next, 'ndjson', (end) => ends.push(end))).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    const readsAtCancel = source.reads;
    await settle();
    expect(source.reads).toBe(readsAtCancel);
    expect(ends).toEqual([{ outcome: 'cancelled', items: 20, pages: 2 }]);
  });

  it('says once that it completed, with what it sent', async () => {
    const ends: ExportSummary[] = [];
    await readAll(await exportBody(fakeSource(4, 10).next, 'ndjson', (end) => ends.push(end)));
    expect(ends).toEqual([{ outcome: 'complete', items: 10, pages: 3 }]);
  });
});

describe('keysetPages', () => {
  const rows = Array.from({ length: 7 }, (_, i) => ({ at: i }));
  const reader = () => {
    const calls: (number | undefined)[] = [];
    const read = async (after: number | undefined, limit: number) => {
      calls.push(after);
      return rows.filter((row) => after === undefined || row.at > after).slice(0, limit);
    };
    return { calls, read };
  };

  it('starts each page after the last row of the one before, and stops at a short page', async () => {
    const { calls, read } = reader();
    const next = keysetPages({ pageSize: 3, read, positionOf: (row) => row.at });
    const pages = [await next(), await next(), await next(), await next()];
    expect(pages.map((page) => page.map((row) => row.at))).toEqual([[0, 1, 2], [3, 4, 5], [6], []]);
    // The short page said it was the last: no fourth query.
    expect(calls).toEqual([undefined, 2, 5]);
  });

  it('asks once more after a full last page, and gets nothing', async () => {
    const { calls, read } = reader();
    const next = keysetPages({ pageSize: 7, read, positionOf: (row) => row.at });
    expect((await next()).length).toBe(7);
    expect(await next()).toEqual([]);
    expect(await next()).toEqual([]);
    expect(calls).toEqual([undefined, 6]);
  });
});

describe('exportResponse', () => {
  const logged: Record<string, unknown>[] = [];
  const app = new Hono<RequestEnv>()
    .use(async (c, next) => {
      c.set('requestId', 'req-export');
      c.set('event', {});
      c.set('deps', {
        logger: createLogger('debug', (line) => logged.push(JSON.parse(line))),
        clock: { now: () => new Date('2026-12-06T23:59:59.000Z') },
        config: { API_VERSION: 'test' },
      });
      await next();
    })
    .get('/things', (c) => exportResponse(c, 'things', fakeSource(2, 5).next));

  const get = (accept?: string) =>
    app.request('/things', accept === undefined ? {} : { headers: { Accept: accept } });

  it('answers NDJSON as a dated attachment, never cached, varying with Accept', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/x-ndjson');
    expect(res.headers.get('Content-Disposition')).toBe(
      'attachment; filename="things-2026-12-06.ndjson"',
    );
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Vary')).toBe('Accept');
    expect((await res.text()).split('\n')).toHaveLength(6);
    expect(logged.at(-1)).toMatchObject({
      level: 'info',
      msg: 'export ended',
      requestId: 'req-export',
      export: 'things',
      format: 'ndjson',
      outcome: 'complete',
      items: 5,
      pages: 3,
    });
  });

  it.each([
    [undefined, 'ndjson'],
    ['*/*', 'ndjson'],
    ['application/*', 'ndjson'],
    ['text/csv', 'ndjson'],
    ['application/x-ndjson', 'ndjson'],
    ['application/json', 'json'],
    ['application/json;q=0.5, application/x-ndjson', 'ndjson'],
    ['application/x-ndjson;q=0.5, application/json', 'json'],
    ['text/html, application/json;q=0.9, */*;q=0.8', 'json'],
  ])('with Accept %s answers %s', async (accept, format) => {
    const res = await get(accept);
    expect(res.headers.get('Content-Type')).toBe(
      format === 'json' ? 'application/json' : 'application/x-ndjson',
    );
    expect(res.headers.get('Content-Disposition')).toContain(`.${format}"`);
    const text = await res.text();
    if (format === 'json') expect(JSON.parse(text)).toHaveLength(5);
  });

  it('names the file by the UTC day', () => {
    expect(exportFilename('users', new Date('2026-01-31T23:30:00-05:00'), 'json')).toBe(
      'users-2026-02-01.json',
    );
  });
});
