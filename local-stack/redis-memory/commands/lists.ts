import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable } from '../command.ts';
import { isError, NO_SUCH_KEY, NOT_INTEGER, NOT_POSITIVE, wrongArity } from '../errors.ts';
import { indexWindow } from '../index-window.ts';
import { keyOf } from '../keyspace.ts';
import { parseDouble, parseInteger } from '../numbers.ts';

function readList(context: CommandContext, args: Buffer[]) {
  return context.keyspace.typed(keyOf(arg(args, 1)), 'list');
}

function push(side: 'left' | 'right', onlyIfExists: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const existing = readList(context, args);
    if (isError(existing)) return existing;
    if (existing === undefined && onlyIfExists) return 0;
    const list = context.keyspace.writable(keyOf(arg(args, 1)), 'list', () => []);
    if (isError(list)) return list;
    for (const element of args.slice(2)) {
      if (side === 'left') list.unshift(element);
      else list.push(element);
    }
    return list.length;
  };
}

function pop(side: 'left' | 'right', name: string) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    if (args.length > 3) return wrongArity(name);
    let count: number | null = null;
    if (args[2] !== undefined) {
      count = parseInteger(args[2]);
      if (count === null || count < 0) return NOT_POSITIVE;
    }
    const list = readList(context, args);
    if (isError(list)) return list;
    if (list === undefined) return null;
    if (count === 0) return [];
    const taken =
      side === 'left' ? list.splice(0, count ?? 1) : list.splice(-(count ?? 1)).reverse();
    return count === null ? (taken[0] ?? null) : taken;
  };
}

/** LRANGE / LTRIM: the indexes are checked before the key, as Redis does. */
function listWindow(
  context: CommandContext,
  args: Buffer[],
): { list: Buffer[] | undefined; range: [number, number] | null } | RedisErrorReply {
  const start = parseInteger(arg(args, 2));
  const stop = parseInteger(arg(args, 3));
  if (start === null || stop === null) return NOT_INTEGER;
  const list = readList(context, args);
  if (isError(list)) return list;
  return { list, range: indexWindow(start, stop, list?.length ?? 0) };
}

/**
 * BLPOP / BRPOP's timeout in seconds (0: forever), or the error Redis gives for it. The backend
 * does the waiting; the command itself only ever pops what is there now.
 */
export function blockingTimeout(args: Buffer[]): number | RedisErrorReply {
  const seconds = parseDouble(args.at(-1) ?? Buffer.alloc(0));
  if (seconds === null || !Number.isFinite(seconds)) {
    return new RedisErrorReply('ERR timeout is not a float or out of range');
  }
  if (seconds < 0) return new RedisErrorReply('ERR timeout is negative');
  return seconds;
}

function blockingPop(side: 'left' | 'right') {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const timeout = blockingTimeout(args);
    if (isError(timeout)) return timeout;
    for (const keyBytes of args.slice(1, -1)) {
      const key = keyOf(keyBytes);
      const list = context.keyspace.typed(key, 'list');
      if (isError(list)) return list;
      const element = side === 'left' ? list?.shift() : list?.pop();
      if (element === undefined) continue;
      context.keyspace.dropIfEmpty(key);
      return [keyBytes, element];
    }
    return null;
  };
}

export const listCommands: CommandTable = {
  blpop: { arity: -3, write: true, noScript: true, blocking: true, run: blockingPop('left') },
  brpop: { arity: -3, write: true, noScript: true, blocking: true, run: blockingPop('right') },
  lpush: { arity: -3, write: true, run: push('left', false) },
  rpush: { arity: -3, write: true, run: push('right', false) },
  lpushx: { arity: -3, write: true, run: push('left', true) },
  rpushx: { arity: -3, write: true, run: push('right', true) },
  lpop: { arity: -2, write: true, run: pop('left', 'lpop') },
  rpop: { arity: -2, write: true, run: pop('right', 'rpop') },
  llen: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const list = readList(context, args);
      return isError(list) ? list : (list?.length ?? 0);
    },
  },
  lrange: {
    arity: 4,
    write: false,
    run: (context, args) => {
      const window = listWindow(context, args);
      if (isError(window)) return window;
      const { list, range } = window;
      return range === null || list === undefined ? [] : list.slice(range[0], range[1] + 1);
    },
  },
  ltrim: {
    arity: 4,
    write: true,
    run: (context, args) => {
      const window = listWindow(context, args);
      if (isError(window)) return window;
      const { list, range } = window;
      if (list !== undefined) {
        const kept = range === null ? [] : list.slice(range[0], range[1] + 1);
        list.splice(0, list.length, ...kept);
      }
      return new RedisStatusReply('OK');
    },
  },
  lindex: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const list = readList(context, args);
      if (isError(list) || list === undefined) return list ?? null;
      const index = parseInteger(arg(args, 2));
      if (index === null) return NOT_INTEGER;
      return list.at(index) ?? null;
    },
  },
  lset: {
    arity: 4,
    write: true,
    run: (context, args) => {
      const list = readList(context, args);
      if (isError(list)) return list;
      if (list === undefined) return NO_SUCH_KEY;
      const index = parseInteger(arg(args, 2));
      if (index === null) return NOT_INTEGER;
      const position = index < 0 ? list.length + index : index;
      if (position < 0 || position >= list.length) {
        return new RedisErrorReply('ERR index out of range');
      }
      list[position] = arg(args, 3);
      return new RedisStatusReply('OK');
    },
  },
  lrem: {
    arity: 4,
    write: true,
    run: (context, args) => {
      const count = parseInteger(arg(args, 2));
      if (count === null) return NOT_INTEGER;
      const list = readList(context, args);
      if (isError(list)) return list;
      if (list === undefined) return 0;
      const element = arg(args, 3);
      const limit = count === 0 ? Infinity : Math.abs(count);
      const order = count < 0 ? [...list.keys()].reverse() : [...list.keys()];
      const doomed = new Set<number>();
      for (const i of order) {
        if (doomed.size >= limit) break;
        if (list[i]?.equals(element)) doomed.add(i);
      }
      const kept = list.filter((_element, i) => !doomed.has(i));
      list.splice(0, list.length, ...kept);
      return doomed.size;
    },
  },
};
