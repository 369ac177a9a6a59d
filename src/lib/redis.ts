// Upstash Redis, spoken to over its REST API with fetch. The official client holds a method and a
// command class for every Redis command, so none of it tree-shakes: about 20 KiB of the Worker's
// 150 KiB gzip budget for the handful of commands the app and its rate limiter send. Tooling and
// the contract tests keep using it, so the wire format relied on here is checked by the official
// client against the local server.
//
// What is kept of the official client's behaviour, because callers rely on it:
// - Auto-pipelining: commands issued within the same few microtasks go out as ONE POST /pipeline,
//   so the rate-limit check, the token deny-list and the cache read of a request share one round
//   trip. Reads and writes share it too (the official client sends them as two parallel requests).
//   Each command's error comes back on its own promise.
// - Values: a non-string value is stored as JSON text, and a reply that parses as JSON is returned
//   parsed (a number only when it survives the round trip unchanged), as the official client does.
// - Errors name the failed command but never its arguments: keys carry token ids and key hashes.

import { fetchFailureReason } from './fetch-failure.ts';

/** Upstash answered with an error, answered badly, or could not be reached. */
export class RedisError extends Error {
  override name = 'RedisError';
}

/** Redis refused one command (WRONGTYPE, a script error): the command's fault, not an outage. */
export class RedisCommandError extends RedisError {
  override name = 'RedisCommandError';
}

export interface RedisOptions {
  /** The REST URL, e.g. `UPSTASH_REDIS_REST_URL`. */
  url: string;
  token: string;
  /** How long one HTTP request may take before it fails as Redis unavailable. */
  timeoutMs: number;
}

/** At most one expiry; `nx`/`xx` set only a missing / an existing key. */
export interface SetOptions {
  ex?: number;
  px?: number;
  exat?: number;
  pxat?: number;
  nx?: boolean;
  xx?: boolean;
}

type Argument = string | number;

/** A command as Upstash takes it: its name, then its arguments. */
type Command = Argument[];

interface Reply {
  result?: unknown;
  error?: string;
}

interface Pending {
  command: Command;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

// A connection the server closed while idle fails the next fetch at once; one retry after a short
// pause covers that without holding a request up for long when Redis is really gone.
const retryPauseMs = 50;

function serialize(value: unknown): Argument {
  return typeof value === 'string' || typeof value === 'number' ? value : JSON.stringify(value);
}

function setCommand(key: string, value: unknown, options: SetOptions = {}): Command {
  const command: Argument[] = ['set', key, serialize(value)];
  if (options.nx) command.push('nx');
  else if (options.xx) command.push('xx');
  if (options.ex !== undefined) command.push('ex', options.ex);
  else if (options.px !== undefined) command.push('px', options.px);
  else if (options.exat !== undefined) command.push('exat', options.exat);
  else if (options.pxat !== undefined) command.push('pxat', options.pxat);
  return command;
}

function scriptCommand(name: string, script: string, keys: string[], args: unknown[]): Command {
  return [name, script, keys.length, ...keys, ...args.map(serialize)];
}

function parseRecursive(raw: unknown): unknown {
  const parsed = Array.isArray(raw)
    ? raw.map((item) => {
        try {
          return parseRecursive(item);
        } catch {
          return item;
        }
      })
    : JSON.parse(raw as string);
  // A long number, such as a snowflake id stored as text, would lose digits as a JS number.
  return typeof parsed === 'number' && parsed.toString() !== raw ? raw : parsed;
}

/** The official client's automatic deserialization: JSON text becomes its value. */
export function deserialize(raw: unknown): unknown {
  try {
    return parseRecursive(raw);
  } catch {
    return raw;
  }
}

function commandError(command: Command, error: string): RedisCommandError {
  return new RedisCommandError(`${String(command[0]).toUpperCase()} failed: ${error}`);
}

async function failureDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    if (typeof error === 'string') return error;
  } catch {
    // Not JSON: an outage page or a proxy's answer; its start is enough to tell which.
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export class RedisTransaction {
  readonly #commands: Command[] = [];
  readonly #send: (path: string, commands: Command[]) => Promise<Reply[]>;

  constructor(send: (path: string, commands: Command[]) => Promise<Reply[]>) {
    this.#send = send;
  }

  set(key: string, value: unknown, options?: SetOptions): this {
    this.#commands.push(setCommand(key, value, options));
    return this;
  }

  incr(key: string): this {
    this.#commands.push(['incr', key]);
    return this;
  }

  /** Runs the commands as one MULTI/EXEC; rejects if any of them failed. */
  async exec<T extends unknown[] = unknown[]>(): Promise<T> {
    const commands = this.#commands;
    const replies = await this.#send('multi-exec', commands);
    return replies.map((reply, index) => {
      if (reply.error !== undefined) throw commandError(commands[index] ?? [], reply.error);
      return deserialize(reply.result);
    }) as T;
  }
}

export class UpstashRedis {
  readonly #baseUrl: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  #queue: Pending[] = [];
  // Upstash's read-your-writes token: a later request waits for a replica to have seen the
  // writes this client made, as the official client asks by default.
  #syncToken = '';

  constructor(options: RedisOptions) {
    this.#baseUrl = options.url.replace(/\/+$/, '');
    this.#authorization = `Bearer ${options.token}`;
    this.#timeoutMs = options.timeoutMs;
  }

  get<T = unknown>(key: string): Promise<T | null> {
    return this.#enqueue(['get', key]) as Promise<T | null>;
  }

  /** GETEX without options: reads like GET, but Upstash treats it as a write (the primary answers). */
  getex<T = unknown>(key: string): Promise<T | null> {
    return this.#enqueue(['getex', key]) as Promise<T | null>;
  }

  mget<T extends unknown[] = unknown[]>(...keys: string[]): Promise<T> {
    return this.#enqueue(['mget', ...keys]) as Promise<T>;
  }

  /** 'OK', or null when `nx`/`xx` kept the value from being set. */
  set(key: string, value: unknown, options?: SetOptions): Promise<'OK' | null> {
    return this.#enqueue(setCommand(key, value, options)) as Promise<'OK' | null>;
  }

  /** How many of the keys existed. */
  del(...keys: string[]): Promise<number> {
    return this.#enqueue(['del', ...keys]) as Promise<number>;
  }

  incr(key: string): Promise<number> {
    return this.#enqueue(['incr', key]) as Promise<number>;
  }

  ping(): Promise<string> {
    return this.#enqueue(['ping']) as Promise<string>;
  }

  /** Rejects with a message containing NOSCRIPT when Redis does not know the script yet. */
  evalsha<TArgs extends unknown[], TData = unknown>(
    sha1: string,
    keys: string[],
    args: TArgs,
  ): Promise<TData> {
    return this.#enqueue(scriptCommand('evalsha', sha1, keys, args)) as Promise<TData>;
  }

  eval<TArgs extends unknown[], TData = unknown>(
    script: string,
    keys: string[],
    args: TArgs,
  ): Promise<TData> {
    return this.#enqueue(scriptCommand('eval', script, keys, args)) as Promise<TData>;
  }

  /** A transaction, sent on its own as one POST /multi-exec when exec() is called. */
  multi(): RedisTransaction {
    return new RedisTransaction((path, commands) => this.#send(path, commands));
  }

  #enqueue(command: Command): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) {
        // The window the official client leaves: three microtasks, enough for the middleware
        // that starts a request's commands one after another to land them in the same batch.
        void Promise.resolve()
          .then(() => undefined)
          .then(() => undefined)
          .then(() => this.#flush());
      }
      this.#queue.push({ command, resolve, reject });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    try {
      const replies = await this.#send(
        'pipeline',
        batch.map((pending) => pending.command),
      );
      batch.forEach((pending, index) => {
        const reply = replies[index] as Reply;
        if (reply.error !== undefined) pending.reject(commandError(pending.command, reply.error));
        else pending.resolve(deserialize(reply.result));
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  async #send(path: string, commands: Command[]): Promise<Reply[]> {
    const response = await this.#post(path, JSON.stringify(commands));
    if (!response.ok) {
      throw new RedisError(
        `Upstash Redis answered ${response.status}: ${await failureDetail(response)}`,
      );
    }
    this.#syncToken = response.headers.get('upstash-sync-token') ?? this.#syncToken;
    let replies: unknown;
    try {
      replies = await response.json();
    } catch {
      throw new RedisError('Upstash Redis answered with a body that is not JSON');
    }
    if (!Array.isArray(replies) || replies.length !== commands.length) {
      throw new RedisError(`Upstash Redis answered ${commands.length} commands unexpectedly`);
    }
    return replies as Reply[];
  }

  async #post(path: string, body: string): Promise<Response> {
    const init = {
      method: 'POST',
      headers: {
        authorization: this.#authorization,
        'content-type': 'application/json',
        'upstash-sync-token': this.#syncToken,
      },
      body,
    };
    const url = `${this.#baseUrl}/${path}`;
    const attempt = () => fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
    const unreachable = (error: unknown) =>
      new RedisError(`Upstash Redis unreachable: ${fetchFailureReason(error, this.#timeoutMs)}`, {
        cause: error,
      });
    try {
      return await attempt();
    } catch (error) {
      // A Redis that did not answer in time gets no second wait.
      if (error instanceof Error && error.name === 'TimeoutError') throw unreachable(error);
      await new Promise((resume) => setTimeout(resume, retryPauseMs));
      try {
        return await attempt();
      } catch (retryError) {
        throw unreachable(retryError);
      }
    }
  }
}
