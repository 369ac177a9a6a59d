// The local libSQL server: Hrana over HTTP (JSON, versions 2 and 3) in front of an embedded
// libSQL database file, so @libsql/client in `http:` mode, and drizzle on top of it, work unchanged.
// Status codes and bodies of failures follow sqld, which the client was written against.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type RunningHttpServer, serveHttp } from '../http-server.ts';
import { SqlConnection } from './connection.ts';
import { decodePipelineRequest } from './decode.ts';
import { type HranaVersion, type PipelineContext, runPipeline } from './pipeline.ts';
import { ConnectionPool } from './pool.ts';
import type { PipelineResponse, WireError } from './protocol.ts';
import { type BatonRejection, StreamRegistry } from './streams.ts';

export interface LibsqlServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  dbFile: string;
  /** When set, pipeline requests must carry `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** An idle stream is closed (its transaction rolled back) after this long. Default 10 s, as sqld. */
  streamIdleTimeoutMs?: number;
  maxBodyBytes?: number;
  /** How long a statement waits for another stream's lock before it fails with SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

const defaultStreamIdleTimeoutMs = 10_000;
const defaultMaxBodyBytes = 10 * 1024 * 1024;
const defaultBusyTimeoutMs = 5_000;
const maxIdleConnections = 4;

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain' } });
}

const batonMessages: Record<Exclude<BatonRejection, 'expired'>, string> = {
  invalid: 'Received an invalid baton',
  reused: 'Received a baton that has already been used',
};

function batonRejected(rejection: BatonRejection): Response {
  if (rejection === 'expired') {
    const error: WireError = {
      message: 'The stream has expired due to inactivity',
      code: 'STREAM_EXPIRED',
    };
    return Response.json(error, { status: 500 });
  }
  return text(400, batonMessages[rejection]);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** sqld's 401 body names the failed check; the client shows only the status. */
function authFailure(header: string | null, expected: Buffer): string | undefined {
  if (header === null) return 'The `Authorization` HTTP header is required but was not specified';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (match?.[1] === undefined) {
    return 'The authentication scheme in the `Authorization` HTTP header is not supported';
  }
  return timingSafeEqual(digest(match[1].trim()), expected) ? undefined : 'The JWT is invalid';
}

export async function startLibsqlServer(options: LibsqlServerOptions): Promise<RunningHttpServer> {
  // WAL lets readers go on while one stream holds a write transaction; the mode is stored in the
  // file, so setting it once covers every connection opened later.
  const setup = new SqlConnection(options.dbFile);
  const wal = setup.run('PRAGMA journal_mode = WAL');
  setup.close();
  if (!wal.ok) throw new Error(`cannot switch ${options.dbFile} to WAL: ${wal.error.message}`);

  const pool = new ConnectionPool(options.dbFile, maxIdleConnections);
  const streams = new StreamRegistry(
    pool,
    options.streamIdleTimeoutMs ?? defaultStreamIdleTimeoutMs,
  );
  const shutdown = new AbortController();
  const expectedToken = options.authToken === undefined ? undefined : digest(options.authToken);

  async function pipeline(request: Request, version: HranaVersion): Promise<Response> {
    if (expectedToken !== undefined) {
      const failure = authFailure(request.headers.get('authorization'), expectedToken);
      if (failure !== undefined) {
        return Response.json({ error: `Unauthorized: \`${failure}\`` }, { status: 401 });
      }
    }
    const decoded = decodePipelineRequest(await request.text());
    if (!decoded.ok) return text(400, decoded.message);
    const acquired = streams.acquire(decoded.value.baton);
    if (!acquired.ok) return batonRejected(acquired.rejection);
    const { stream } = acquired;
    const context: PipelineContext = {
      version,
      busy: { limitMs: options.busyTimeoutMs ?? defaultBusyTimeoutMs, signal: shutdown.signal },
      closeStream: (closed) => streams.close(closed),
    };
    let outcome: Awaited<ReturnType<typeof runPipeline>>;
    try {
      outcome = await runPipeline(stream, decoded.value.requests, context);
    } catch (error) {
      streams.discard(stream);
      throw error;
    }
    if (!outcome.ok) {
      streams.discard(stream);
      return text(400, outcome.protocolError);
    }
    const body: PipelineResponse = {
      baton: streams.release(stream),
      base_url: null,
      results: outcome.results,
    };
    return Response.json(body);
  }

  function route(request: Request): Response | Promise<Response> {
    const { pathname } = new URL(request.url);
    const method = request.method;
    if (pathname === '/health') return method === 'GET' ? new Response(null) : text(405, '');
    const index = /^\/v([23])$/.exec(pathname);
    if (index !== null) {
      if (method !== 'GET') return text(405, '');
      return text(200, `Hello, this is HTTP API v${index[1]} (Hrana over HTTP)`);
    }
    const endpoint = /^\/v([23])\/pipeline$/.exec(pathname);
    if (endpoint !== null) {
      if (method !== 'POST') return text(405, '');
      return pipeline(request, endpoint[1] === '3' ? 3 : 2);
    }
    return new Response(null, { status: 404 });
  }

  const server = await serveHttp(route, {
    port: options.port,
    host: options.host,
    maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
    onTooLarge: () => text(413, 'Failed to buffer the request body: length limit exceeded'),
  });
  return {
    url: server.url,
    port: server.port,
    close: async () => {
      shutdown.abort();
      await server.close();
      streams.closeAll();
      pool.close();
    },
  };
}
