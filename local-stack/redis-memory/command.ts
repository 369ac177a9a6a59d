// The shape every command implementation shares, with Redis's arity convention: a positive arity
// is the exact argument count including the name, a negative one the minimum.
import type { RedisErrorReply, RedisReply } from '../redis-rest/backend.ts';
import type { Keyspace } from './keyspace.ts';
import type { Subscribers } from './subscribers.ts';

/** What the scripting commands ask of the script cache (lua-scripts.ts implements it). */
export interface Scripts {
  load(source: Buffer): { sha: string } | RedisErrorReply;
  exists(sha: string): boolean;
  flush(): void;
  eval(source: Buffer, keys: Buffer[], argv: Buffer[], readOnly: boolean): RedisReply;
  evalsha(sha: string, keys: Buffer[], argv: Buffer[], readOnly: boolean): RedisReply;
}

export interface CommandContext {
  /** Database 0, the one every command works on. */
  keyspace: Keyspace;
  scripts: Scripts;
  /** Database `index` (0-15); only COPY ... DB reaches the others. */
  database(index: number): Keyspace;
  subscribers: Subscribers;
  /** Set while a Lua script runs the command (XREAD refuses BLOCK there). */
  inScript?: boolean;
}

/** A call waiting for data: its timeout, and what it answers after each write. */
export interface BlockedCall {
  /** 0 waits forever. */
  seconds: number;
  /** The reply once there is one (an error unblocks too), undefined to keep waiting. */
  retry(context: CommandContext): RedisReply | undefined;
}

export interface CommandSpec {
  arity: number;
  /** Write commands are refused from EVAL_RO and no-writes scripts. */
  write: boolean;
  /** Scripts may not call it (EVAL inside EVAL, MULTI...). */
  noScript?: boolean;
  /** BLPOP and friends: a null reply outside a transaction means "wait for data". */
  blocking?: boolean;
  /**
   * For commands that block only when asked (XREAD BLOCK): after a null reply outside a
   * transaction, how the call waits; undefined when it does not.
   */
  block?(context: CommandContext, args: Buffer[]): BlockedCall | undefined;
  /** Receives the whole argv, the name at index 0. */
  run(context: CommandContext, args: Buffer[]): RedisReply;
}

export type CommandTable = Record<string, CommandSpec>;

export function arityMatches(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}

/** The argv entry at `index`, which the arity check has already guaranteed to exist. */
export function arg(args: Buffer[], index: number): Buffer {
  const value = args[index];
  if (value === undefined) throw new RangeError(`argument ${index} missing after arity check`);
  return value;
}

export function optionName(bytes: Buffer | undefined): string {
  return bytes?.toString('latin1').toUpperCase() ?? '';
}
