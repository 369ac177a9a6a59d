// What refusing a 50 MiB upload costs the Worker in workerd: POST /v1/files with one file ten times
// the 5 MiB a file may have, generated as it is sent over a socket, once with its true
// Content-Length and once chunked with none. The reader refuses from what it has (the declared
// length, or the part's first 5 MiB) and stops reading, so workerd's memory should stay flat
// whatever the client sends. Beside them, uploads that are kept: 5 files of 4.9 MiB, and one of
// 5 MiB, the most a file may have.
//
// workerd's figures come from /proc (Linux only): VmRSS sampled every 20 ms while a request runs,
// and VmHWM, the kernel's own peak, reset before each request, so a spike between two samples is
// counted too; rchar counts every byte workerd read, the body's and its calls to the stack's. The
// figures include Miniflare's R2, which runs in the same workerd process. On loopback the kernel
// buffers a few MiB between the client's writes and workerd's reads: "written" is the body the
// client had written when the answer came, "read" all workerd read during the request.
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildWorker } from '../local-stack/wrangler.ts';
import { benchAccount, benchJwtVars, withStackProcess } from './app-on-stack.ts';
import type { Benchmark } from './benchmark.ts';
import { descendantRunning } from './process-usage.ts';
import { startWorker } from './throughput/servers.ts';

const mib = 1024 * 1024;
const sampleEveryMs = 20;
/** How long after an answer workerd is left alone before its memory is read again. */
const settleMs = 1_000;
/** A refused upload's RSS growth, at or above which the refusal is not flat. */
const refusalBudgetMib = 16;
const boundary = 'nexus-bench-uploads-7f3a9c';

interface UploadCase {
  label: string;
  /** Each file's size in bytes, one part each in the `files` field. */
  files: number[];
  /** The body's framing: its exact Content-Length, or chunked with none. */
  framing: 'length' | 'chunked';
  /** A refusal is held to the budget; the others are reported beside it. */
  refused: boolean;
}

const cases: UploadCase[] = [
  { label: 'one 50 MiB file, Content-Length', files: [50 * mib], framing: 'length', refused: true },
  { label: 'one 50 MiB file, chunked', files: [50 * mib], framing: 'chunked', refused: true },
  {
    label: '5 files of 4.9 MiB, Content-Length',
    files: Array.from({ length: 5 }, () => Math.round(4.9 * mib)),
    framing: 'length',
    refused: false,
  },
  { label: 'one 5 MiB file, Content-Length', files: [5 * mib], framing: 'length', refused: false },
];

/** Before the baseline: the upload path's first use (compiling, first allocations) is not counted. */
const warmUp: UploadCase = {
  label: 'warm-up',
  files: [64 * 1024],
  framing: 'length',
  refused: false,
};

const encoder = new TextEncoder();
/** Reused for every chunk of every file: no body is ever held whole, here or by Node. */
const filler = new Uint8Array(64 * 1024);

const partHead = (index: number) =>
  encoder.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="upload-${index}.png"` +
      '\r\nContent-Type: image/png\r\n\r\n',
  );
const partEnd = encoder.encode('\r\n');
const closing = encoder.encode(`--${boundary}--\r\n`);

/**
 * A PNG's signature, its IHDR chunk and the header of one IDAT chunk holding the rest of `size`:
 * what file-type reads to call the bytes a PNG, so an upload of the right size is kept.
 */
function pngHead(size: number): Uint8Array {
  const head = new Uint8Array(41);
  const view = new DataView(head.buffer);
  head.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint32(8, 13);
  head.set(encoder.encode('IHDR'), 12);
  view.setUint32(33, size - head.length);
  head.set(encoder.encode('IDAT'), 37);
  return head;
}

function* multipartChunks(files: number[]): Generator<Uint8Array> {
  for (const [i, size] of files.entries()) {
    yield partHead(i + 1);
    const head = pngHead(size);
    yield head;
    for (let left = size - head.length; left > 0; left -= filler.length) {
      yield left >= filler.length ? filler : filler.subarray(0, left);
    }
    yield partEnd;
  }
  yield closing;
}

const multipartLength = (files: number[]) =>
  files.reduce((total, size, i) => total + partHead(i + 1).length + size + partEnd.length, 0) +
  closing.length;

/** Fields of /proc/<pid>/status or /proc/<pid>/io, in bytes. */
function procField(pid: number, file: 'status' | 'io', field: string): number {
  const text = readFileSync(`/proc/${pid}/${file}`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)( kB)?$`, 'm').exec(text);
  if (match === null) throw new Error(`/proc/${pid}/${file} has no ${field}`);
  return Number(match[1]) * (match[2] === undefined ? 1 : 1024);
}

interface Answer {
  /** Undefined when the server reset the connection before the client read an answer. */
  status: number | undefined;
  /** The error code answered, or the reset's. */
  code: string;
  /** From the request's start to the answer's headers, or to the reset. */
  ms: number;
  /** Body bytes the client had written when the answer or the reset came. */
  written: number;
}

/** How a server that stops reading a body may end the connection under a client still writing. */
const resets = new Set(['ECONNRESET', 'EPIPE']);

/**
 * POSTs `upload` to /v1/files on a connection of its own, writing the body as the socket takes it
 * and no more once the answer has come. A server that answers before the body's end and closes
 * the connection resets it on the bytes it left unread; when the reset comes before the answer is
 * read, the client never sees the answer, and that is what is reported.
 */
async function send(origin: string, token: string, upload: UploadCase): Promise<Answer> {
  const request = httpRequest(new URL('/v1/files', origin), {
    method: 'POST',
    agent: false,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      ...(upload.framing === 'length' && {
        'content-length': String(multipartLength(upload.files)),
      }),
    },
  });
  const started = performance.now();
  let written = 0;
  type Ending = { response: IncomingMessage } | { error: NodeJS.ErrnoException };
  let ending: (Ending & { ms: number; written: number }) | undefined;
  const ended = new Promise<NonNullable<typeof ending>>((resolve) => {
    const end = (how: Ending) => {
      ending ??= { ...how, ms: performance.now() - started, written };
      resolve(ending);
    };
    request.once('response', (response) => end({ response }));
    // An error after the answer, the same reset once the answer is in hand, changes nothing.
    request.on('error', (error) => end({ error }));
  });
  const drained = () =>
    new Promise<void>((resolve) => {
      request.once('drain', resolve);
      void ended.then(() => resolve());
    });
  for (const chunk of multipartChunks(upload.files)) {
    if (ending !== undefined) break;
    written += chunk.length;
    if (!request.write(chunk)) await drained();
  }
  if (ending === undefined) request.end();
  const how = await ended;
  if ('error' in how) {
    request.destroy();
    if (!resets.has(how.error.code ?? '')) throw how.error;
    return {
      status: undefined,
      code: `reset (${how.error.code})`,
      ms: how.ms,
      written: how.written,
    };
  }
  let text = '';
  let cut: string | undefined;
  try {
    for await (const chunk of how.response) text += String(chunk);
  } catch (error) {
    cut = (error as NodeJS.ErrnoException).code ?? '';
    if (!resets.has(cut)) throw error;
  } finally {
    request.destroy();
  }
  const code =
    cut === undefined
      ? ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '')
      : `body cut by a reset (${cut})`;
  return { status: how.response.statusCode, code, ms: how.ms, written: how.written };
}

interface Measured extends UploadCase {
  answer: Answer;
  /** workerd's RSS just before the request. */
  before: number;
  /** The most RSS workerd had during the request: sampled, or the kernel's peak if higher. */
  peak: number;
  /** RSS once workerd was left alone for `settleMs` after the answer. */
  after: number;
  /** Bytes workerd read during the request, from every socket and file. */
  read: number;
}

async function measure(
  pid: number,
  origin: string,
  token: string,
  upload: UploadCase,
): Promise<Measured> {
  // "5" resets VmHWM to the current RSS (Linux 4.0 and later).
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  const before = procField(pid, 'status', 'VmRSS');
  const readBefore = procField(pid, 'io', 'rchar');
  let sampled = before;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, procField(pid, 'status', 'VmRSS'));
  }, sampleEveryMs);
  let answer: Answer;
  try {
    answer = await send(origin, token, upload);
  } finally {
    clearInterval(sampler);
  }
  const peak = Math.max(sampled, procField(pid, 'status', 'VmHWM'));
  await sleep(settleMs);
  return {
    ...upload,
    answer,
    before,
    peak,
    after: procField(pid, 'status', 'VmRSS'),
    read: procField(pid, 'io', 'rchar') - readBefore,
  };
}

async function register(origin: string): Promise<string> {
  const response = await fetch(new URL('/v1/auth/register', origin), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(benchAccount),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`register: ${response.status}: ${text}`);
  return (JSON.parse(text) as { data: { session: { accessToken: string } } }).data.session
    .accessToken;
}

const inMib = (bytes: number) => `${(bytes / mib).toFixed(1)} MiB`;
const signedMib = (bytes: number) => `${bytes < 0 ? '-' : '+'}${inMib(Math.abs(bytes))}`;

function report(idle: number, measured: Measured[]) {
  const widths = [36, 24, 8, 9, 9, 11, 10, 10];
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(' ');
  const overBudget: string[] = [];
  const rows = measured.map((m) => {
    const growth = m.peak - m.before;
    const cells = line([
      m.label,
      `${m.answer.status ?? ''} ${m.answer.code}`.trim(),
      `${m.answer.ms.toFixed(0)} ms`,
      inMib(m.answer.written),
      inMib(m.read),
      inMib(m.before),
      signedMib(growth),
      signedMib(m.after - m.before),
    ]);
    if (!m.refused) return cells;
    const flat = growth < refusalBudgetMib * mib;
    // A reset is the connection's end, not the app's answer: only a wrong answer misses.
    const refusedRightly = m.answer.status === undefined || m.answer.status === 413;
    if (!refusedRightly) {
      overBudget.push(`${m.label}: answered ${m.answer.status}, not 413`);
    }
    if (!flat) {
      overBudget.push(
        `${m.label}: workerd's RSS grew ${inMib(growth)}, not < ${refusalBudgetMib} MiB`,
      );
    }
    const verdict = flat && refusedRightly ? 'PASS' : 'MISS';
    return `${cells}   budget flat (< ${refusalBudgetMib} MiB growth): ${verdict}`;
  });
  return {
    lines: [
      'POST /v1/files to the Worker bundle in workerd (Miniflare; its R2 runs in the same process), ' +
        'the body generated as it is sent',
      `written: body bytes the client had written when the answer came; read: all workerd read ` +
        `during the request; RSS: workerd's, sampled every ${sampleEveryMs} ms and its VmHWM`,
      `peak and after (${settleMs / 1000} s idle after the answer) above RSS before; idle RSS ` +
        `${inMib(idle)} after sign-up and a 64 KiB upload to warm up`,
      line(['', 'answer', 'time', 'written', 'read', 'RSS before', 'peak', 'after']),
      ...rows,
      ...(measured.some((m) => m.answer.status === undefined)
        ? [
            'reset: workerd reset the connection on the body it left unread before the client read its answer',
          ]
        : []),
    ],
    overBudget,
  };
}

export const uploads: Benchmark = {
  name: 'uploads',
  run: (workDir) =>
    withStackProcess(workDir, async (stack) => {
      const worker = await buildWorker(join(workDir, 'worker'));
      const server = await startWorker(
        worker,
        {
          ...worker.vars,
          ...stack.env,
          ...benchJwtVars,
          APP_ENV: 'test',
          LOG_LEVEL: 'error',
          RATE_LIMIT_GENERAL: '1000000/1h',
          // As in the e2e tests: a loaded machine is not a Redis outage.
          RATE_LIMIT_TIMEOUT_MS: '10000',
          CACHE_TIMEOUT_MS: '10000',
        },
        { r2Buckets: ['FILES'] },
      );
      try {
        const pid = descendantRunning('workerd');
        const token = await register(server.origin);
        const warm = await send(server.origin, token, warmUp);
        if (warm.status !== 201) throw new Error(`warm-up upload answered ${warm.status}`);
        await sleep(settleMs);
        const idle = procField(pid, 'status', 'VmRSS');
        const measured: Measured[] = [];
        for (const upload of cases) measured.push(await measure(pid, server.origin, token, upload));
        return report(idle, measured);
      } finally {
        await server.stop();
      }
    }),
};
