// Multipart uploads read as they arrive: well-formed bodies come from FormData as a client sends
// them, hostile ones are written by hand. Every refusal is its 4xx with its details; sizes are
// counted on the bytes that pass, whatever Content-Length claims, and a refusal stops the reading
// (counted on what a pull-based source handed out) and cancels the rest of the body.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors.ts';
import {
  maxUploadBytes,
  readUploadedFiles,
  type UploadedFile,
  type UploadLimits,
} from '../../src/lib/multipart-upload.ts';

const url = 'https://api.example/v1/files';
const limits: UploadLimits = { field: 'files', maxFiles: 5, maxFileBytes: 1024 };
const MiB = 1024 * 1024;
const encoder = new TextEncoder();

function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let offset = 0; offset < size; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  }
  return bytes;
}

type FormEntry = [field: string, value: Uint8Array<ArrayBuffer> | string, filename?: string];

/**
 * A FormData body as a client sends it. It is encoded whole first: undici's FormData stream keeps
 * writing after the reader cancels it (an unhandled ERR_INVALID_STATE in Node), which a body off
 * the network never does.
 */
function formUpload(entries: FormEntry[]): Request {
  const form = new FormData();
  for (const [field, value, filename] of entries) {
    if (typeof value === 'string' && filename === undefined) form.append(field, value);
    else form.append(field, new Blob([value]), filename);
  }
  const encoded = new Request(url, { method: 'POST', body: form });
  const bytes = encoded.arrayBuffer();
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new Uint8Array(await bytes));
      controller.close();
    },
  });
  return rawUpload(body, { 'content-type': encoded.headers.get('content-type') ?? '' });
}

const boundary = 'x-test-boundary-7f3a';

/** A part as clients write it; `filename` makes it a file. */
function part(field: string, content: string, filename?: string): string {
  const disposition = `form-data; name="${field}"${filename === undefined ? '' : `; filename="${filename}"`}`;
  return `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n`;
}

const closing = `--${boundary}--\r\n`;

function rawUpload(
  body: string | Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Request {
  return new Request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers },
    duplex: 'half',
  });
}

/**
 * A body produced only as it is read: `next` gives each chunk (undefined ends the body),
 * `handedOut` counts the bytes given to the reader, `cancelled` says whether it gave up on the rest.
 */
function pulledBody(next: (handedOut: number) => Uint8Array | undefined) {
  const source = { handedOut: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = next(source.handedOut);
        if (chunk === undefined) {
          controller.close();
          return;
        }
        source.handedOut += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        source.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return Object.assign(source, { stream });
}

/** One file part of `size` bytes of 'a', handed out in 64 KiB chunks, then the closing boundary. */
function pulledFile(size: number) {
  const head = encoder.encode(part('files', '', 'big.bin').slice(0, -2));
  const tail = encoder.encode(`\r\n${closing}`);
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let ended = false;
  return pulledBody((handedOut) => {
    if (handedOut === 0) return head;
    const content = handedOut - head.byteLength;
    if (content < size) return chunk.subarray(0, Math.min(chunk.byteLength, size - content));
    if (ended) return undefined;
    ended = true;
    return tail;
  });
}

async function readAll(request: Request, given = limits): Promise<UploadedFile[]> {
  const files: UploadedFile[] = [];
  for await (const file of readUploadedFiles(request, given)) files.push(file);
  return files;
}

/** The AppError the upload is refused with, and the files yielded before it. */
async function refusalOf(
  request: Request,
  given = limits,
): Promise<{ error: AppError; yielded: UploadedFile[] }> {
  const yielded: UploadedFile[] = [];
  try {
    for await (const file of readUploadedFiles(request, given)) yielded.push(file);
  } catch (error) {
    if (error instanceof AppError) return { error, yielded };
    throw error;
  }
  throw new Error(`not refused: ${yielded.length} files read`);
}

/** Lets the cancel that follows a refusal reach the source. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('readUploadedFiles: what is taken', () => {
  it('reads one file: its bytes as sent and its name', async () => {
    const bytes = randomBytes(1000);
    const [file, ...rest] = await readAll(formUpload([['files', bytes, 'report.pdf']]));
    expect(rest).toEqual([]);
    expect(file?.field).toBe('files');
    expect(file?.filename).toBe('report.pdf');
    expect(file?.bytes).toEqual(bytes);
    expect(file?.bytes.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('reads five files in order, names as the client gave them (non-ASCII included)', async () => {
    const sent = ['a.png', 'b.jpg', 'résumé.pdf', '発注書.pdf', 'e.gif'].map(
      (name, i) => [name, randomBytes(200 * (i + 1))] as const,
    );
    const files = await readAll(
      formUpload(sent.map(([name, bytes]): FormEntry => ['files', bytes, name])),
    );
    expect(files.map((file) => file.filename)).toEqual(sent.map(([name]) => name));
    files.forEach((file, i) => {
      expect(file.bytes).toEqual(sent[i]?.[1]);
    });
  });

  it('takes a file of exactly maxFileBytes', async () => {
    const bytes = randomBytes(limits.maxFileBytes);
    const [file] = await readAll(formUpload([['files', bytes, 'edge.bin']]));
    expect(file?.bytes).toEqual(bytes);
  });

  it('hands over each file before reading the next one', async () => {
    const size = 512 * 1024;
    const head = (name: string) => encoder.encode(part('files', '', name).slice(0, -2));
    const pieces = [
      head('one.bin'),
      new Uint8Array(size).fill(1),
      encoder.encode('\r\n'),
      head('two.bin'),
      new Uint8Array(size).fill(2),
      encoder.encode(`\r\n${closing}`),
    ];
    const total = pieces.reduce((sum, piece) => sum + piece.byteLength, 0);
    const source = pulledBody(() => pieces.shift());
    const seen: number[] = [];
    for await (const file of readUploadedFiles(rawUpload(source.stream), {
      ...limits,
      maxFileBytes: MiB,
    })) {
      seen.push(source.handedOut);
      expect(file.bytes.byteLength).toBe(size);
    }
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeLessThan(total - size);
  });

  it('stops reading when the caller stops, and cancels the rest of the body', async () => {
    const first = encoder.encode(part('files', 'first', 'one.txt'));
    const secondHead = encoder.encode(part('files', '', 'two.bin').slice(0, -2));
    const pieces = [first, secondHead];
    const source = pulledBody(() => pieces.shift() ?? new Uint8Array(64 * 1024));
    for await (const file of readUploadedFiles(rawUpload(source.stream), limits)) {
      expect(file.filename).toBe('one.txt');
      break;
    }
    await settle();
    expect(source.cancelled).toBe(true);
    expect(source.handedOut).toBe(first.byteLength + secondHead.byteLength);
  });
});

describe('readUploadedFiles: the request itself', () => {
  it('refuses another content type with 415, naming multipart/form-data', async () => {
    const request = new Request(url, {
      method: 'POST',
      body: '{"files":[]}',
      headers: { 'content-type': 'application/json' },
    });
    const { error } = await refusalOf(request);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.status).toBe(415);
    expect(error.details).toEqual({ accepted: ['multipart/form-data'] });
  });

  it('refuses a request without any Content-Type with 415', async () => {
    const { error } = await refusalOf(new Request(url, { method: 'POST' }));
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('takes the media type in any case', async () => {
    const request = rawUpload(part('files', 'hello', 'hello.txt') + closing, {
      'content-type': `Multipart/Form-Data; boundary="${boundary}"`,
    });
    const [file] = await readAll(request);
    expect(new TextDecoder().decode(file?.bytes)).toBe('hello');
  });

  it.each([
    ['no boundary', 'multipart/form-data'],
    ['an empty boundary', 'multipart/form-data; boundary='],
    ['a boundary over 70 characters', `multipart/form-data; boundary=${'b'.repeat(71)}`],
  ])('refuses %s with 400 MULTIPART_INVALID', async (_, contentType) => {
    const { error } = await refusalOf(
      rawUpload(part('files', 'x', 'x.txt') + closing, { 'content-type': contentType }),
    );
    expect(error.code).toBe('MULTIPART_INVALID');
    expect(error.status).toBe(400);
  });

  it('refuses an empty body with MULTIPART_INVALID', async () => {
    const { error } = await refusalOf(
      new Request(url, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      }),
    );
    expect(error.code).toBe('MULTIPART_INVALID');
  });

  it('refuses a declared Content-Length the limits can never take, before reading a byte', async () => {
    const source = pulledFile(10);
    const tooLong = String(maxUploadBytes(limits) + 1);
    const { error } = await refusalOf(rawUpload(source.stream, { 'content-length': tooLong }));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.details).toEqual({ maxBytes: maxUploadBytes(limits) });
    expect(source.handedOut).toBe(0);
  });

  it('takes a declared Content-Length within what the limits allow', async () => {
    const body = part('files', 'x'.repeat(limits.maxFileBytes), 'full.bin') + closing;
    const request = rawUpload(body, { 'content-length': String(encoder.encode(body).byteLength) });
    expect(await readAll(request)).toHaveLength(1);
  });
});

describe('readUploadedFiles: sizes counted as bytes arrive', () => {
  it('refuses a file over maxFileBytes with 413 FILE_TOO_LARGE and its position', async () => {
    const { error, yielded } = await refusalOf(
      formUpload([
        ['files', randomBytes(100), 'small.png'],
        ['files', randomBytes(limits.maxFileBytes + 1), 'large.png'],
      ]),
    );
    expect(yielded.map((file) => file.filename)).toEqual(['small.png']);
    expect(error.code).toBe('FILE_TOO_LARGE');
    expect(error.status).toBe(413);
    expect(error.details).toEqual({ maxBytes: limits.maxFileBytes, field: 'files', position: 2 });
  });

  it('cuts a body longer than its Content-Length claims at the limits', async () => {
    const body = part('files', 'x'.repeat(5 * limits.maxFileBytes), 'huge.bin') + closing;
    const { error } = await refusalOf(rawUpload(body, { 'content-length': '200' }));
    expect(error.code).toBe('FILE_TOO_LARGE');
  });

  it('stops a 50 MiB streamed file soon after 5 MiB, and cancels the rest', async () => {
    const source = pulledFile(50 * MiB);
    const { error } = await refusalOf(rawUpload(source.stream), {
      ...limits,
      maxFileBytes: 5 * MiB,
    });
    expect(error.code).toBe('FILE_TOO_LARGE');
    expect(source.handedOut).toBeGreaterThan(5 * MiB);
    expect(source.handedOut).toBeLessThan(5 * MiB + 128 * 1024);
    await settle();
    expect(source.cancelled).toBe(true);
  });

  it('refuses a sixth file with maxFiles 5 as TOO_MANY_FILES, after taking five', async () => {
    const { error, yielded } = await refusalOf(
      formUpload(
        Array.from({ length: 6 }, (_, i): FormEntry => ['files', randomBytes(10), `f${i}.bin`]),
      ),
    );
    expect(yielded).toHaveLength(5);
    expect(error.code).toBe('TOO_MANY_FILES');
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ maxFiles: 5 });
  });

  it('refuses a sixth part as soon as its bytes pass what five full files could be', async () => {
    const full = 'x'.repeat(limits.maxFileBytes);
    const pieces = [
      encoder.encode(
        Array.from({ length: 5 }, (_, i) => part('files', full, `f${i}.bin`)).join(''),
      ),
      encoder.encode(part('files', '', 'f5.bin').slice(0, -2)),
    ];
    let handedOutSixth = 0;
    const source = pulledBody(() => {
      const piece = pieces.shift();
      if (piece !== undefined) return piece;
      handedOutSixth += 1024;
      return new Uint8Array(1024);
    });
    const { error } = await refusalOf(rawUpload(source.stream));
    expect(error.code).toBe('TOO_MANY_FILES');
    expect(handedOutSixth).toBeLessThanOrEqual(2 * 1024);
  });
});

describe('readUploadedFiles: what the parts carry', () => {
  it('refuses a text field with UPLOAD_FIELD_INVALID naming it', async () => {
    const { error } = await refusalOf(
      formUpload([
        ['note', 'hello'],
        ['files', randomBytes(10), 'a.png'],
      ]),
    );
    expect(error.code).toBe('UPLOAD_FIELD_INVALID');
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ expected: 'files', got: 'note' });
  });

  it('refuses text sent in the files field', async () => {
    const { error } = await refusalOf(formUpload([['files', 'not a file']]));
    expect(error.code).toBe('UPLOAD_FIELD_INVALID');
    expect(error.details).toEqual({ expected: 'files', got: 'files' });
  });

  it('refuses a file in another field', async () => {
    const { error } = await refusalOf(formUpload([['file', randomBytes(10), 'a.png']]));
    expect(error.code).toBe('UPLOAD_FIELD_INVALID');
    expect(error.details).toEqual({ expected: 'files', got: 'file' });
  });

  it('refuses a part without a field name', async () => {
    const body = `--${boundary}\r\nContent-Type: application/octet-stream\r\n\r\nabc\r\n${closing}`;
    const { error } = await refusalOf(rawUpload(body));
    expect(error.code).toBe('UPLOAD_FIELD_INVALID');
    expect(error.details).toEqual({ expected: 'files', got: null });
  });

  it('refuses an upload without any file, saying which field to use', async () => {
    const { error } = await refusalOf(formUpload([]));
    expect(error.code).toBe('UPLOAD_FIELD_INVALID');
    expect(error.message).toContain("'files'");
    expect(error.details).toEqual({ expected: 'files' });
  });

  it('refuses a zero-byte file with FILE_EMPTY naming it', async () => {
    const { error } = await refusalOf(formUpload([['files', new Uint8Array(), 'empty.txt']]));
    expect(error.code).toBe('FILE_EMPTY');
    expect(error.status).toBe(400);
    expect(error.message).toContain('empty.txt');
    expect(error.details).toEqual({ field: 'files', filename: 'empty.txt' });
  });
});

describe('readUploadedFiles: malformed and cut-short bodies', () => {
  it.each([
    ['without its closing boundary', part('files', 'abc', 'a.txt')],
    ['cut in the middle of a part', part('files', 'abc', 'a.txt').slice(0, -4)],
    ['cut in the middle of part headers', `--${boundary}\r\nContent-Disposition: form-da`],
    ['not starting with the boundary', `garbage\r\n${part('files', 'abc', 'a.txt')}${closing}`],
    ['with another boundary', part('files', 'abc', 'a.txt').replace(boundary, 'other') + closing],
    [
      'with part headers over 8 KiB',
      `--${boundary}\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\nabc\r\n${closing}`,
    ],
  ])('refuses a body %s with 400 MULTIPART_INVALID', async (_, body) => {
    const { error } = await refusalOf(rawUpload(body));
    expect(error.code).toBe('MULTIPART_INVALID');
    expect(error.status).toBe(400);
  });

  it('refuses part headers that are not UTF-8', async () => {
    const head = encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="`,
    );
    const body = new Uint8Array([
      ...head,
      0xff,
      0xfe,
      ...encoder.encode(`"\r\n\r\nabc\r\n${closing}`),
    ]);
    const { error } = await refusalOf(rawUpload(body));
    expect(error.code).toBe('MULTIPART_INVALID');
  });

  it('refuses a body whose stream fails (the client went away) with MULTIPART_INVALID', async () => {
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) {
          controller.error(new Error('connection reset'));
          return;
        }
        sent = true;
        controller.enqueue(encoder.encode(part('files', 'abc', 'a.txt').slice(0, -2)));
      },
    });
    const { error } = await refusalOf(rawUpload(stream));
    expect(error.code).toBe('MULTIPART_INVALID');
    expect(error.status).toBe(400);
  });
});
