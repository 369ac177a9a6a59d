// Streams: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD and XREADGROUP, with Redis
// 7.0's argument parsing and error texts (t_stream.c); the rest of consumer groups is in
// stream-groups.ts. XREAD and XREADGROUP with BLOCK wait for XADD like BLPOP waits for a push.
import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import {
  arg,
  type BlockedCall,
  type CommandContext,
  type CommandTable,
  optionName,
} from '../command.ts';
import { isError, NO_SUCH_KEY, NOT_INTEGER, SYNTAX_ERROR, wrongArity } from '../errors.ts';
import { keyOf } from '../keyspace.ts';
import { parseInt64, parseInteger } from '../numbers.ts';
import {
  type Consumer,
  type ConsumerGroup,
  compareIds,
  formatId,
  MAX_ID,
  MIN_ID,
  nextId,
  pendingInOrder,
  previousId,
  Stream,
  type StreamEntry,
  type StreamId,
  type TrimRule,
  UNKNOWN_ENTRIES_READ,
} from '../stream.ts';

export const OK = new RedisStatusReply('OK');
export const INVALID_ID = new RedisErrorReply(
  'ERR Invalid stream ID specified as stream command argument',
);
const UINT64_LIMIT = 2n ** 64n;
/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked read without COUNT is served at most this many. */
const BLOCKED_DEFAULT_COUNT = 1000;
/** 100 * stream-node-max-entries: how much a "~" trim may remove without LIMIT. */
const APPROX_TRIM_LIMIT = 10_000;

export function readStream(context: CommandContext, key: Buffer) {
  return context.keyspace.typed(keyOf(key), 'stream');
}

export function idBytes(id: StreamId): Buffer {
  return Buffer.from(formatId(id));
}

/** C string semantics: the argument ends at its first NUL byte. */
export function cString(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\0');
  return end === -1 ? text : text.slice(0, end);
}

/** string2ull: a strict integer, else what strtoull accepts in base 10 (spaces, sign, zeros). */
function parseUint64(text: string): bigint | null {
  const strict = parseInt64(Buffer.from(text, 'latin1'));
  if (strict !== null) return strict < 0n ? null : strict;
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (!match) return null;
  const value = BigInt(match[2] ?? '');
  if (value >= UINT64_LIMIT) return null;
  return match[1] === '-' ? (UINT64_LIMIT - value) % UINT64_LIMIT : value;
}

interface IdRules {
  /** The sequence of an ID given as "<ms>". */
  missingSeq: bigint;
  /** "-" and "+" are refused. */
  strict: boolean;
  /** XADD's "<ms>-*". */
  seqStar: boolean;
}

/** streamGenericParseIDOrReply; `seqGiven` is false for "<ms>-*". */
export function parseId(bytes: Buffer, rules: IdRules): { id: StreamId; seqGiven: boolean } | null {
  if (bytes.length > 127) return null;
  const text = cString(bytes);
  if (rules.strict && (text === '-' || text === '+')) return null;
  if (text === '-') return { id: MIN_ID, seqGiven: true };
  if (text === '+') return { id: MAX_ID, seqGiven: true };
  const dash = text.indexOf('-');
  const ms = parseUint64(dash === -1 ? text : text.slice(0, dash));
  if (ms === null) return null;
  if (dash === -1) return { id: { ms, seq: rules.missingSeq }, seqGiven: true };
  const rest = text.slice(dash + 1);
  if (rules.seqStar && rest === '*') return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseUint64(rest);
  return seq === null ? null : { id: { ms, seq }, seqGiven: true };
}

export function parseStrictId(bytes: Buffer): StreamId | RedisErrorReply {
  return parseId(bytes, { missingSeq: 0n, strict: true, seqStar: false })?.id ?? INVALID_ID;
}

/** A range bound: "(" makes it exclusive (and strict), otherwise "-" and "+" are allowed. */
export function parseBound(
  bytes: Buffer,
  missingSeq: bigint,
): { id: StreamId; exclusive: boolean } | null {
  const exclusive = bytes.length > 1 && bytes[0] === 0x28;
  const parsed = parseId(exclusive ? bytes.subarray(1) : bytes, {
    missingSeq,
    strict: exclusive,
    seqStar: false,
  });
  return parsed === null ? null : { id: parsed.id, exclusive };
}

/** Start and end of XRANGE / XPENDING, exclusive bounds moved inwards. */
export function parseInterval(
  startBytes: Buffer,
  endBytes: Buffer,
): [StreamId, StreamId] | RedisErrorReply {
  const start = parseBound(startBytes, 0n);
  if (start === null) return INVALID_ID;
  const first = start.exclusive ? nextId(start.id) : start.id;
  if (first === null) return new RedisErrorReply('ERR invalid start ID for the interval');
  const end = parseBound(endBytes, MAX_ID.seq);
  if (end === null) return INVALID_ID;
  const last = end.exclusive ? previousId(end.id) : end.id;
  if (last === null) return new RedisErrorReply('ERR invalid end ID for the interval');
  return [first, last];
}

export function entryReply(entry: StreamEntry): RedisReply {
  return [idBytes(entry.id), entry.fields];
}

export function take<T>(items: Iterable<T>, count: number): T[] {
  const taken: T[] = [];
  if (count <= 0) return [...items];
  for (const item of items) {
    taken.push(item);
    if (taken.length >= count) break;
  }
  return taken;
}

// XADD and XTRIM

interface AddTrimArgs {
  trim: TrimRule | null;
  /** null for "*". */
  id: StreamId | null;
  seqGiven: boolean;
  noMkStream: boolean;
  /** Where XADD's ID is; its fields follow. */
  idIndex: number;
}

/** streamParseAddOrTrimArgsOrReply. */
function parseAddOrTrim(args: Buffer[], xadd: boolean): AddTrimArgs | RedisErrorReply {
  let strategy: { kind: 'maxlen'; maxlen: number } | { kind: 'minid'; minid: StreamId } | null =
    null;
  let approx = false;
  let limit = 0;
  let limitGiven = false;
  const parsed: AddTrimArgs = {
    trim: null,
    id: null,
    seqGiven: false,
    noMkStream: false,
    idIndex: 0,
  };
  let i = 2;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const option = optionName(args[i]);
    if (xadd && cString(arg(args, i)) === '*') break;
    if ((option === 'MAXLEN' || option === 'MINID') && more > 0) {
      if (strategy !== null) {
        return new RedisErrorReply(
          'ERR syntax error, MAXLEN and MINID options at the same time are not compatible',
        );
      }
      approx = false;
      const next = cString(arg(args, i + 1));
      if (more >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      const value = arg(args, ++i);
      if (option === 'MAXLEN') {
        const maxlen = parseInteger(value);
        if (maxlen === null) return NOT_INTEGER;
        if (maxlen < 0) return new RedisErrorReply('ERR The MAXLEN argument must be >= 0.');
        strategy = { kind: 'maxlen', maxlen };
      } else {
        const minid = parseStrictId(value);
        if (isError(minid)) return minid;
        strategy = { kind: 'minid', minid };
      }
    } else if (option === 'LIMIT' && more > 0) {
      const value = parseInteger(arg(args, ++i));
      if (value === null) return NOT_INTEGER;
      if (value < 0) return new RedisErrorReply('ERR The LIMIT argument must be >= 0.');
      limit = value;
      limitGiven = true;
    } else if (xadd && option === 'NOMKSTREAM') {
      parsed.noMkStream = true;
    } else if (xadd) {
      const id = parseId(arg(args, i), { missingSeq: 0n, strict: true, seqStar: true });
      if (id === null) return INVALID_ID;
      parsed.id = id.id;
      parsed.seqGiven = id.seqGiven;
      break;
    } else {
      return SYNTAX_ERROR;
    }
  }
  if (limit > 0 && strategy === null) {
    return new RedisErrorReply(
      'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy',
    );
  }
  if (!xadd && strategy === null) {
    return new RedisErrorReply('ERR syntax error, XTRIM must be called with a trimming strategy');
  }
  if (limitGiven && !approx) {
    return new RedisErrorReply(
      'ERR syntax error, LIMIT cannot be used without the special ~ option',
    );
  }
  if (!limitGiven) limit = approx ? APPROX_TRIM_LIMIT : 0;
  parsed.trim = strategy === null ? null : { ...strategy, approx, limit };
  parsed.idIndex = i;
  return parsed;
}

/** The ID XADD will use, or the error; `last` is the stream's last ID. */
function nextEntryId(context: CommandContext, parsed: AddTrimArgs, last: StreamId) {
  if (parsed.id === null) {
    const now = BigInt(Math.floor(context.keyspace.now()));
    return now > last.ms ? { ms: now, seq: 0n } : (nextId(last) ?? MIN_ID);
  }
  if (parsed.seqGiven || parsed.id.ms !== last.ms) return parsed.id;
  const next = nextId(last);
  return next === null || next.ms !== last.ms
    ? new RedisErrorReply('ERR Elements are too large to be stored')
    : next;
}

function xadd(context: CommandContext, args: Buffer[]): RedisReply {
  const parsed = parseAddOrTrim(args, true);
  if (isError(parsed)) return parsed;
  const fields = args.slice(parsed.idIndex + 1);
  if (fields.length < 2 || fields.length % 2 === 1) return wrongArity('xadd');
  if (parsed.id !== null && parsed.seqGiven && compareIds(parsed.id, MIN_ID) === 0) {
    return new RedisErrorReply('ERR The ID specified in XADD must be greater than 0-0');
  }
  const key = keyOf(arg(args, 1));
  const existing = context.keyspace.typed(key, 'stream');
  if (isError(existing)) return existing;
  if (existing === undefined && parsed.noMkStream) return null;
  const stream = context.keyspace.writable(key, 'stream', () => new Stream());
  if (isError(stream)) return stream;
  if (compareIds(stream.lastId, MAX_ID) === 0) {
    return new RedisErrorReply(
      'ERR The stream has exhausted the last possible ID, unable to add more items',
    );
  }
  const id = nextEntryId(context, parsed, stream.lastId);
  if (isError(id)) return id;
  if (compareIds(id, stream.lastId) <= 0) {
    return new RedisErrorReply(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
  }
  stream.append(id, fields);
  if (parsed.trim !== null) stream.trim(parsed.trim);
  return idBytes(id);
}

function xtrim(context: CommandContext, args: Buffer[]): RedisReply {
  const parsed = parseAddOrTrim(args, false);
  if (isError(parsed)) return parsed;
  const stream = readStream(context, arg(args, 1));
  if (isError(stream) || stream === undefined) return stream ?? 0;
  return parsed.trim === null ? 0 : stream.trim(parsed.trim);
}

// XRANGE, XREVRANGE, XLEN, XDEL, XSETID

function xrange(reverse: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const interval = reverse
      ? parseInterval(arg(args, 3), arg(args, 2))
      : parseInterval(arg(args, 2), arg(args, 3));
    if (isError(interval)) return interval;
    let count = -1;
    for (let i = 4; i < args.length; i++) {
      if (optionName(args[i]) !== 'COUNT' || i + 1 >= args.length) return SYNTAX_ERROR;
      const parsed = parseInteger(arg(args, ++i));
      if (parsed === null) return NOT_INTEGER;
      count = Math.max(0, parsed);
    }
    const stream = readStream(context, arg(args, 1));
    if (isError(stream) || stream === undefined) return stream ?? [];
    if (count === 0) return null;
    const [start, end] = interval;
    return take(stream.range(start, end, reverse), count).map(entryReply);
  };
}

function xdel(context: CommandContext, args: Buffer[]): RedisReply {
  const stream = readStream(context, arg(args, 1));
  if (isError(stream) || stream === undefined) return stream ?? 0;
  const ids: StreamId[] = [];
  for (const bytes of args.slice(2)) {
    const id = parseStrictId(bytes);
    if (isError(id)) return id;
    ids.push(id);
  }
  let deleted = 0;
  let firstDeleted = false;
  for (const id of ids) {
    if (!stream.delete(id)) continue;
    if (compareIds(id, stream.firstId) === 0) firstDeleted = true;
    if (compareIds(id, stream.maxDeletedId) > 0) stream.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0 && stream.length === 0) stream.firstId = MIN_ID;
  else if (firstDeleted) stream.firstId = stream.edgeId(true);
  return deleted;
}

function xsetid(context: CommandContext, args: Buffer[]): RedisReply {
  const id = parseStrictId(arg(args, 2));
  if (isError(id)) return id;
  let entriesAdded = -1;
  let maxDeleted = MIN_ID;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    const value = args[i + 1];
    if (option === 'ENTRIESADDED' && value !== undefined) {
      const parsed = parseInteger(value);
      if (parsed === null) return NOT_INTEGER;
      if (parsed < 0) return new RedisErrorReply('ERR entries_added must be positive');
      entriesAdded = parsed;
    } else if (option === 'MAXDELETEDID' && value !== undefined) {
      const parsed = parseStrictId(value);
      if (isError(parsed)) return parsed;
      if (compareIds(id, parsed) < 0) {
        return new RedisErrorReply(
          'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id',
        );
      }
      maxDeleted = parsed;
    } else {
      return SYNTAX_ERROR;
    }
    i++;
  }
  const stream = readStream(context, arg(args, 1));
  if (isError(stream)) return stream;
  if (stream === undefined) return NO_SUCH_KEY;
  if (stream.length > 0) {
    if (compareIds(id, stream.edgeId(false)) < 0) {
      return new RedisErrorReply(
        'ERR The ID specified in XSETID is smaller than the target stream top item',
      );
    }
    if (entriesAdded !== -1 && stream.length > entriesAdded) {
      return new RedisErrorReply(
        'ERR The entries_added specified in XSETID is smaller than the target stream length',
      );
    }
  }
  stream.lastId = id;
  if (entriesAdded !== -1) stream.entriesAdded = entriesAdded;
  if (compareIds(maxDeleted, MIN_ID) !== 0) stream.maxDeletedId = maxDeleted;
  return OK;
}

// Consumer groups

export function createConsumer(
  context: CommandContext,
  group: ConsumerGroup,
  name: Buffer,
): Consumer {
  const consumer: Consumer = { name, seenTime: context.keyspace.now(), pending: new Map() };
  group.consumers.set(keyOf(name), consumer);
  return consumer;
}

/** streamLookupConsumer with its seen-time refreshed, created when missing. */
export function activeConsumer(
  context: CommandContext,
  group: ConsumerGroup,
  name: Buffer,
): Consumer {
  const consumer = group.consumers.get(keyOf(name));
  if (consumer === undefined) return createConsumer(context, group, name);
  consumer.seenTime = context.keyspace.now();
  return consumer;
}

/** Delivers new entries to `consumer` (XREADGROUP >), moving the group forward. */
function deliverNew(
  context: CommandContext,
  stream: Stream,
  group: ConsumerGroup,
  consumer: Consumer,
  start: StreamId,
  count: number,
  noAck: boolean,
): RedisReply[] {
  const now = context.keyspace.now();
  const delivered = take(stream.range(start, MAX_ID), count);
  for (const entry of delivered) {
    if (compareIds(entry.id, group.lastId) > 0) {
      if (group.entriesRead !== UNKNOWN_ENTRIES_READ && !stream.rangeHasTombstones(entry.id)) {
        group.entriesRead++;
      } else if (stream.entriesAdded > 0) {
        group.entriesRead = stream.distanceFromFirstEverEntry(entry.id);
      }
      group.lastId = entry.id;
    }
    if (noAck) continue;
    const key = formatId(entry.id);
    const pending = group.pending.get(key);
    if (pending === undefined) {
      const created = { id: entry.id, consumer, deliveryTime: now, deliveryCount: 1 };
      group.pending.set(key, created);
      consumer.pending.set(key, created);
    } else {
      pending.consumer.pending.delete(key);
      pending.consumer = consumer;
      pending.deliveryTime = now;
      pending.deliveryCount = 1;
      consumer.pending.set(key, pending);
    }
  }
  return delivered.map(entryReply);
}

/** The consumer's own pending entries from `start` (XREADGROUP with an ID). */
function deliverHistory(
  context: CommandContext,
  stream: Stream,
  consumer: Consumer,
  start: StreamId,
  count: number,
): RedisReply[] {
  const now = context.keyspace.now();
  const pending = pendingInOrder(consumer.pending).filter(
    (entry) => compareIds(entry.id, start) >= 0,
  );
  return take(pending, count).map((pendingEntry) => {
    const entry = stream.entry(pendingEntry.id);
    if (entry === undefined) return [idBytes(pendingEntry.id), null];
    pendingEntry.deliveryTime = now;
    pendingEntry.deliveryCount++;
    return entryReply(entry);
  });
}

interface ReadRequest {
  blockMs: number | null;
  count: number;
  noAck: boolean;
  group: { name: Buffer; consumer: Buffer } | null;
  keys: Buffer[];
  ids: Buffer[];
}

/** XREAD / XREADGROUP options, in Redis's order of checks. */
function parseRead(
  args: Buffer[],
  withGroup: boolean,
  inScript = false,
): ReadRequest | RedisErrorReply {
  const request: ReadRequest = {
    blockMs: null,
    count: 0,
    noAck: false,
    group: null,
    keys: [],
    ids: [],
  };
  let streamsAt = 0;
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const option = optionName(args[i]);
    if (option === 'BLOCK' && more > 0) {
      if (inScript) {
        return new RedisErrorReply(
          `ERR ${arg(args, 0).toString('latin1')} command is not allowed with BLOCK option from scripts`,
        );
      }
      const timeout = parseInteger(arg(args, ++i));
      if (timeout === null) {
        return new RedisErrorReply('ERR timeout is not an integer or out of range');
      }
      if (timeout < 0) return new RedisErrorReply('ERR timeout is negative');
      request.blockMs = timeout;
    } else if (option === 'COUNT' && more > 0) {
      const count = parseInteger(arg(args, ++i));
      if (count === null) return NOT_INTEGER;
      request.count = Math.max(0, count);
    } else if (option === 'STREAMS' && more > 0) {
      streamsAt = i + 1;
      if ((args.length - streamsAt) % 2 !== 0) {
        return new RedisErrorReply(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      break;
    } else if (option === 'GROUP' && more >= 2) {
      if (!withGroup) {
        return new RedisErrorReply(
          'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.',
        );
      }
      request.group = { name: arg(args, i + 1), consumer: arg(args, i + 2) };
      i += 2;
    } else if (option === 'NOACK') {
      if (!withGroup) {
        return new RedisErrorReply(
          'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.',
        );
      }
      request.noAck = true;
    } else {
      return SYNTAX_ERROR;
    }
  }
  if (streamsAt === 0) return SYNTAX_ERROR;
  if (withGroup && request.group === null) {
    return new RedisErrorReply('ERR Missing GROUP option for XREADGROUP');
  }
  const half = (args.length - streamsAt) / 2;
  request.keys = args.slice(streamsAt, streamsAt + half);
  request.ids = args.slice(streamsAt + half);
  return request;
}

/** The ID after which each stream is read ("$" resolved, ">" as MAX_ID), or the error. */
function readPositions(
  context: CommandContext,
  request: ReadRequest,
):
  | { stream: Stream | undefined; after: StreamId; group: ConsumerGroup | undefined }[]
  | RedisErrorReply {
  const positions = [];
  for (const [i, key] of request.keys.entries()) {
    const stream = readStream(context, key);
    if (isError(stream)) return stream;
    let group: ConsumerGroup | undefined;
    if (request.group !== null) {
      group = stream?.groups.get(keyOf(request.group.name));
      if (group === undefined) {
        return new RedisErrorReply(
          `NOGROUP No such key '${cString(key)}' or consumer group '${cString(request.group.name)}' in XREADGROUP with GROUP option`,
        );
      }
    }
    const text = (request.ids[i] as Buffer).toString('latin1');
    let after: StreamId | RedisErrorReply;
    if (text === '$') {
      if (request.group !== null) {
        return new RedisErrorReply(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
      }
      after = stream?.lastId ?? MIN_ID;
    } else if (text === '>') {
      if (request.group === null) {
        return new RedisErrorReply(
          'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.',
        );
      }
      after = MAX_ID;
    } else {
      after = parseStrictId(request.ids[i] as Buffer);
    }
    if (isError(after)) return after;
    positions.push({ stream, after, group });
  }
  return positions;
}

/** What a read can serve now, or null. */
function serveRead(context: CommandContext, request: ReadRequest): RedisReply {
  const positions = readPositions(context, request);
  if (isError(positions)) return positions;
  const reply: RedisReply[] = [];
  for (const [i, { stream, after, group }] of positions.entries()) {
    if (stream === undefined) continue;
    let from = after;
    let history = false;
    if (group !== undefined) {
      if (compareIds(after, MAX_ID) !== 0) history = true;
      else if (stream.length > 0 && compareIds(stream.edgeId(false), group.lastId) > 0) {
        from = group.lastId;
      } else continue;
    } else if (stream.length === 0 || compareIds(stream.edgeId(false), after) <= 0) {
      continue;
    }
    const start = nextId(from) ?? MIN_ID;
    let entries: RedisReply[];
    if (group !== undefined && request.group !== null) {
      const consumer = activeConsumer(context, group, request.group.consumer);
      entries = history
        ? deliverHistory(context, stream, consumer, start, request.count)
        : deliverNew(context, stream, group, consumer, start, request.count, request.noAck);
    } else {
      entries = take(stream.range(start, MAX_ID), request.count).map(entryReply);
    }
    reply.push([request.keys[i] as Buffer, entries]);
  }
  return reply.length > 0 ? reply : null;
}

/** XREAD and XREADGROUP: what can be served now, or null (the backend waits with BLOCK). */
function xread(withGroup: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const request = parseRead(args, withGroup, context.inScript);
    return isError(request) ? request : serveRead(context, request);
  };
}

const UNBLOCKED_DELETED = new RedisErrorReply('UNBLOCKED the stream key no longer exists');
const UNBLOCKED_NO_GROUP = new RedisErrorReply(
  'NOGROUP the consumer group this client was blocked on no longer exists',
);

/**
 * With BLOCK: the read retried after each write, with "$" pinned to the IDs of now and COUNT 1000
 * when none was given, as Redis serves blocked readers. A consumer group reader is let go with an
 * error when its stream or its group goes away.
 */
function readBlock(context: CommandContext, args: Buffer[]): BlockedCall | undefined {
  const request = parseRead(args, optionName(args[0]) === 'XREADGROUP');
  if (isError(request) || request.blockMs === null) return undefined;
  const pinned: ReadRequest = {
    ...request,
    count: request.count > 0 ? request.count : BLOCKED_DEFAULT_COUNT,
    ids: request.ids.map((id, i) => {
      if (id.toString('latin1') !== '$') return id;
      const stream = readStream(context, request.keys[i] as Buffer);
      return idBytes(isError(stream) || stream === undefined ? MIN_ID : stream.lastId);
    }),
  };
  const { group } = request;
  return {
    seconds: request.blockMs / 1000,
    retry: (now) => {
      if (group !== null) {
        for (const key of request.keys) {
          const stream = readStream(now, key);
          if (isError(stream) || stream === undefined) return UNBLOCKED_DELETED;
          if (!stream.groups.has(keyOf(group.name))) return UNBLOCKED_NO_GROUP;
        }
      }
      const reply = serveRead(now, pinned);
      return reply === null || isError(reply) ? undefined : reply;
    },
  };
}

export const streamCommands: CommandTable = {
  xadd: { arity: -5, write: true, run: xadd },
  xtrim: { arity: -4, write: true, run: xtrim },
  xrange: { arity: -4, write: false, run: xrange(false) },
  xrevrange: { arity: -4, write: false, run: xrange(true) },
  xlen: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const stream = readStream(context, arg(args, 1));
      return isError(stream) ? stream : (stream?.length ?? 0);
    },
  },
  xdel: { arity: -3, write: true, run: xdel },
  xsetid: { arity: -3, write: true, run: xsetid },
  xread: { arity: -4, write: false, run: xread(false), block: readBlock },
  xreadgroup: { arity: -7, write: true, run: xread(true), block: readBlock },
};
