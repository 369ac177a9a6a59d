// The Upstash Redis REST API on this machine: what @upstash/redis and @upstash/ratelimit send
// (`/`, `/pipeline`, `/multi-exec`, the path form, `/subscribe` and `/psubscribe` as Server-Sent
// Events), answered from any RedisBackend.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type RunningHttpServer, serveHttp } from '../http-server.ts';
import {
  type RedisBackend,
  type RedisCommand,
  RedisErrorReply,
  type RedisReply,
} from './backend.ts';
import { applyCommandPolicy } from './command-policy.ts';
import { type ResponseEncoding, replyToEntry } from './reply-json.ts';
import { parseRestCall, type RestCall } from './rest-request.ts';
import { type PreparedCommand, ScriptShebangRewriter } from './script-shebang.ts';
import { type SubscribeRequest, subscribeRequestOf, subscribeStream } from './subscribe-stream.ts';
import { prepareUpstashCommand } from './upstash-commands.ts';

export interface RedisRestServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** The bearer token clients must send (UPSTASH_REDIS_REST_TOKEN). */
  token: string;
  /** Not closed by the server's close(): the caller owns it. */
  backend: RedisBackend;
  /** Upstash's limit for free and pay-as-you-go databases by default. */
  maxBodyBytes?: number;
  /** How often a subscription stream gets a comment line, so idle timeouts never end it. */
  sseHeartbeatMs?: number;
}

const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
// Well inside undici's 300 s body timeout, which would end a quiet subscription in Node's fetch.
const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
const ALLOWED_METHODS = new Set(['HEAD', 'GET', 'POST', 'PUT']);

function errorResponse(status: number, message: string): Response {
  return Response.json({ error: message }, { status });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function presentedToken(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  const match = header === null ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1] ?? new URL(request.url).searchParams.get('_token') ?? undefined;
}

function responseEncoding(request: Request): ResponseEncoding {
  return request.headers.get('upstash-encoding')?.toLowerCase() === 'base64' ? 'base64' : 'text';
}

/** A command ready for the backend, or the error it earned without reaching it. */
type Admitted = PreparedCommand | RedisErrorReply;

class RedisRestHandler {
  readonly #backend: RedisBackend;
  readonly #tokenDigest: Buffer;
  readonly #scripts = new ScriptShebangRewriter();
  readonly #sseHeartbeatMs: number;

  constructor(backend: RedisBackend, token: string, sseHeartbeatMs: number) {
    this.#backend = backend;
    this.#tokenDigest = digest(token);
    this.#sseHeartbeatMs = sseHeartbeatMs;
  }

  handle = async (request: Request): Promise<Response> => {
    if (!ALLOWED_METHODS.has(request.method)) return errorResponse(405, 'ERR method not allowed');
    if (!this.#authorized(request)) return errorResponse(401, 'Unauthorized');
    const subscribe = subscribeRequestOf(new URL(request.url));
    if (subscribe instanceof RedisErrorReply) return errorResponse(400, subscribe.message);
    if (subscribe !== undefined) {
      // A stream answered to HEAD would hold its subscription with nobody reading it.
      if (request.method !== 'POST' && request.method !== 'GET') {
        return errorResponse(405, 'ERR method not allowed');
      }
      return this.#fromBackend(() => this.#subscribe(subscribe));
    }
    const call = await parseRestCall(request);
    if (call.kind === 'bad-request') return errorResponse(400, call.message);
    return this.#fromBackend(() => this.#execute(call, responseEncoding(request)));
  };

  /** The backend's answer, or Upstash's 500 when the backend cannot be reached. */
  async #fromBackend(answer: () => Promise<Response>): Promise<Response> {
    try {
      return await answer();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return errorResponse(500, `ERR backend unavailable: ${reason}`);
    }
  }

  async #subscribe(request: SubscribeRequest): Promise<Response> {
    const stream = await subscribeStream(this.#backend, request, {
      heartbeatMs: this.#sseHeartbeatMs,
    });
    return stream instanceof RedisErrorReply ? errorResponse(400, stream.message) : stream;
  }

  #authorized(request: Request): boolean {
    const token = presentedToken(request);
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    return token !== undefined && timingSafeEqual(digest(token), this.#tokenDigest);
  }

  #admit(command: RedisCommand): Admitted {
    const allowed = applyCommandPolicy(command);
    if (allowed instanceof RedisErrorReply) return allowed;
    return prepareUpstashCommand(allowed) ?? this.#scripts.prepare(allowed);
  }

  #run(admitted: Admitted): Promise<RedisReply> {
    if (admitted instanceof RedisErrorReply) return Promise.resolve(admitted);
    return this.#backend.call(admitted.command).then(admitted.adjustReply);
  }

  async #execute(call: RestCall, encoding: ResponseEncoding): Promise<Response> {
    switch (call.kind) {
      case 'single': {
        const reply = await this.#run(this.#admit(call.command));
        if (reply instanceof RedisErrorReply) return errorResponse(400, reply.message);
        return Response.json(replyToEntry(reply, encoding));
      }
      case 'pipeline': {
        // Every command is handed over before any reply is awaited: they share one round trip.
        const replies = await Promise.all(
          call.commands.map((command) => this.#run(this.#admit(command))),
        );
        return Response.json(replies.map((reply) => replyToEntry(reply, encoding)));
      }
      case 'multi-exec':
        return this.#transaction(call.commands, encoding);
    }
  }

  async #transaction(commands: RedisCommand[], encoding: ResponseEncoding): Promise<Response> {
    const prepared: PreparedCommand[] = [];
    for (const command of commands) {
      const admitted = this.#admit(command);
      if (admitted instanceof RedisErrorReply) return errorResponse(400, admitted.message);
      prepared.push(admitted);
    }
    const replies = await this.#backend.transaction(prepared.map((entry) => entry.command));
    if (replies instanceof RedisErrorReply) return errorResponse(400, replies.message);
    return Response.json(
      replies.map((reply, i) => replyToEntry(prepared[i]?.adjustReply(reply) ?? reply, encoding)),
    );
  }
}

export function startRedisRestServer(options: RedisRestServerOptions): Promise<RunningHttpServer> {
  const handler = new RedisRestHandler(
    options.backend,
    options.token,
    options.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
  );
  return serveHttp(handler.handle, {
    port: options.port,
    ...(options.host !== undefined && { host: options.host }),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    onTooLarge: () => errorResponse(413, 'ERR max request size exceeded'),
  });
}
