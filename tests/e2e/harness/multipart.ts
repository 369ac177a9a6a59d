// Upload bodies as the e2e tests send them. Miniflare's dispatchFetch takes bytes and a
// Content-Type, not a FormData, so a body is serialized first: well-formed ones by the platform's
// FormData, as a browser or fetch client writes them; hostile ones by hand, byte for byte. And for
// framing that fetch refuses to send (a Content-Length that lies), a request written on a socket.
import { connect } from 'node:net';

export interface MultipartBody {
  body: Uint8Array<ArrayBuffer>;
  /** `multipart/form-data; boundary=…`, the boundary the body uses. */
  contentType: string;
}

export interface UploadFile {
  /** The file name the client claims. */
  name: string;
  bytes: Uint8Array;
  /** The Content-Type the client claims; application/octet-stream when absent. */
  type?: string;
}

/** Files in one field (`files` unless told), as FormData serializes them. */
export async function multipartFiles(files: UploadFile[], field = 'files'): Promise<MultipartBody> {
  const form = new FormData();
  for (const file of files) {
    const type = file.type ?? 'application/octet-stream';
    form.append(field, new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type }), file.name);
  }
  const request = new Request('http://multipart.invalid/', { method: 'POST', body: form });
  const contentType = request.headers.get('content-type');
  if (contentType === null) throw new Error('FormData gave no Content-Type');
  return { body: new Uint8Array(await request.arrayBuffer()), contentType };
}

export interface RawPart {
  field: string;
  /** Written into the header as given (quotes and control characters included); absent: text. */
  filename?: string;
  type?: string;
  content: Uint8Array | string;
}

export interface RawOptions {
  /** Leaves out the closing `--boundary--`, as a body cut off between parts. */
  unclosed?: boolean;
  /** Keeps only the first `cutAt` bytes, as a body cut off anywhere. */
  cutAt?: number;
}

export const rawBoundary = 'e2e-raw-boundary-4b9d';
const encoder = new TextEncoder();

/** A body written part by part, for what no FormData writes: wrong fields, raw names, cut ends. */
export function rawMultipart(parts: RawPart[], options: RawOptions = {}): MultipartBody {
  const pieces: Uint8Array[] = [];
  for (const part of parts) {
    const file = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`;
    pieces.push(
      encoder.encode(
        `--${rawBoundary}\r\nContent-Disposition: form-data; name="${part.field}"${file}${type}\r\n\r\n`,
      ),
      typeof part.content === 'string' ? encoder.encode(part.content) : part.content,
      encoder.encode('\r\n'),
    );
  }
  if (!options.unclosed) pieces.push(encoder.encode(`--${rawBoundary}--\r\n`));
  const whole = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.byteLength, 0));
  let offset = 0;
  for (const piece of pieces) {
    whole.set(piece, offset);
    offset += piece.byteLength;
  }
  return {
    body: options.cutAt === undefined ? whole : whole.slice(0, options.cutAt),
    contentType: `multipart/form-data; boundary=${rawBoundary}`,
  };
}

export interface RawRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Sent as given, in this order: nothing is added but Host, nothing is checked. */
  headers: Record<string, string>;
  /** Written as is after the headers, whatever they announce. */
  body: Uint8Array;
}

/**
 * Writes `request` on a socket of its own to `origin` (Miniflare's port), ends its side, and
 * answers the first response's status and body. HTTP/1.1 frames a body by its Content-Length, so
 * bytes past a false one reach the server as the start of another request, which it refuses.
 */
export async function rawHttp(
  origin: URL,
  request: RawRequest,
): Promise<{ status: number; body: string }> {
  const socket = connect(Number(origin.port), origin.hostname);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  // The server may answer and reset the connection before the whole body is written.
  socket.on('error', () => {});
  const closed = new Promise((done) => socket.once('close', done));
  const head = Object.entries({ host: 'api.e2e.test', ...request.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`${request.method} ${request.path} HTTP/1.1\r\n${head}\r\n`);
  socket.write(request.body, () => socket.end());
  await closed;
  const text = Buffer.concat(received).toString('latin1');
  const response = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
  if (response === null) throw new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const length = Number(/^content-length: *(\d+)$/im.exec(response[2] ?? '')?.[1] ?? 0);
  const start = response[0].length;
  return { status: Number(response[1]), body: text.slice(start, start + length) };
}
