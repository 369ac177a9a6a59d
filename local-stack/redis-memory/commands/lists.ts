import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import {
  isError,
  NO_SUCH_KEY,
  NOT_INTEGER,
  NOT_POSITIVE,
  SYNTAX_ERROR,
  wrongArity,
} from '../errors.ts';
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

type End = 'left' | 'right';

/** LEFT or RIGHT, as LMOVE, BLMOVE and LMPOP read them. */
function parseEnd(bytes: Buffer | undefined): End | null {
  const end = optionName(bytes);
  return end === 'LEFT' ? 'left' : end === 'RIGHT' ? 'right' : null;
}

/** lmoveGenericCommand: null when the source is missing (BLMOVE then waits). */
function move(context: CommandContext, args: Buffer[], from: End, to: End): RedisReply {
  const source = readList(context, args);
  if (isError(source) || source === undefined || source.length === 0) return source ?? null;
  const destinationKey = keyOf(arg(args, 2));
  const destination = context.keyspace.typed(destinationKey, 'list');
  if (isError(destination)) return destination;
  const element = (from === 'left' ? source.shift() : source.pop()) ?? Buffer.alloc(0);
  const target = context.keyspace.writable(destinationKey, 'list', () => []);
  if (isError(target)) return target;
  if (to === 'left') target.unshift(element);
  else target.push(element);
  return element;
}

function lmove(context: CommandContext, args: Buffer[]): RedisReply {
  const from = parseEnd(args[3]);
  const to = parseEnd(args[4]);
  if (from === null || to === null) return SYNTAX_ERROR;
  return move(context, args, from, to);
}

function blmove(context: CommandContext, args: Buffer[]): RedisReply {
  const from = parseEnd(args[3]);
  const to = parseEnd(args[4]);
  if (from === null || to === null) return SYNTAX_ERROR;
  const timeout = blockingTimeout(args);
  if (isError(timeout)) return timeout;
  return move(context, args, from, to);
}

/** getRangeLongFromObjectOrReply with a message: one error for bad and out-of-range numbers. */
function parseAtLeast(bytes: Buffer, min: number, message: string): number | RedisErrorReply {
  const value = parseInteger(bytes);
  return value === null || value < min ? new RedisErrorReply(`ERR ${message}`) : value;
}

function lmpop(context: CommandContext, args: Buffer[]): RedisReply {
  const count = parseAtLeast(arg(args, 1), 1, 'numkeys should be greater than 0');
  if (isError(count)) return count;
  const endIndex = count + 2;
  if (endIndex >= args.length) return SYNTAX_ERROR;
  const end = parseEnd(args[endIndex]);
  if (end === null) return SYNTAX_ERROR;
  let popCount = -1;
  for (let i = endIndex + 1; i < args.length; i++) {
    if (popCount === -1 && optionName(args[i]) === 'COUNT' && i + 1 < args.length) {
      const parsed = parseAtLeast(arg(args, ++i), 1, 'count should be greater than 0');
      if (isError(parsed)) return parsed;
      popCount = parsed;
    } else {
      return SYNTAX_ERROR;
    }
  }
  for (const keyBytes of args.slice(2, endIndex)) {
    const key = keyOf(keyBytes);
    const list = context.keyspace.typed(key, 'list');
    if (isError(list)) return list;
    if (list === undefined || list.length === 0) continue;
    const taken =
      end === 'left'
        ? list.splice(0, Math.max(popCount, 1))
        : list.splice(-Math.max(popCount, 1)).reverse();
    context.keyspace.dropIfEmpty(key);
    return [keyBytes, taken];
  }
  return null;
}

function lpos(context: CommandContext, args: Buffer[]): RedisReply {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    const value = args[i + 1];
    if (option === 'RANK' && value !== undefined) {
      const parsed = parseInteger(value);
      if (parsed === null) return NOT_INTEGER;
      if (parsed === 0) {
        return new RedisErrorReply(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      rank = parsed;
    } else if (option === 'COUNT' && value !== undefined) {
      const parsed = parseAtLeast(value, 0, "COUNT can't be negative");
      if (isError(parsed)) return parsed;
      count = parsed;
    } else if (option === 'MAXLEN' && value !== undefined) {
      const parsed = parseAtLeast(value, 0, "MAXLEN can't be negative");
      if (isError(parsed)) return parsed;
      maxlen = parsed;
    } else {
      return SYNTAX_ERROR;
    }
    i++;
  }
  const list = readList(context, args);
  if (isError(list)) return list;
  if (list === undefined) return count === -1 ? null : [];
  const element = arg(args, 2);
  const fromTail = rank < 0;
  const skip = Math.abs(rank) - 1;
  const positions: number[] = [];
  let matches = 0;
  for (let scanned = 0; scanned < list.length && (maxlen === 0 || scanned < maxlen); scanned++) {
    const index = fromTail ? list.length - 1 - scanned : scanned;
    if (!list[index]?.equals(element)) continue;
    matches++;
    if (matches <= skip) continue;
    positions.push(index);
    if (count === -1 || (count > 0 && positions.length >= count)) break;
  }
  if (count !== -1) return positions;
  return positions[0] ?? null;
}

function linsert(context: CommandContext, args: Buffer[]): RedisReply {
  const where = optionName(args[2]);
  if (where !== 'BEFORE' && where !== 'AFTER') return SYNTAX_ERROR;
  const list = readList(context, args);
  if (isError(list) || list === undefined) return list ?? 0;
  const index = list.findIndex((element) => element.equals(arg(args, 3)));
  if (index === -1) return -1;
  list.splice(where === 'BEFORE' ? index : index + 1, 0, arg(args, 4));
  return list.length;
}

export const listCommands: CommandTable = {
  blpop: { arity: -3, write: true, noScript: true, blocking: true, run: blockingPop('left') },
  brpop: { arity: -3, write: true, noScript: true, blocking: true, run: blockingPop('right') },
  blmove: { arity: 6, write: true, noScript: true, blocking: true, run: blmove },
  brpoplpush: {
    arity: 4,
    write: true,
    noScript: true,
    blocking: true,
    run: (context, args) => {
      const timeout = blockingTimeout(args);
      return isError(timeout) ? timeout : move(context, args, 'right', 'left');
    },
  },
  lmove: { arity: 5, write: true, run: lmove },
  rpoplpush: {
    arity: 3,
    write: true,
    run: (context, args) => move(context, args, 'right', 'left'),
  },
  lmpop: { arity: -4, write: true, run: lmpop },
  lpos: { arity: -3, write: false, run: lpos },
  linsert: { arity: 5, write: true, run: linsert },
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
