import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX_ERROR, wrongArity } from '../errors.ts';
import { isExpiryUnit, parseDeadline } from '../expiry.ts';
import { keyOf } from '../keyspace.ts';
import {
  addDecimal,
  INT64_MIN,
  inInt64Range,
  parseDouble,
  parseInt64,
  parseInteger,
} from '../numbers.ts';

const OK = new RedisStatusReply('OK');

function getString(context: CommandContext, key: string): Buffer | null | RedisErrorReply {
  return context.keyspace.typed(key, 'string') ?? null;
}

function storeString(context: CommandContext, key: string, value: Buffer, keepTtl: boolean): void {
  context.keyspace.set(key, { type: 'string', value }, { keepTtl });
}

interface SetOptions {
  condition: 'NX' | 'XX' | null;
  get: boolean;
  keepTtl: boolean;
  deadline: number | null;
}

function parseSetOptions(context: CommandContext, args: Buffer[]): SetOptions | RedisErrorReply {
  const options: SetOptions = { condition: null, get: false, keepTtl: false, deadline: null };
  let expirySeen = false;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    if ((option === 'NX' || option === 'XX') && options.condition === null) {
      options.condition = option;
    } else if (option === 'GET' && !options.get) {
      options.get = true;
    } else if (option === 'KEEPTTL' && !expirySeen) {
      options.keepTtl = true;
      expirySeen = true;
    } else if (isExpiryUnit(option) && !expirySeen && i + 1 < args.length) {
      const deadline = parseDeadline(option, args[++i], context.keyspace.now(), 'set');
      if (isError(deadline)) return deadline;
      options.deadline = deadline;
      expirySeen = true;
    } else {
      return SYNTAX_ERROR;
    }
  }
  return options;
}

function set(context: CommandContext, args: Buffer[]): RedisReply {
  const key = keyOf(arg(args, 1));
  const options = parseSetOptions(context, args);
  if (isError(options)) return options;
  const previous = options.get ? getString(context, key) : null;
  if (isError(previous)) return previous;
  const exists = context.keyspace.has(key);
  if ((options.condition === 'NX' && exists) || (options.condition === 'XX' && !exists)) {
    return options.get ? previous : null;
  }
  storeString(context, key, arg(args, 2), options.keepTtl);
  if (options.deadline !== null) context.keyspace.setExpiry(key, options.deadline);
  return options.get ? previous : OK;
}

function setWithExpiry(unit: 'EX' | 'PX', name: string) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const key = keyOf(arg(args, 1));
    const deadline = parseDeadline(unit, args[2], context.keyspace.now(), name);
    if (isError(deadline)) return deadline;
    storeString(context, key, arg(args, 3), false);
    context.keyspace.setExpiry(key, deadline);
    return OK;
  };
}

function getex(context: CommandContext, args: Buffer[]): RedisReply {
  const key = keyOf(arg(args, 1));
  let deadline: number | null | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = optionName(args[i]);
    if (option === 'PERSIST' && deadline === undefined) {
      deadline = null;
    } else if (isExpiryUnit(option) && deadline === undefined && i + 1 < args.length) {
      const parsed = parseDeadline(option, args[++i], context.keyspace.now(), 'getex');
      if (isError(parsed)) return parsed;
      deadline = parsed;
    } else {
      return SYNTAX_ERROR;
    }
  }
  const value = getString(context, key);
  if (value !== null && !isError(value) && deadline !== undefined) {
    context.keyspace.setExpiry(key, deadline);
  }
  return value;
}

function incrementBy(context: CommandContext, key: string, delta: bigint): RedisReply {
  const current = getString(context, key);
  if (isError(current)) return current;
  const base = current === null ? 0n : parseInt64(current);
  if (base === null) return NOT_INTEGER;
  const result = base + delta;
  if (!inInt64Range(result)) return OVERFLOW;
  storeString(context, key, Buffer.from(result.toString()), true);
  return Number(result);
}

function incrementCommand(sign: 1n | -1n, fixed: bigint | null) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const delta = fixed ?? parseInt64(arg(args, 2));
    if (delta === null) return NOT_INTEGER;
    // Negating the smallest int64 has no int64 result, so Redis refuses before adding.
    if (sign < 0n && delta === INT64_MIN)
      return new RedisErrorReply('ERR decrement would overflow');
    return incrementBy(context, keyOf(arg(args, 1)), sign * delta);
  };
}

function incrbyfloat(context: CommandContext, args: Buffer[]): RedisReply {
  const key = keyOf(arg(args, 1));
  const current = getString(context, key);
  if (isError(current)) return current;
  const base = current ?? Buffer.from('0');
  if (parseDouble(base) === null || parseDouble(arg(args, 2)) === null) return NOT_FLOAT;
  const sum = addDecimal(base, arg(args, 2));
  if (sum === null) return new RedisErrorReply('ERR increment would produce NaN or Infinity');
  const value = Buffer.from(sum);
  storeString(context, key, value, true);
  return value;
}

/** Redis 7.0's getrangeCommand clamping, quirks included ("hello" -10 -9 is "h"). */
function getrange(context: CommandContext, args: Buffer[]): RedisReply {
  const start = parseInteger(arg(args, 2));
  const end = parseInteger(arg(args, 3));
  if (start === null || end === null) return NOT_INTEGER;
  const value = getString(context, keyOf(arg(args, 1)));
  if (isError(value)) return value;
  if (start < 0 && end < 0 && start > end) return Buffer.alloc(0);
  const length = value?.length ?? 0;
  const from = Math.max(0, start < 0 ? length + start : start);
  const to = Math.min(length - 1, Math.max(0, end < 0 ? length + end : end));
  if (value === null || length === 0 || from > to) return Buffer.alloc(0);
  return value.subarray(from, to + 1);
}

const MAX_STRING_BYTES = 512 * 1024 * 1024;

function setrange(context: CommandContext, args: Buffer[]): RedisReply {
  const offset = parseInteger(arg(args, 2));
  if (offset === null) return NOT_INTEGER;
  if (offset < 0) return new RedisErrorReply('ERR offset is out of range');
  const key = keyOf(arg(args, 1));
  const current = getString(context, key);
  if (isError(current)) return current;
  const patch = arg(args, 3);
  if (patch.length === 0) return current?.length ?? 0;
  if (offset + patch.length > MAX_STRING_BYTES) {
    return new RedisErrorReply('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
  }
  const base = current ?? Buffer.alloc(0);
  const value = Buffer.alloc(Math.max(base.length, offset + patch.length));
  base.copy(value);
  patch.copy(value, offset);
  storeString(context, key, value, true);
  return value.length;
}

export const stringCommands: CommandTable = {
  getrange: { arity: 4, write: false, run: getrange },
  setrange: { arity: 4, write: true, run: setrange },
  get: { arity: 2, write: false, run: (context, args) => getString(context, keyOf(arg(args, 1))) },
  set: { arity: -3, write: true, run: set },
  setnx: {
    arity: 3,
    write: true,
    run: (context, args) => {
      const key = keyOf(arg(args, 1));
      if (context.keyspace.has(key)) return 0;
      storeString(context, key, arg(args, 2), false);
      return 1;
    },
  },
  setex: { arity: 4, write: true, run: setWithExpiry('EX', 'setex') },
  psetex: { arity: 4, write: true, run: setWithExpiry('PX', 'psetex') },
  getdel: {
    arity: 2,
    write: true,
    run: (context, args) => {
      const key = keyOf(arg(args, 1));
      const value = getString(context, key);
      if (value !== null && !isError(value)) context.keyspace.delete(key);
      return value;
    },
  },
  getset: {
    arity: 3,
    write: true,
    run: (context, args) => {
      const key = keyOf(arg(args, 1));
      const previous = getString(context, key);
      if (isError(previous)) return previous;
      storeString(context, key, arg(args, 2), false);
      return previous;
    },
  },
  getex: { arity: -2, write: true, run: getex },
  mget: {
    arity: -2,
    write: false,
    run: (context, args) =>
      args.slice(1).map((key) => {
        const value = context.keyspace.value(keyOf(key));
        return value?.type === 'string' ? value.value : null;
      }),
  },
  mset: {
    arity: -3,
    write: true,
    run: (context, args) => {
      if (args.length % 2 === 0) return wrongArity('mset');
      for (let i = 1; i < args.length; i += 2) {
        storeString(context, keyOf(arg(args, i)), arg(args, i + 1), false);
      }
      return OK;
    },
  },
  msetnx: {
    arity: -3,
    write: true,
    run: (context, args) => {
      if (args.length % 2 === 0) return wrongArity('msetnx');
      for (let i = 1; i < args.length; i += 2) {
        if (context.keyspace.has(keyOf(arg(args, i)))) return 0;
      }
      for (let i = 1; i < args.length; i += 2) {
        storeString(context, keyOf(arg(args, i)), arg(args, i + 1), false);
      }
      return 1;
    },
  },
  incr: { arity: 2, write: true, run: incrementCommand(1n, 1n) },
  decr: { arity: 2, write: true, run: incrementCommand(-1n, 1n) },
  incrby: { arity: 3, write: true, run: incrementCommand(1n, null) },
  decrby: { arity: 3, write: true, run: incrementCommand(-1n, null) },
  incrbyfloat: { arity: 3, write: true, run: incrbyfloat },
  append: {
    arity: 3,
    write: true,
    run: (context, args) => {
      const key = keyOf(arg(args, 1));
      const current = getString(context, key);
      if (isError(current)) return current;
      const value = Buffer.concat([current ?? Buffer.alloc(0), arg(args, 2)]);
      storeString(context, key, value, true);
      return value.length;
    },
  },
  strlen: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const value = getString(context, keyOf(arg(args, 1)));
      return isError(value) ? value : (value?.length ?? 0);
    },
  },
};
