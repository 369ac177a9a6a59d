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
  close(): Promise<void>;
}
