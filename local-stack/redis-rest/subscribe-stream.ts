// SUBSCRIBE and PSUBSCRIBE as Upstash serves them: `POST /subscribe/<channel>` (or
// `/psubscribe/<pattern>`) answers with Server-Sent Events, one `data:` line per push, its fields
// joined by commas: `subscribe,chat,1`, `message,chat,hello`, `pmessage,chat:*,chat:1,hello`.
// @upstash/redis's subscribe() and psubscribe() open one such request per channel or pattern.
// Payloads go out as they are, never base64, whatever Upstash-Encoding asks: the client parses
// the text after the commas (JSON when it can).
import {
  type PubSubEvent,
  type PubSubSubscription,
  type RedisBackend,
  RedisErrorReply,
  type SubscribeMode,
} from './backend.ts';

export interface SubscribeRequest {
  mode: SubscribeMode;
  /** The command's name as Redis and its error messages spell it. */
  command: 'subscribe' | 'psubscribe';
  names: Buffer[];
}

export interface SubscribeStreamOptions {
  /** How often a comment line goes out on a quiet stream, so idle-body timeouts never fire. */
  heartbeatMs: number;
}

const MODES = { subscribe: 'channels', psubscribe: 'patterns' } as const;

/**
 * Redis drops a subscriber whose unread output passes 32 MB (client-output-buffer-limit pubsub);
 * a client that stops reading its stream is dropped at the same point.
 */
const MAX_UNREAD_BYTES = 32 * 1024 * 1024;

/** The subscription a request's path asks for, or undefined when it is another command. */
export function subscribeRequestOf(url: URL): SubscribeRequest | RedisErrorReply | undefined {
  const [first, ...rest] = url.pathname.split('/').filter((segment) => segment !== '');
  const command = first?.toLowerCase();
  if (command !== 'subscribe' && command !== 'psubscribe') return undefined;
  if (rest.length === 0) {
    return new RedisErrorReply(`ERR wrong number of arguments for '${command}' command`);
  }
  try {
    const names = rest.map((segment) => Buffer.from(decodeURIComponent(segment)));
    return { mode: MODES[command], command, names };
  } catch {
    return new RedisErrorReply('ERR malformed percent-encoding in path');
  }
}

function eventFields(event: PubSubEvent): Buffer[] {
  switch (event.kind) {
    case 'subscribe':
    case 'psubscribe':
      return [Buffer.from(event.kind), event.name, Buffer.from(String(event.count))];
    case 'message':
      return [Buffer.from('message'), event.channel, event.payload];
    case 'pmessage':
      return [Buffer.from('pmessage'), event.pattern, event.channel, event.payload];
  }
}

const DATA = Buffer.from('data: ');
const LF = Buffer.from('\n');

/**
 * One SSE event. A payload with line breaks gets one `data:` line per line, as the SSE format
 * requires; an EventSource joins them again, @upstash/redis keeps only the first.
 */
export function sseEvent(event: PubSubEvent): Buffer {
  const comma = Buffer.from(',');
  const data = Buffer.concat(
    eventFields(event).flatMap((field, i) => (i === 0 ? [field] : [comma, field])),
  );
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= data.length; i++) {
    const byte = data[i];
    if (i < data.length && byte !== 0x0a && byte !== 0x0d) continue;
    parts.push(DATA, data.subarray(start, i), LF);
    // CR LF is one line break.
    if (byte === 0x0d && data[i + 1] === 0x0a) i++;
    start = i + 1;
  }
  parts.push(LF);
  return Buffer.concat(parts);
}

const HEARTBEAT = Buffer.from(': keep-alive\n\n');

/**
 * Subscribes on the backend and answers with the stream of its events; the stream ends when the
 * backend ends the subscription, and the subscription ends when the client goes away.
 */
export async function subscribeStream(
  backend: RedisBackend,
  request: SubscribeRequest,
  options: SubscribeStreamOptions,
): Promise<Response | RedisErrorReply> {
  if (backend.subscribe === undefined) {
    return new RedisErrorReply(
      `ERR ${request.command.toUpperCase()} is not supported by the ${backend.description} backend`,
    );
  }
  let subscription: PubSubSubscription | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const finish = () => {
    open = false;
    clearInterval(heartbeat);
    subscription?.close();
  };
  const send = (bytes: Buffer) => {
    if (!open) return;
    controller.enqueue(bytes);
    if ((controller.desiredSize ?? 0) < -MAX_UNREAD_BYTES) {
      finish();
      controller.error(new Error('subscriber too slow: output buffer limit reached'));
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (streamController) => {
        controller = streamController;
      },
      cancel: finish,
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  const outcome = await backend.subscribe(request.mode, request.names, {
    event: (event) => send(sseEvent(event)),
    ended: () => {
      if (!open) return;
      finish();
      controller.close();
    },
  });
  if (outcome instanceof RedisErrorReply) return outcome;
  subscription = outcome;
  // The subscription may have ended while its confirmation was on its way here.
  if (!open) subscription.close();
  else {
    heartbeat = setInterval(() => send(HEARTBEAT), options.heartbeatMs);
    heartbeat.unref();
  }
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    },
  });
}
