import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import {
  isError,
  NOT_FLOAT,
  NOT_INTEGER,
  NOT_POSITIVE,
  SYNTAX_ERROR,
  WRONG_TYPE,
} from '../errors.ts';
import { indexWindow } from '../index-window.ts';
import { bytesOf, keyOf } from '../keyspace.ts';
import { formatDouble, parseDouble, parseInteger, parseStrictDouble } from '../numbers.ts';
import { parseScanRequest, scanCollection } from '../scan-cursor.ts';

export type ZSet = Map<string, number>;
export interface Member {
  member: string;
  score: number;
}

const SCORE_RANGE_ERROR = new RedisErrorReply('ERR min or max is not a float');
const LEX_RANGE_ERROR = new RedisErrorReply('ERR min or max not valid string range item');

function readZSet(context: CommandContext, key: Buffer) {
  return context.keyspace.typed(keyOf(key), 'zset');
}

export function sorted(zset: ZSet | undefined): Member[] {
  return [...(zset ?? new Map<string, number>())]
    .map(([member, score]) => ({ member, score }))
    .sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
}

function scoreBytes(score: number): Buffer {
  return Buffer.from(formatDouble(score));
}

function flatten(members: Member[], withScores: boolean): Buffer[] {
  return members.flatMap(({ member, score }) =>
    withScores ? [bytesOf(member), scoreBytes(score)] : [bytesOf(member)],
  );
}

interface Bound<T> {
  value: T;
  exclusive: boolean;
}

function parseScoreBound(bytes: Buffer): Bound<number> | null {
  const exclusive = bytes[0] === 0x28;
  const value = parseDouble(exclusive ? bytes.subarray(1) : bytes);
  return value === null ? null : { value, exclusive };
}

/** Lex bounds: "-" and "+" are the infinities, "[x" inclusive, "(x" exclusive. */
function parseLexBound(bytes: Buffer): Bound<string | '-' | '+'> | null {
  const text = keyOf(bytes);
  if (text === '-' || text === '+') return { value: text, exclusive: false };
  if (text[0] === '[' || text[0] === '(')
    return { value: text.slice(1), exclusive: text[0] === '(' };
  return null;
}

function aboveMin<T>(value: T, min: Bound<T>, minusInfinity: T | null): boolean {
  if (min.value === minusInfinity) return true;
  return min.exclusive ? value > min.value : value >= min.value;
}

function belowMax<T>(value: T, max: Bound<T>, plusInfinity: T | null): boolean {
  if (max.value === plusInfinity) return true;
  return max.exclusive ? value < max.value : value <= max.value;
}

/** The members in range, from members in score order, the range's own direction applied. */
type RangeWindow = (ascending: Member[], reverse: boolean) => Member[];

function scoreWindow(minBytes: Buffer, maxBytes: Buffer): RangeWindow | RedisErrorReply {
  const min = parseScoreBound(minBytes);
  const max = parseScoreBound(maxBytes);
  if (min === null || max === null) return SCORE_RANGE_ERROR;
  return (ascending, reverse) => {
    const matching = ascending.filter(
      ({ score }) => aboveMin(score, min, null) && belowMax(score, max, null),
    );
    return reverse ? matching.reverse() : matching;
  };
}

/** sdscmplex: "-" and "+" below and above every string. */
function compareLex(a: string, b: string, aSpecial: boolean, bSpecial: boolean): number {
  if (aSpecial && bSpecial && a === b) return 0;
  if ((aSpecial && a === '-') || (bSpecial && b === '+')) return -1;
  if ((aSpecial && a === '+') || (bSpecial && b === '-')) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Redis's walk over a small sorted set (zzlFirstInLexRange and its reverse): the first member at
 * or past one end, then on while inside the other. Members are only lex-ordered when their scores
 * are equal; with mixed scores this answers what Redis answers, not a filter.
 */
function lexWindow(minBytes: Buffer, maxBytes: Buffer): RangeWindow | RedisErrorReply {
  const min = parseLexBound(minBytes);
  const max = parseLexBound(maxBytes);
  if (min === null || max === null) return LEX_RANGE_ERROR;
  const special = (bytes: Buffer) => bytes.length === 1 && (bytes[0] === 0x2d || bytes[0] === 0x2b);
  const minIsSpecial = special(minBytes);
  const maxIsSpecial = special(maxBytes);
  const gteMin = ({ member }: Member) => {
    const cmp = compareLex(member, min.value, false, minIsSpecial);
    return min.exclusive ? cmp > 0 : cmp >= 0;
  };
  const lteMax = ({ member }: Member) => {
    const cmp = compareLex(member, max.value, false, maxIsSpecial);
    return max.exclusive ? cmp < 0 : cmp <= 0;
  };
  return (ascending, reverse) => {
    const cmp = compareLex(min.value, max.value, minIsSpecial, maxIsSpecial);
    if (cmp > 0 || (cmp === 0 && (min.exclusive || max.exclusive))) return [];
    const first = ascending[0];
    const last = ascending.at(-1);
    if (first === undefined || last === undefined || !gteMin(last) || !lteMax(first)) return [];
    const taken: Member[] = [];
    if (!reverse) {
      const start = ascending.findIndex(gteMin);
      for (const member of ascending.slice(start)) {
        if (!lteMax(member)) break;
        taken.push(member);
      }
      return taken;
    }
    const start = ascending.findLastIndex(lteMax);
    for (const member of ascending.slice(0, start + 1).reverse()) {
      if (!gteMin(member)) break;
      taken.push(member);
    }
    return taken;
  };
}

interface RangeRequest {
  by: 'rank' | 'score' | 'lex';
  reverse: boolean;
  limit: { offset: number; count: number } | null;
  withScores: boolean;
}

type Selector = (zset: ZSet | undefined) => Member[];

/** Parses the range first: Redis reports a bad range before looking at the key's type. */
function rangeSelector(
  startBytes: Buffer,
  stopBytes: Buffer,
  request: RangeRequest,
): Selector | RedisErrorReply {
  if (request.by === 'rank') {
    const start = parseInteger(startBytes);
    const stop = parseInteger(stopBytes);
    if (start === null || stop === null) return NOT_INTEGER;
    return (zset) => {
      const members = sorted(zset);
      if (request.reverse) members.reverse();
      const window = indexWindow(start, stop, members.length);
      return window === null ? [] : members.slice(window[0], window[1] + 1);
    };
  }
  // Reversed ranges name the upper bound first.
  const [minBytes, maxBytes] = request.reverse ? [stopBytes, startBytes] : [startBytes, stopBytes];
  const window =
    request.by === 'score' ? scoreWindow(minBytes, maxBytes) : lexWindow(minBytes, maxBytes);
  if (isError(window)) return window;
  const { limit } = request;
  return (zset) => {
    const matching = window(sorted(zset), request.reverse);
    if (limit === null) return matching;
    if (limit.offset < 0) return [];
    return matching.slice(limit.offset, limit.count < 0 ? undefined : limit.offset + limit.count);
  };
}

/** Parses the range, then reads the key: Redis's order of errors. */
function selectRange(
  context: CommandContext,
  args: Buffer[],
  request: RangeRequest,
): { zset: ZSet | undefined; members: Member[] } | RedisErrorReply {
  const select = rangeSelector(arg(args, 2), arg(args, 3), request);
  if (isError(select)) return select;
  const zset = readZSet(context, arg(args, 1));
  if (isError(zset)) return zset;
  return { zset, members: select(zset) };
}

function parseRangeOptions(
  args: Buffer[],
  from: number,
  defaults: Pick<RangeRequest, 'by' | 'reverse'>,
  allowed: ReadonlySet<string>,
): RangeRequest | RedisErrorReply {
  const request: RangeRequest = { ...defaults, limit: null, withScores: false };
  for (let i = from; i < args.length; i++) {
    const option = optionName(args[i]);
    if (!allowed.has(option)) return SYNTAX_ERROR;
    if (option === 'WITHSCORES') request.withScores = true;
    else if (option === 'REV') request.reverse = true;
    else if (option === 'BYSCORE') request.by = 'score';
    else if (option === 'BYLEX') request.by = 'lex';
    else if (option === 'LIMIT') {
      const offset = args[i + 1];
      const count = args[i + 2];
      if (offset === undefined || count === undefined) return SYNTAX_ERROR;
      const parsedOffset = parseInteger(offset);
      const parsedCount = parseInteger(count);
      if (parsedOffset === null || parsedCount === null) return NOT_INTEGER;
      request.limit = { offset: parsedOffset, count: parsedCount };
      i += 2;
    }
  }
  if (request.limit !== null && request.by === 'rank') {
    return new RedisErrorReply(
      'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    );
  }
  if (request.withScores && request.by === 'lex') {
    return new RedisErrorReply(
      'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
    );
  }
  return request;
}

const ZRANGE_OPTIONS = new Set(['WITHSCORES', 'REV', 'BYSCORE', 'BYLEX', 'LIMIT']);
const WITHSCORES_ONLY = new Set(['WITHSCORES']);
const BY_SCORE_OPTIONS = new Set(['WITHSCORES', 'LIMIT']);
const BY_LEX_OPTIONS = new Set(['LIMIT']);

function rangeCommand(
  defaults: Pick<RangeRequest, 'by' | 'reverse'>,
  allowed: ReadonlySet<string>,
) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const request = parseRangeOptions(args, 4, defaults, allowed);
    if (isError(request)) return request;
    const selected = selectRange(context, args, request);
    return isError(selected) ? selected : flatten(selected.members, request.withScores);
  };
}

function removeRange(by: RangeRequest['by']) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const request: RangeRequest = { by, reverse: false, limit: null, withScores: false };
    const selected = selectRange(context, args, request);
    if (isError(selected)) return selected;
    for (const { member } of selected.members) selected.zset?.delete(member);
    return selected.members.length;
  };
}

interface ZAddFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
  ch: boolean;
  incr: boolean;
}

function parseZAddFlags(args: Buffer[]): { flags: ZAddFlags; next: number } {
  const flags: ZAddFlags = { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };
  let next = 2;
  for (; next < args.length; next++) {
    const option = optionName(args[next]).toLowerCase();
    if (!(option in flags)) break;
    flags[option as keyof ZAddFlags] = true;
  }
  return { flags, next };
}

function zaddFlagsError(flags: ZAddFlags, pairs: number): RedisErrorReply | null {
  if (flags.nx && flags.xx) {
    return new RedisErrorReply('ERR XX and NX options at the same time are not compatible');
  }
  if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
    return new RedisErrorReply('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (flags.incr && pairs > 1) {
    return new RedisErrorReply('ERR INCR option supports a single increment-element pair');
  }
  return null;
}

/**
 * Small sorted sets keep integral scores as integers, so a stored -0 reads back as 0, while the
 * reply of ZINCRBY / ZADD INCR still prints the computed -0.
 */
function storedScore(score: number): number {
  return score === 0 ? 0 : score;
}

export function zadd(context: CommandContext, args: Buffer[]): RedisReply {
  const { flags, next } = parseZAddFlags(args);
  const rest = args.length - next;
  if (rest === 0 || rest % 2 !== 0) return SYNTAX_ERROR;
  const flagsError = zaddFlagsError(flags, rest / 2);
  if (flagsError) return flagsError;
  const pairs: Member[] = [];
  for (let i = next; i < args.length; i += 2) {
    const score = parseDouble(arg(args, i));
    if (score === null) return NOT_FLOAT;
    pairs.push({ score, member: keyOf(arg(args, i + 1)) });
  }
  const key = keyOf(arg(args, 1));
  const existing = context.keyspace.typed(key, 'zset');
  if (isError(existing)) return existing;
  if (existing === undefined && flags.xx) return flags.incr ? null : 0;
  const zset = context.keyspace.writable(key, 'zset', () => new Map());
  if (isError(zset)) return zset;
  let added = 0;
  let updated = 0;
  let lastScore: number | null = null;
  for (const { member, score } of pairs) {
    const current = zset.get(member);
    if (current === undefined) {
      if (flags.xx) continue;
      zset.set(member, storedScore(score));
      added++;
      lastScore = score;
      continue;
    }
    if (flags.nx) continue;
    const target = flags.incr ? current + score : score;
    if (Number.isNaN(target)) {
      return new RedisErrorReply('ERR resulting score is not a number (NaN)');
    }
    if ((flags.gt && target <= current) || (flags.lt && target >= current)) continue;
    if (target !== current) {
      zset.set(member, storedScore(target));
      updated++;
    }
    lastScore = target;
  }
  if (flags.incr) return lastScore === null ? null : scoreBytes(lastScore);
  return flags.ch ? added + updated : added;
}

function rank(reverse: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const zset = readZSet(context, arg(args, 1));
    if (isError(zset)) return zset;
    const member = keyOf(arg(args, 2));
    if (!zset?.has(member)) return null;
    const ordered = sorted(zset);
    if (reverse) ordered.reverse();
    return ordered.findIndex((entry) => entry.member === member);
  };
}

function zscan(context: CommandContext, args: Buffer[]): RedisReply {
  const request = parseScanRequest(args, 2, false);
  if (isError(request)) return request;
  const zset = readZSet(context, arg(args, 1));
  if (isError(zset)) return zset;
  const { cursor, page } = scanCollection(
    sorted(zset).map((entry) => entry.member),
    request,
  );
  return [cursor, page.flatMap((member) => [bytesOf(member), scoreBytes(zset?.get(member) ?? 0)])];
}

function pop(highest: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    if (args.length > 3) return SYNTAX_ERROR;
    let count = 1;
    if (args[2] !== undefined) {
      const parsed = parseInteger(args[2]);
      if (parsed === null || parsed < 0) return NOT_POSITIVE;
      count = parsed;
    }
    const zset = readZSet(context, arg(args, 1));
    if (isError(zset)) return zset;
    const ordered = sorted(zset);
    if (highest) ordered.reverse();
    const taken = ordered.slice(0, count);
    for (const { member } of taken) zset?.delete(member);
    return flatten(taken, true);
  };
}

// ZUNION, ZINTER, ZDIFF and their STORE and CARD forms (zunionInterDiffGenericCommand). Plain
// sets count as sorted sets whose scores are all 1.

type SetOperation = 'union' | 'inter' | 'diff';
type Aggregate = 'SUM' | 'MIN' | 'MAX';

interface Source {
  key: string;
  entries: ZSet;
  weight: number;
}

/** C's comparisons, not Math.min/max: a NaN weight product keeps the current score, -0 never wins. */
function aggregate(mode: Aggregate, current: number, value: number): number {
  // biome-ignore lint/complexity/useMathMinMax: NaN and -0 must behave as in C.
  if (mode === 'MIN') return value < current ? value : current;
  // biome-ignore lint/complexity/useMathMinMax: NaN and -0 must behave as in C.
  if (mode === 'MAX') return value > current ? value : current;
  const sum = current + value;
  // +inf plus -inf is 0 by Redis's convention.
  return Number.isNaN(sum) ? 0 : sum;
}

function readSource(context: CommandContext, key: Buffer): Source | RedisErrorReply {
  const name = keyOf(key);
  const value = context.keyspace.value(name);
  if (value === undefined) return { key: name, entries: new Map(), weight: 1 };
  if (value.type === 'zset') return { key: name, entries: value.value, weight: 1 };
  if (value.type === 'set') {
    return {
      key: name,
      entries: new Map([...value.value].map((member) => [member, 1])),
      weight: 1,
    };
  }
  return WRONG_TYPE;
}

interface SetOperationRequest {
  sources: Source[];
  aggregate: Aggregate;
  withScores: boolean;
  limit: number;
}

/** Keys first (their types are checked before the options), then WEIGHTS, AGGREGATE and the rest. */
function parseSetOperation(
  context: CommandContext,
  args: Buffer[],
  operation: SetOperation,
  mode: 'reply' | 'store' | 'card',
): SetOperationRequest | RedisErrorReply {
  const numkeysIndex = mode === 'store' ? 2 : 1;
  const count = parseInteger(arg(args, numkeysIndex));
  if (count === null) return NOT_INTEGER;
  if (count < 1) {
    const name = arg(args, 0).toString('latin1').toLowerCase();
    return new RedisErrorReply(`ERR at least 1 input key is needed for '${name}' command`);
  }
  if (count > args.length - numkeysIndex - 1) return SYNTAX_ERROR;
  const request: SetOperationRequest = {
    sources: [],
    aggregate: 'SUM',
    withScores: false,
    limit: 0,
  };
  for (const key of args.slice(numkeysIndex + 1, numkeysIndex + 1 + count)) {
    const source = readSource(context, key);
    if (isError(source)) return source;
    request.sources.push(source);
  }
  const weighted = operation !== 'diff' && mode !== 'card';
  for (let i = numkeysIndex + 1 + count; i < args.length; i++) {
    const remaining = args.length - i;
    const option = optionName(args[i]);
    if (weighted && option === 'WEIGHTS' && remaining >= count + 1) {
      for (const source of request.sources) {
        const weight = parseStrictDouble(arg(args, ++i));
        if (weight === null) return new RedisErrorReply('ERR weight value is not a float');
        source.weight = weight;
      }
    } else if (weighted && option === 'AGGREGATE' && remaining >= 2) {
      const mode = optionName(args[++i]);
      if (mode !== 'SUM' && mode !== 'MIN' && mode !== 'MAX') return SYNTAX_ERROR;
      request.aggregate = mode;
    } else if (option === 'WITHSCORES' && mode === 'reply') {
      request.withScores = true;
    } else if (option === 'LIMIT' && mode === 'card' && remaining >= 2) {
      const limit = parseInteger(arg(args, ++i));
      if (limit === null || limit < 0) return new RedisErrorReply("ERR LIMIT can't be negative");
      request.limit = limit;
    } else {
      return SYNTAX_ERROR;
    }
  }
  return request;
}

/** The combined scores, summed in Redis's order: sources by ascending size (not for ZDIFF). */
function combine(operation: SetOperation, request: SetOperationRequest): ZSet {
  const { sources } = request;
  const result: ZSet = new Map();
  const weighted = (source: Source, score: number) => {
    const value = source.weight * score;
    return Number.isNaN(value) ? 0 : value;
  };
  if (operation === 'diff') {
    const [first, ...rest] = sources;
    for (const [member, score] of first?.entries ?? []) {
      if (rest.every((source) => !source.entries.has(member))) result.set(member, score);
    }
    return result;
  }
  const bySize = [...sources].sort((a, b) => a.entries.size - b.entries.size);
  if (operation === 'union') {
    for (const source of bySize) {
      for (const [member, score] of source.entries) {
        const value = weighted(source, score);
        const current = result.get(member);
        result.set(
          member,
          current === undefined ? value : aggregate(request.aggregate, current, value),
        );
      }
    }
    return result;
  }
  const [first, ...rest] = bySize;
  for (const [member, score] of first?.entries ?? []) {
    let total = first === undefined ? 0 : weighted(first, score);
    const inAll = rest.every((source) => {
      const other = source.key === first?.key ? score : source.entries.get(member);
      if (other === undefined) return false;
      total = aggregate(request.aggregate, total, other * source.weight);
      return true;
    });
    if (inAll) result.set(member, total);
  }
  return result;
}

function setOperation(operation: SetOperation, mode: 'reply' | 'store' | 'card') {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const request = parseSetOperation(context, args, operation, mode);
    if (isError(request)) return request;
    const result = combine(operation, request);
    if (mode === 'card') {
      return request.limit > 0 ? Math.min(request.limit, result.size) : result.size;
    }
    if (mode === 'reply') return flatten(sorted(result), request.withScores);
    const destination = keyOf(arg(args, 1));
    context.keyspace.delete(destination);
    if (result.size === 0) return 0;
    for (const [member, score] of result) result.set(member, storedScore(score));
    context.keyspace.set(destination, { type: 'zset', value: result });
    return result.size;
  };
}

export const sortedSetCommands: CommandTable = {
  zscan: { arity: -3, write: false, run: zscan },
  zpopmin: { arity: -2, write: true, run: pop(false) },
  zpopmax: { arity: -2, write: true, run: pop(true) },
  zadd: { arity: -4, write: true, run: zadd },
  zincrby: {
    arity: 4,
    write: true,
    run: (context, args) =>
      zadd(context, [arg(args, 0), arg(args, 1), Buffer.from('INCR'), arg(args, 2), arg(args, 3)]),
  },
  zrem: {
    arity: -3,
    write: true,
    run: (context, args) => {
      const zset = readZSet(context, arg(args, 1));
      if (isError(zset)) return zset;
      return args.slice(2).filter((member) => zset?.delete(keyOf(member))).length;
    },
  },
  zscore: {
    arity: 3,
    write: false,
    run: (context, args) => {
      const zset = readZSet(context, arg(args, 1));
      if (isError(zset)) return zset;
      const score = zset?.get(keyOf(arg(args, 2)));
      return score === undefined ? null : scoreBytes(score);
    },
  },
  zmscore: {
    arity: -3,
    write: false,
    run: (context, args) => {
      const zset = readZSet(context, arg(args, 1));
      if (isError(zset)) return zset;
      return args.slice(2).map((member) => {
        const score = zset?.get(keyOf(member));
        return score === undefined ? null : scoreBytes(score);
      });
    },
  },
  zcard: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const zset = readZSet(context, arg(args, 1));
      return isError(zset) ? zset : (zset?.size ?? 0);
    },
  },
  zcount: {
    arity: 4,
    write: false,
    run: (context, args) => {
      const request: RangeRequest = { by: 'score', reverse: false, limit: null, withScores: false };
      const selected = selectRange(context, args, request);
      return isError(selected) ? selected : selected.members.length;
    },
  },
  zrank: { arity: 3, write: false, run: rank(false) },
  zrevrank: { arity: 3, write: false, run: rank(true) },
  zrange: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'rank', reverse: false }, ZRANGE_OPTIONS),
  },
  zrevrange: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'rank', reverse: true }, WITHSCORES_ONLY),
  },
  zrangebyscore: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'score', reverse: false }, BY_SCORE_OPTIONS),
  },
  zrevrangebyscore: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'score', reverse: true }, BY_SCORE_OPTIONS),
  },
  zrangebylex: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'lex', reverse: false }, BY_LEX_OPTIONS),
  },
  zremrangebyscore: { arity: 4, write: true, run: removeRange('score') },
  zremrangebyrank: { arity: 4, write: true, run: removeRange('rank') },
  zremrangebylex: { arity: 4, write: true, run: removeRange('lex') },
  zrevrangebylex: {
    arity: -4,
    write: false,
    run: rangeCommand({ by: 'lex', reverse: true }, BY_LEX_OPTIONS),
  },
  zlexcount: {
    arity: 4,
    write: false,
    run: (context, args) => {
      const request: RangeRequest = { by: 'lex', reverse: false, limit: null, withScores: false };
      const selected = selectRange(context, args, request);
      return isError(selected) ? selected : selected.members.length;
    },
  },
  zunion: { arity: -3, write: false, run: setOperation('union', 'reply') },
  zinter: { arity: -3, write: false, run: setOperation('inter', 'reply') },
  zdiff: { arity: -3, write: false, run: setOperation('diff', 'reply') },
  zunionstore: { arity: -4, write: true, run: setOperation('union', 'store') },
  zinterstore: { arity: -4, write: true, run: setOperation('inter', 'store') },
  zdiffstore: { arity: -4, write: true, run: setOperation('diff', 'store') },
  zintercard: { arity: -3, write: false, run: setOperation('inter', 'card') },
};
