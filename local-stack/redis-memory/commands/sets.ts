import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_INTEGER, NOT_POSITIVE, SYNTAX_ERROR } from '../errors.ts';
import { bytesOf, keyOf } from '../keyspace.ts';
import { parseInteger } from '../numbers.ts';
import { parseScanRequest, scanCollection } from '../scan-cursor.ts';

function readSet(context: CommandContext, key: Buffer) {
  return context.keyspace.typed(keyOf(key), 'set');
}

type Combine = (sets: Set<string>[]) => Set<string>;

const union: Combine = (sets) => new Set(sets.flatMap((set) => [...set]));
const intersection: Combine = ([first, ...rest]) =>
  new Set([...(first ?? [])].filter((member) => rest.every((set) => set.has(member))));
const difference: Combine = ([first, ...rest]) =>
  new Set([...(first ?? [])].filter((member) => rest.every((set) => !set.has(member))));

function combineKeys(
  context: CommandContext,
  keys: Buffer[],
  combine: Combine,
): Set<string> | RedisErrorReply {
  const sets: Set<string>[] = [];
  for (const key of keys) {
    const set = readSet(context, key);
    if (isError(set)) return set;
    sets.push(set ?? new Set());
  }
  return combine(sets);
}

function combineCommand(combine: Combine) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const result = combineKeys(context, args.slice(1), combine);
    return isError(result) ? result : [...result].map(bytesOf);
  };
}

function combineStoreCommand(combine: Combine) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const result = combineKeys(context, args.slice(2), combine);
    if (isError(result)) return result;
    const destination = keyOf(arg(args, 1));
    context.keyspace.delete(destination);
    if (result.size > 0) context.keyspace.set(destination, { type: 'set', value: result });
    return result.size;
  };
}

function sscan(context: CommandContext, args: Buffer[]): RedisReply {
  const request = parseScanRequest(args, 2, false);
  if (isError(request)) return request;
  const set = readSet(context, arg(args, 1));
  if (isError(set)) return set;
  const { cursor, page } = scanCollection([...(set ?? [])], request);
  return [cursor, page.map(bytesOf)];
}

function randomMember(members: string[]): string {
  return members[Math.floor(Math.random() * members.length)] ?? '';
}

/** Up to `count` distinct members in random order. */
function sample(set: Set<string>, count: number): string[] {
  const members = [...set];
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [members[i], members[j]] = [members[j] as string, members[i] as string];
  }
  return members.slice(0, count);
}

function parseCount(bytes: Buffer | undefined): number | null | RedisErrorReply {
  if (bytes === undefined) return null;
  const count = parseInteger(bytes);
  return count === null ? NOT_INTEGER : count;
}

function spop(context: CommandContext, args: Buffer[]): RedisReply {
  if (args.length > 3) return SYNTAX_ERROR;
  const count = parseCount(args[2]);
  if (isError(count)) return count;
  if (count !== null && count < 0) return NOT_POSITIVE;
  const set = readSet(context, arg(args, 1));
  if (isError(set)) return set;
  const taken = set === undefined ? [] : sample(set, count ?? 1);
  for (const member of taken) set?.delete(member);
  if (count === null) return taken[0] === undefined ? null : bytesOf(taken[0]);
  return taken.map(bytesOf);
}

/** A positive count picks distinct members; a negative one may repeat and returns exactly -count. */
function srandmember(context: CommandContext, args: Buffer[]): RedisReply {
  if (args.length > 3) return SYNTAX_ERROR;
  const count = parseCount(args[2]);
  if (isError(count)) return count;
  const set = readSet(context, arg(args, 1));
  if (isError(set)) return set;
  if (count === null) return set === undefined ? null : bytesOf(randomMember([...set]));
  if (set === undefined) return [];
  if (count >= 0) return sample(set, count).map(bytesOf);
  const members = [...set];
  return Array.from({ length: -count }, () => bytesOf(randomMember(members)));
}

function sintercard(context: CommandContext, args: Buffer[]): RedisReply {
  const count = parseInteger(arg(args, 1));
  if (count === null || count < 1) {
    return new RedisErrorReply('ERR numkeys should be greater than 0');
  }
  if (count > args.length - 2) {
    return new RedisErrorReply("ERR Number of keys can't be greater than number of args");
  }
  let limit = 0;
  for (let i = 2 + count; i < args.length; i++) {
    const value = args[i + 1];
    if (optionName(args[i]) !== 'LIMIT' || value === undefined) return SYNTAX_ERROR;
    const parsed = parseInteger(value);
    if (parsed === null || parsed < 0) return new RedisErrorReply("ERR LIMIT can't be negative");
    limit = parsed;
    i++;
  }
  const result = combineKeys(context, args.slice(2, 2 + count), intersection);
  if (isError(result)) return result;
  return limit > 0 ? Math.min(limit, result.size) : result.size;
}

function smove(context: CommandContext, args: Buffer[]): RedisReply {
  const source = readSet(context, arg(args, 1));
  if (source === undefined) return 0;
  const destinationKey = keyOf(arg(args, 2));
  const destination = context.keyspace.typed(destinationKey, 'set');
  if (isError(source)) return source;
  if (isError(destination)) return destination;
  const member = keyOf(arg(args, 3));
  if (source === destination) return source.has(member) ? 1 : 0;
  if (!source.delete(member)) return 0;
  const target = context.keyspace.writable(destinationKey, 'set', () => new Set());
  if (isError(target)) return target;
  target.add(member);
  return 1;
}

export const setCommands: CommandTable = {
  sscan: { arity: -3, write: false, run: sscan },
  sintercard: { arity: -3, write: false, run: sintercard },
  smove: { arity: 4, write: true, run: smove },
  spop: { arity: -2, write: true, run: spop },
  srandmember: { arity: -2, write: false, run: srandmember },
  sadd: {
    arity: -3,
    write: true,
    run: (context, args) => {
      const set = context.keyspace.writable(keyOf(arg(args, 1)), 'set', () => new Set());
      if (isError(set)) return set;
      const before = set.size;
      for (const member of args.slice(2)) set.add(keyOf(member));
      return set.size - before;
    },
  },
  srem: {
    arity: -3,
    write: true,
    run: (context, args) => {
      const set = readSet(context, arg(args, 1));
      if (isError(set)) return set;
      return args.slice(2).filter((member) => set?.delete(keyOf(member))).length;
    },
  },
  smembers: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const set = readSet(context, arg(args, 1));
      return isError(set) ? set : [...(set ?? [])].map(bytesOf);
    },
  },
  sismember: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const set = readSet(context, arg(args, 1));
      return isError(set) ? set : set?.has(keyOf(arg(args, 2))) ? 1 : 0;
    },
  },
  smismember: {
    arity: -3,
    write: false,
    run: (context, args) => {
      const set = readSet(context, arg(args, 1));
      if (isError(set)) return set;
      return args.slice(2).map((member) => (set?.has(keyOf(member)) ? 1 : 0));
    },
  },
  scard: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const set = readSet(context, arg(args, 1));
      return isError(set) ? set : (set?.size ?? 0);
    },
  },
  sunion: { arity: -2, write: false, run: combineCommand(union) },
  sinter: { arity: -2, write: false, run: combineCommand(intersection) },
  sdiff: { arity: -2, write: false, run: combineCommand(difference) },
  sunionstore: { arity: -3, write: true, run: combineStoreCommand(union) },
  sinterstore: { arity: -3, write: true, run: combineStoreCommand(intersection) },
  sdiffstore: { arity: -3, write: true, run: combineStoreCommand(difference) },
};
