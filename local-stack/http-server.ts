// The one HTTP front door of every local-stack server: Node's http module outside, Web
// Request/Response inside, so each server is a plain `(request) => Response` function that a
// test can also call directly.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface HttpServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Requests with a larger body are answered by `onTooLarge` without reaching the handler. */
  maxBodyBytes: number;
  onTooLarge: () => Response;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toRequest(req: IncomingMessage, body: Buffer, origin: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    body: hasBody ? new Uint8Array(body) : null,
  });
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const setCookies = response.headers.getSetCookie();
  if (setCookies.length > 0) headers['set-cookie'] = setCookies;
  if (
    response.body !== null &&
    response.headers.get('content-type')?.startsWith('text/event-stream')
  ) {
    // An event stream goes out as it is produced; a client that leaves cancels it, also one that
    // left before it was ready (pipeline does not notice a response already closed).
    if (res.destroyed) return response.body.cancel();
    res.writeHead(response.status, headers);
    res.flushHeaders();
    await pipeline(Readable.fromWeb(response.body), res);
    return;
  }
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(body);
}

export function serveHttp(
  handler: FetchHandler,
  options: HttpServerOptions,
): Promise<RunningHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? host}`;
    readBody(req, options.maxBodyBytes)
      .then((body) => handler(toRequest(req, body, origin)))
      .catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) return options.onTooLarge();
        console.error('local-stack: unhandled error', error);
        return Response.json({ error: 'internal error' }, { status: 500 });
      })
      .then((response) => writeResponse(res, response))
      .catch(() => res.destroy());
  });
  // Keep-alive sockets would hold close() open until their idle timeout.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
