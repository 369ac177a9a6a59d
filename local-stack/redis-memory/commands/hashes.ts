import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX_ERROR, wrongArity } from '../errors.ts';
import { bytesOf, keyOf } from '../keyspace.ts';
import { addDecimal, inInt64Range, parseDouble, parseInt64 } from '../numbers.ts';
import { parseScanRequest, scanCollection } from '../scan-cursor.ts';

function readHash(context: CommandContext, args: Buffer[]) {
  return context.keyspace.typed(keyOf(arg(args, 1)), 'hash');
}

function writeHash(context: CommandContext, args: Buffer[]) {
  return context.keyspace.writable(keyOf(arg(args, 1)), 'hash', () => new Map());
}

function setFields(name: string, reply: (added: number) => RedisReply) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    if (args.length % 2 !== 0) return wrongArity(name);
    const hash = writeHash(context, args);
    if (isError(hash)) return hash;
    let added = 0;
    for (let i = 2; i < args.length; i += 2) {
      const field = keyOf(arg(args, i));
      if (!hash.has(field)) added++;
      hash.set(field, arg(args, i + 1));
    }
    return reply(added);
  };
}

function hincrby(context: CommandContext, args: Buffer[]): RedisReply {
  const delta = parseInt64(arg(args, 3));
  if (delta === null) return NOT_INTEGER;
  const hash = writeHash(context, args);
  if (isError(hash)) return hash;
  const field = keyOf(arg(args, 2));
  const current = hash.get(field);
  const base = current === undefined ? 0n : parseInt64(current);
  if (base === null) return new RedisErrorReply('ERR hash value is not an integer');
  const result = base + delta;
  if (!inInt64Range(result)) return OVERFLOW;
  hash.set(field, Buffer.from(result.toString()));
  return Number(result);
}

function hincrbyfloat(context: CommandContext, args: Buffer[]): RedisReply {
  const increment = arg(args, 3);
  const parsed = parseDouble(increment);
  if (parsed === null) return NOT_FLOAT;
  if (!Number.isFinite(parsed)) return new RedisErrorReply('ERR value is NaN or Infinity');
  const hash = writeHash(context, args);
  if (isError(hash)) return hash;
  const field = keyOf(arg(args, 2));
  const current = hash.get(field) ?? Buffer.from('0');
  if (parseDouble(current) === null) return new RedisErrorReply('ERR hash value is not a float');
  const sum = addDecimal(current, increment);
  if (sum === null) return new RedisErrorReply('ERR increment would produce NaN or Infinity');
  const value = Buffer.from(sum);
  hash.set(field, value);
  return value;
}

function listHash(pick: (field: string, value: Buffer) => Buffer[]) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const hash = readHash(context, args);
    if (isError(hash)) return hash;
    return [...(hash ?? new Map<string, Buffer>())].flatMap(([field, value]) => pick(field, value));
  };
}

function hscan(context: CommandContext, args: Buffer[]): RedisReply {
  const request = parseScanRequest(args, 2, false);
  if (isError(request)) return request;
  const hash = readHash(context, args);
  if (isError(hash)) return hash;
  const { cursor, page } = scanCollection([...(hash?.keys() ?? [])], request);
  return [cursor, page.flatMap((field) => [bytesOf(field), hash?.get(field) ?? Buffer.alloc(0)])];
}

const INT64_MAX = 2n ** 63n - 1n;

function randomField(fields: string[]): string {
  return fields[Math.floor(Math.random() * fields.length)] ?? '';
}

/**
 * HRANDFIELD: one field; with a count, distinct fields (at most all, in random order); with a
 * negative count exactly -count fields that may repeat.
 */
function hrandfield(context: CommandContext, args: Buffer[]): RedisReply {
  if (args.length >= 3) {
    const count = parseInt64(arg(args, 2));
    if (count === null) return NOT_INTEGER;
    if (count < -INT64_MAX) {
      return new RedisErrorReply(
        `ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`,
      );
    }
    if (args.length > 4 || (args.length === 4 && optionName(args[3]) !== 'WITHVALUES')) {
      return SYNTAX_ERROR;
    }
    const withValues = args.length === 4;
    if (withValues && (count < -INT64_MAX / 2n || count > INT64_MAX / 2n)) {
      return new RedisErrorReply('ERR value is out of range');
    }
    const hash = readHash(context, args);
    if (isError(hash) || hash === undefined) return hash ?? [];
    const fields = [...hash.keys()];
    let picked: string[];
    if (count >= 0n) {
      for (let i = fields.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [fields[i], fields[j]] = [fields[j] as string, fields[i] as string];
      }
      picked = fields.slice(0, Number(count < BigInt(fields.length) ? count : fields.length));
    } else {
      picked = Array.from({ length: Number(-count) }, () => randomField(fields));
    }
    return picked.flatMap((field) =>
      withValues ? [bytesOf(field), hash.get(field) ?? Buffer.alloc(0)] : [bytesOf(field)],
    );
  }
  const hash = readHash(context, args);
  if (isError(hash) || hash === undefined) return hash ?? null;
  return bytesOf(randomField([...hash.keys()]));
}

export const hashCommands: CommandTable = {
  hscan: { arity: -3, write: false, run: hscan },
  hrandfield: { arity: -2, write: false, run: hrandfield },
  hset: { arity: -4, write: true, run: setFields('hset', (added) => added) },
  hmset: { arity: -4, write: true, run: setFields('hmset', () => new RedisStatusReply('OK')) },
  hsetnx: {
    arity: 4,
    write: true,
    run: (context, args) => {
      const hash = writeHash(context, args);
      if (isError(hash)) return hash;
      const field = keyOf(arg(args, 2));
      if (hash.has(field)) return 0;
      hash.set(field, arg(args, 3));
      return 1;
    },
  },
  hget: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const hash = readHash(context, args);
      return isError(hash) ? hash : (hash?.get(keyOf(arg(args, 2))) ?? null);
    },
  },
  hmget: {
    arity: -3,
    write: false,
    run: (context, args) => {
      const hash = readHash(context, args);
      if (isError(hash)) return hash;
      return args.slice(2).map((field) => hash?.get(keyOf(field)) ?? null);
    },
  },
  hgetall: { arity: 2, write: false, run: listHash((field, value) => [bytesOf(field), value]) },
  hkeys: { arity: 2, write: false, run: listHash((field) => [bytesOf(field)]) },
  hvals: { arity: 2, write: false, run: listHash((_field, value) => [value]) },
  hdel: {
    arity: -3,
    write: true,
    run: (context, args) => {
      const hash = readHash(context, args);
      if (isError(hash)) return hash;
      return args.slice(2).filter((field) => hash?.delete(keyOf(field))).length;
    },
  },
  hexists: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const hash = readHash(context, args);
      return isError(hash) ? hash : hash?.has(keyOf(arg(args, 2))) ? 1 : 0;
    },
  },
  hlen: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const hash = readHash(context, args);
      return isError(hash) ? hash : (hash?.size ?? 0);
    },
  },
  hstrlen: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const hash = readHash(context, args);
      return isError(hash) ? hash : (hash?.get(keyOf(arg(args, 2)))?.length ?? 0);
    },
  },
  hincrby: { arity: 4, write: true, run: hincrby },
  hincrbyfloat: { arity: 4, write: true, run: hincrbyfloat },
};
