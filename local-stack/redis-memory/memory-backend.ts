// The embedded Redis: the same RedisBackend contract as a real server over RESP, answered from
// memory, so the Upstash REST front end works where no Redis runs. Every command runs to
// completion synchronously, which makes single commands, transactions and scripts atomic.
import type {
  RedisBackend,
  RedisCommand,
  RedisErrorReply,
  RedisReply,
} from '../redis-rest/backend.ts';
import { arityMatches, type CommandContext, type CommandSpec } from './command.ts';
import { hashCommands } from './commands/hashes.ts';
import { keyCommands } from './commands/keys.ts';
import { blockingTimeout, listCommands } from './commands/lists.ts';
import { scriptingCommands } from './commands/scripting.ts';
import { serverCommands } from './commands/server.ts';
import { setCommands } from './commands/sets.ts';
import { sortedSetCommands } from './commands/sorted-sets.ts';
import { stringCommands } from './commands/strings.ts';
import { EXEC_ABORT, isError, unknownCommand, wrongArity } from './errors.ts';
import { Keyspace, keyOf } from './keyspace.ts';
import { LuaScripts } from './lua-scripts.ts';

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
  }),
);

const SWEEP_INTERVAL_MS = 1_000;
/** Redis's default lua-time-limit. */
const SCRIPT_TIME_LIMIT_MS = 5_000;

export interface MemoryRedisOptions {
  /** Clock in ms for expiry and TIME; tests inject their own. Default Date.now. */
  now?: () => number;
  /** A script still running after this long is stopped with Redis's SCRIPT KILL error. */
  scriptTimeLimitMs?: number;
}

type Resolved = { spec: CommandSpec } | { error: RedisErrorReply };

/** A BLPOP-style command waiting for data, in arrival order. */
interface Waiter {
  spec: CommandSpec;
  args: Buffer[];
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
      run: (spec, args) => this.#run(spec, args),
      scriptTimeLimitMs: options.scriptTimeLimitMs ?? SCRIPT_TIME_LIMIT_MS,
    });
    this.#context = { keyspace, scripts };
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

  #run(spec: CommandSpec, args: Buffer[]): RedisReply {
    const reply = spec.run(this.#context, args);
    // Commands create collections before filling them; Redis never keeps an empty one.
    if (spec.write && args[1] !== undefined) this.#context.keyspace.dropIfEmpty(keyOf(args[1]));
    return reply;
  }

  #wait(spec: CommandSpec, args: Buffer[]): Promise<RedisReply> {
    const seconds = blockingTimeout(args);
    return new Promise((resolve) => {
      const waiter: Waiter = { spec, args, resolve, timer: undefined };
      if (typeof seconds === 'number' && seconds > 0) {
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
      const reply = this.#run(waiter.spec, waiter.args);
      // A key turned into another type keeps the client waiting, as in Redis.
      if (reply !== null && !isError(reply)) this.#release(waiter, reply);
    }
  }

  async call(command: RedisCommand): Promise<RedisReply> {
    const resolved = this.#resolve(command);
    if ('error' in resolved) return resolved.error;
    const reply = this.#run(resolved.spec, command);
    if (resolved.spec.blocking && reply === null) return this.#wait(resolved.spec, command);
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

  /** Stops the sweep; commands still blocked get the timeout reply. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    for (const waiter of [...this.#waiters]) this.#release(waiter, null);
  }
}
