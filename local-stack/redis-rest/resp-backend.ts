// A real Redis behind the REST front end, reached over one pipelined RESP2 connection. Replies stay
// raw (no client-side reshaping such as HGETALL to an object) so the front end sees what Redis said.
// The connection is opened lazily and reopened by the next command after Redis went away, so the
// front end survives a Redis restart without being restarted itself. Each subscription, like each
// blocking command, gets a connection of its own.
import { connect, type Socket } from 'node:net';
import {
  type PubSubListener,
  type PubSubSubscription,
  type RedisBackend,
  type RedisCommand,
  RedisErrorReply,
  type RedisReply,
  type SubscribeMode,
} from './backend.ts';
import { parseRedisUrl, type RedisAddress } from './redis-url.ts';
import { encodeCommand, RespReplyParser } from './resp-protocol.ts';
import { RespSubscription } from './resp-subscription.ts';

export class RedisUnavailableError extends Error {}

interface PendingReply {
  resolve(reply: RedisReply): void;
  reject(error: Error): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

export interface RespBackendOptions {
  /** How long to wait for a TCP connection to Redis. */
  connectTimeoutMs?: number;
  /**
   * How long Redis may stay silent while replies are owed before the connection is dropped and
   * the waiting commands fail, so a frozen Redis cannot hang requests. Blocking commands are exempt.
   */
  replyTimeoutMs?: number;
}

const BLOCKING_COMMANDS = new Set([
  'BLMOVE',
  'BLMPOP',
  'BLPOP',
  'BRPOP',
  'BRPOPLPUSH',
  'BZMPOP',
  'BZPOPMAX',
  'BZPOPMIN',
  'WAIT',
]);

function isBlocking(command: RedisCommand): boolean {
  const name = command[0]?.toString('latin1').toUpperCase() ?? '';
  if (BLOCKING_COMMANDS.has(name)) return true;
  return (
    (name === 'XREAD' || name === 'XREADGROUP') &&
    command.some((arg) => arg.toString('latin1').toUpperCase() === 'BLOCK')
  );
}

/** Replies nobody is waiting for: what Redis pushes to a subscribed connection. */
type PushHandler = (reply: RedisReply) => void;

class RespConnection {
  readonly #socket: Socket;
  readonly #parser = new RespReplyParser();
  readonly #pending: PendingReply[] = [];
  readonly #onPush: PushHandler | undefined;
  #open = true;

  constructor(
    socket: Socket,
    replyTimeoutMs: number | undefined,
    onClosed: (connection: RespConnection) => void,
    onPush: PushHandler | undefined,
  ) {
    this.#socket = socket;
    this.#onPush = onPush;
    if (replyTimeoutMs !== undefined) {
      // Fires after that long without traffic either way; only silence while owed replies counts.
      socket.setTimeout(replyTimeoutMs, () => {
        if (this.#pending.length === 0) return;
        this.#failAll(new RedisUnavailableError(`no reply from Redis within ${replyTimeoutMs} ms`));
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#open = false;
      onClosed(this);
      this.#failAll(new RedisUnavailableError('connection to Redis lost'));
    });
  }

  get open(): boolean {
    return this.#open;
  }

  /** Writes all commands in one write, so nothing sent by another caller can land between them. */
  send(commands: RedisCommand[]): Promise<RedisReply>[] {
    if (!this.#open) {
      return commands.map(() =>
        Promise.reject(new RedisUnavailableError('connection to Redis lost')),
      );
    }
    const replies = commands.map(
      (): Promise<RedisReply> =>
        new Promise((resolve, reject) => this.#pending.push({ resolve, reject })),
    );
    // Corked until the next tick, the commands of one pipeline leave in as few packets as possible.
    if (!this.#socket.writableCorked) {
      this.#socket.cork();
      process.nextTick(() => this.#socket.uncork());
    }
    this.#socket.write(Buffer.concat(commands.map(encodeCommand)));
    return replies;
  }

  /** SUBSCRIBE and the like: every reply goes to the push handler. */
  sendUnanswered(command: RedisCommand): void {
    if (this.#open) this.#socket.write(encodeCommand(command));
  }

  close(): void {
    this.#socket.end();
  }

  #receive(chunk: Buffer): void {
    let replies: RedisReply[];
    try {
      replies = this.#parser.push(chunk);
    } catch {
      this.#socket.destroy();
      return;
    }
    for (const reply of replies) {
      const pending = this.#pending.shift();
      if (pending !== undefined) pending.resolve(reply);
      else this.#onPush?.(reply);
    }
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.splice(0)) pending.reject(error);
  }
}

function sendOne(connection: RespConnection, command: RedisCommand): Promise<RedisReply> {
  const [reply] = connection.send([command]);
  if (reply === undefined) throw new Error('send returned no reply for one command');
  return reply;
}

function openSocket(address: RedisAddress, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new RedisUnavailableError(`cannot reach Redis at ${address.display}: ${reason}`));
    };
    const timer = setTimeout(() => fail(`no connection after ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true);
      resolve(socket);
    });
  });
}

function handshakeCommands(address: RedisAddress): RedisCommand[] {
  const commands: RedisCommand[] = [];
  if (address.password !== undefined) {
    const credentials =
      address.username === undefined ? [address.password] : [address.username, address.password];
    commands.push(['AUTH', ...credentials].map((part) => Buffer.from(part)));
  }
  if (address.db !== 0) commands.push([Buffer.from('SELECT'), Buffer.from(String(address.db))]);
  return commands;
}

class RespBackend implements RedisBackend {
  readonly description: string;
  readonly #address: RedisAddress;
  readonly #connectTimeoutMs: number;
  readonly #replyTimeoutMs: number;
  #connection: RespConnection | undefined;
  #connecting: Promise<RespConnection> | undefined;
  readonly #subscribed = new Set<RespConnection>();
  #closed = false;

  constructor(address: RedisAddress, options: RespBackendOptions) {
    this.#address = address;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.description = `redis ${address.display}`;
  }

  call(command: RedisCommand): Promise<RedisReply> {
    if (isBlocking(command)) return this.#callAlone(command);
    const connection = this.#connection;
    // Writing synchronously when connected keeps the commands of one caller in their order.
    if (connection?.open) return sendOne(connection, command);
    return this.#connect().then((opened) => sendOne(opened, command));
  }

  async transaction(commands: RedisCommand[]): Promise<RedisReply[] | RedisErrorReply> {
    const connection = this.#connection?.open ? this.#connection : await this.#connect();
    const multi = [Buffer.from('MULTI')];
    const exec = [Buffer.from('EXEC')];
    const replies = await Promise.all(connection.send([multi, ...commands, exec]));
    const queued = replies.slice(1, -1);
    const queueError = queued.find((reply) => reply instanceof RedisErrorReply);
    if (queueError instanceof RedisErrorReply) return queueError;
    const result = replies.at(-1);
    if (result instanceof RedisErrorReply) return result;
    if (!Array.isArray(result)) return new RedisErrorReply('EXECABORT Transaction discarded.');
    return result;
  }

  async subscribe(
    mode: SubscribeMode,
    names: Buffer[],
    listener: PubSubListener,
  ): Promise<PubSubSubscription | RedisErrorReply> {
    const subscription = new RespSubscription(listener);
    const connection = await this.#openConnection(
      undefined,
      (closed) => {
        this.#subscribed.delete(closed);
        subscription.connectionClosed();
      },
      (reply) => subscription.receive(reply),
    );
    this.#subscribed.add(connection);
    const name = mode === 'channels' ? 'SUBSCRIBE' : 'PSUBSCRIBE';
    return subscription.start(connection, [Buffer.from(name), ...names]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connection?.close();
    this.#connection = undefined;
    for (const connection of this.#subscribed) connection.close();
  }

  // A blocking command would hold up every command queued behind it on the shared connection.
  async #callAlone(command: RedisCommand): Promise<RedisReply> {
    const connection = await this.#openConnection(undefined, () => {}, undefined);
    try {
      return await sendOne(connection, command);
    } finally {
      connection.close();
    }
  }

  #connect(): Promise<RespConnection> {
    this.#connecting ??= this.#openConnection(
      this.#replyTimeoutMs,
      (closed) => {
        if (this.#connection === closed) this.#connection = undefined;
      },
      undefined,
    )
      .then((connection) => {
        this.#connection = connection;
        return connection;
      })
      .finally(() => {
        this.#connecting = undefined;
      });
    return this.#connecting;
  }

  async #openConnection(
    replyTimeoutMs: number | undefined,
    onClosed: (connection: RespConnection) => void,
    onPush: PushHandler | undefined,
  ): Promise<RespConnection> {
    if (this.#closed) throw new RedisUnavailableError('Redis backend is closed');
    const socket = await openSocket(this.#address, this.#connectTimeoutMs);
    const connection = new RespConnection(socket, replyTimeoutMs, onClosed, onPush);
    const replies = await Promise.all(connection.send(handshakeCommands(this.#address)));
    const refused = replies.find((reply) => reply instanceof RedisErrorReply);
    if (refused instanceof RedisErrorReply) {
      connection.close();
      throw new RedisUnavailableError(`Redis at ${this.#address.display}: ${refused.message}`);
    }
    if (this.#closed) {
      connection.close();
      throw new RedisUnavailableError('Redis backend is closed');
    }
    return connection;
  }
}

/**
 * Connects to the Redis at `redisUrl` and resolves once it answers PING; rejects when it cannot be
 * reached, so the caller can fall back to the embedded engine.
 */
export async function connectRespBackend(
  redisUrl: string,
  options: RespBackendOptions = {},
): Promise<RedisBackend> {
  const backend = new RespBackend(parseRedisUrl(redisUrl), options);
  try {
    const pong = await backend.call([Buffer.from('PING')]);
    if (pong instanceof RedisErrorReply) throw new RedisUnavailableError(pong.message);
  } catch (error) {
    await backend.close();
    throw error;
  }
  return backend;
}
