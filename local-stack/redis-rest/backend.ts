// What the Upstash REST front end needs from whatever executes Redis commands: a real Redis over
// RESP, or the embedded in-memory engine. Replies keep RESP's shapes so the front end encodes both
// the same way.

/** A RESP error reply, e.g. "ERR wrong number of arguments for 'get' command". */
export class RedisErrorReply {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** A RESP simple-string reply such as OK or PONG (bulk strings are Buffers). */
export class RedisStatusReply {
  readonly status: string;
  constructor(status: string) {
    this.status = status;
  }
}

export type RedisReply = null | number | Buffer | RedisStatusReply | RedisErrorReply | RedisReply[];

/** Command name and arguments as bytes, exactly as Redis receives them. */
export type RedisCommand = Buffer[];

/** What a subscription receives, as Redis pushes it on a subscribed connection. */
export type PubSubEvent =
  | { kind: 'subscribe' | 'psubscribe'; name: Buffer; count: number }
  | { kind: 'message'; channel: Buffer; payload: Buffer }
  | { kind: 'pmessage'; pattern: Buffer; channel: Buffer; payload: Buffer };

export interface PubSubListener {
  /** Confirmations first (one per name), then messages, in the order the backend saw them. */
  event(event: PubSubEvent): void;
  /** The backend ended the subscription by itself (Redis went away, backend closed). */
  ended(): void;
}

export interface PubSubSubscription {
  /** Unsubscribes and frees what the subscription holds; `ended` is not called. Idempotent. */
  close(): void;
}

/** SUBSCRIBE takes channel names, PSUBSCRIBE glob patterns. */
export type SubscribeMode = 'channels' | 'patterns';

export interface RedisBackend {
  /** "redis redis://127.0.0.1:6379" or "memory", for the start-up line. */
  readonly description: string;
  /**
   * Runs one command. A Redis error comes back as a RedisErrorReply; the promise rejects only when
   * the backend cannot be reached, which the front end reports as its own error.
   */
  call(command: RedisCommand): Promise<RedisReply>;
  /**
   * Runs commands atomically (MULTI/EXEC). Queue-time errors (unknown command, wrong arity) abort
   * the whole transaction with one RedisErrorReply; run-time errors stay per command.
   */
  transaction(commands: RedisCommand[]): Promise<RedisReply[] | RedisErrorReply>;
  /**
   * SUBSCRIBE or PSUBSCRIBE `names` apart from every other caller, as a dedicated Redis connection
   * would: what Upstash serves as Server-Sent Events. Resolves once the backend has confirmed, the
   * confirmations already handed to `listener`, or with the RedisErrorReply it refused with; PUBLISH
   * through `call` reaches the subscription. A backend without pub/sub leaves this out.
   */
  subscribe?(
    mode: SubscribeMode,
    names: Buffer[],
    listener: PubSubListener,
  ): Promise<PubSubSubscription | RedisErrorReply>;
  close(): Promise<void>;
}
