// The embedded Redis: the same RedisBackend contract as a real server over RESP, answered from
// memory, so the Upstash REST front end works where no Redis runs. Every command runs to
// completion synchronously, which makes single commands, transactions and scripts atomic.
import type {
  PubSubListener,
  PubSubSubscription,
  RedisBackend,
  RedisCommand,
  RedisErrorReply,
  RedisReply,
  SubscribeMode,
} from '../redis-rest/backend.ts';
import {
  arityMatches,
  type BlockedCall,
  type CommandContext,
  type CommandSpec,
} from './command.ts';
import { bitmapCommands } from './commands/bitmaps.ts';
import { geoCommands } from './commands/geo.ts';
import { hashCommands } from './commands/hashes.ts';
import { hyperLogLogCommands } from './commands/hyperloglog.ts';
import { keyCommands } from './commands/keys.ts';
import { blockingTimeout, listCommands } from './commands/lists.ts';
import { pubSubCommands } from './commands/pubsub.ts';
import { scriptingCommands } from './commands/scripting.ts';
import { serverCommands } from './commands/server.ts';
import { setCommands } from './commands/sets.ts';
import { sortedSetCommands } from './commands/sorted-sets.ts';
import { streamGroupCommands } from './commands/stream-groups.ts';
import { streamCommands } from './commands/streams.ts';
import { stringCommands } from './commands/strings.ts';
import { EXEC_ABORT, isError, unknownCommand, wrongArity } from './errors.ts';
import { Keyspace, keyOf } from './keyspace.ts';
import { LuaScripts } from './lua-scripts.ts';
import { Subscribers } from './subscribers.ts';

const COMMANDS = new Map<string, CommandSpec>(
  Object.entries({
    ...serverCommands,
    ...keyCommands,
    ...stringCommands,
    ...hashCommands,
    ...setCommands,
    ...sortedSetCommands,
    ...listCommands,
    ...scriptingCommands,
    ...bitmapCommands,
    ...hyperLogLogCommands,
    ...geoCommands,
    ...pubSubCommands,
    ...streamCommands,
    ...streamGroupCommands,
  }),
);

const SWEEP_INTERVAL_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Redis's default lua-time-limit. */
const SCRIPT_TIME_LIMIT_MS = 5_000;

export interface MemoryRedisOptions {
  /** Clock in ms for expiry and TIME; tests inject their own. Default Date.now. */
  now?: () => number;
  /** A script still running after this long is stopped with Redis's SCRIPT KILL error. */
  scriptTimeLimitMs?: number;
}

type Resolved = { spec: CommandSpec } | { error: RedisErrorReply };

/** A blocked command waiting for data, in arrival order. */
interface Waiter {
  /** Its reply once served, or undefined to keep waiting. */
  retry: () => RedisReply | undefined;
  resolve: (reply: RedisReply) => void;
  timer: NodeJS.Timeout | undefined;
}

export class MemoryRedisBackend implements RedisBackend {
  readonly description = 'memory';
  readonly #context: CommandContext;
  readonly #sweep: NodeJS.Timeout;
  readonly #waiters: Waiter[] = [];

  constructor(options: MemoryRedisOptions = {}) {
    const keyspace = new Keyspace(options.now ?? Date.now);
    const scripts = new LuaScripts({
      lookup: (name) => COMMANDS.get(name),
      run: (spec, args) => this.#run(spec, args, { ...this.#context, inScript: true }),
      scriptTimeLimitMs: options.scriptTimeLimitMs ?? SCRIPT_TIME_LIMIT_MS,
    });
    const others = new Map<number, Keyspace>();
    const database = (index: number): Keyspace => {
      if (index === 0) return keyspace;
      const other = others.get(index) ?? new Keyspace(options.now ?? Date.now);
      others.set(index, other);
      return other;
    };
    this.#context = { keyspace, scripts, database, subscribers: new Subscribers() };
    this.#sweep = setInterval(() => keyspace.sweep(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
  }

  #resolve(command: RedisCommand): Resolved {
    const name = command[0]?.toString('latin1').toLowerCase() ?? '';
    const spec = COMMANDS.get(name);
    if (spec === undefined) return { error: unknownCommand(command) };
    if (!arityMatches(spec, command.length)) return { error: wrongArity(name) };
    return { spec };
  }

  #run(spec: CommandSpec, args: Buffer[], context = this.#context): RedisReply {
    const reply = spec.run(context, args);
    // Commands create collections before filling them; Redis never keeps an empty one.
    if (spec.write && args[1] !== undefined) this.#context.keyspace.dropIfEmpty(keyOf(args[1]));
    return reply;
  }

  /** How a command that found nothing waits, if it does: BLPOP-style or by its own rule. */
  #blockingWait(spec: CommandSpec, args: Buffer[]): BlockedCall | undefined {
    if (spec.block) return spec.block(this.#context, args);
    if (!spec.blocking) return undefined;
    const seconds = blockingTimeout(args);
    return {
      seconds: typeof seconds === 'number' ? seconds : 0,
      // A key turned into another type keeps the client waiting, as in Redis.
      retry: () => {
        const reply = this.#run(spec, args);
        return reply === null || isError(reply) ? undefined : reply;
      },
    };
  }

  #wait({ seconds, retry }: BlockedCall): Promise<RedisReply> {
    return new Promise((resolve) => {
      const waiter: Waiter = { retry: () => retry(this.#context), resolve, timer: undefined };
      // Past setTimeout's limit (about 24.8 days) the wait is as good as forever.
      if (seconds > 0 && seconds * 1000 <= MAX_TIMER_MS) {
        waiter.timer = setTimeout(() => this.#release(waiter, null), seconds * 1000);
      }
      this.#waiters.push(waiter);
    });
  }

  #release(waiter: Waiter, reply: RedisReply): void {
    const index = this.#waiters.indexOf(waiter);
    if (index !== -1) this.#waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }

  /** After a write, the oldest waiters get first pick of whatever arrived. */
  #serveWaiters(): void {
    for (const waiter of [...this.#waiters]) {
      const reply = waiter.retry();
      if (reply !== undefined) this.#release(waiter, reply);
    }
  }

  async call(command: RedisCommand): Promise<RedisReply> {
    const resolved = this.#resolve(command);
    if ('error' in resolved) return resolved.error;
    const reply = this.#run(resolved.spec, command);
    const blocked = reply === null ? this.#blockingWait(resolved.spec, command) : undefined;
    if (blocked !== undefined) return this.#wait(blocked);
    if (resolved.spec.write) this.#serveWaiters();
    return reply;
  }

  /** Blocking commands inside a transaction answer at once, as in MULTI. */
  async transaction(commands: RedisCommand[]): Promise<RedisReply[] | RedisErrorReply> {
    const resolved = commands.map((command) => this.#resolve(command));
    if (resolved.some((entry) => 'error' in entry)) return EXEC_ABORT;
    const replies = resolved.map((entry, i) =>
      'spec' in entry ? this.#run(entry.spec, commands[i] ?? []) : entry.error,
    );
    this.#serveWaiters();
    return replies;
  }

  /** SUBSCRIBE / PSUBSCRIBE for the REST server's Server-Sent Events; PUBLISH reaches them. */
  async subscribe(
    mode: SubscribeMode,
    names: Buffer[],
    listener: PubSubListener,
  ): Promise<PubSubSubscription | RedisErrorReply> {
    return this.#context.subscribers.subscribe(mode, names, listener);
  }

  /** Stops the sweep; commands still blocked get the timeout reply, subscriptions end. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const waiter of [...this.#waiters]) this.#release(waiter, null);
    this.#context.subscribers.endAll();
  }
}
