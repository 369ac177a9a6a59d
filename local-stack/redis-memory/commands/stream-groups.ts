// Consumer groups beyond XREADGROUP: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, and XINFO, with
// Redis 7.0's argument parsing and error texts (t_stream.c).
import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NO_SUCH_KEY, NOT_INTEGER, SYNTAX_ERROR, wrongArity } from '../errors.ts';
import { keyOf } from '../keyspace.ts';
import { parseInt64, parseInteger } from '../numbers.ts';
import {
  byName,
  type Consumer,
  type ConsumerGroup,
  compareIds,
  formatId,
  MAX_ID,
  MIN_ID,
  nextId,
  type PendingEntry,
  pendingInOrder,
  Stream,
  type StreamId,
  UNKNOWN_ENTRIES_READ,
} from '../stream.ts';
import {
  activeConsumer,
  createConsumer,
  cString,
  entryReply,
  INVALID_ID,
  idBytes,
  OK,
  parseBound,
  parseId,
  parseInterval,
  parseStrictId,
  readStream,
  take,
} from './streams.ts';

/** LONG_MAX / 16: XAUTOCLAIM's COUNT must leave room for its 10 attempts per claim. */
const MAX_AUTOCLAIM_COUNT = (2n ** 63n - 1n) / 16n;

function xack(context: CommandContext, args: Buffer[]): RedisReply {
  const stream = readStream(context, arg(args, 1));
  if (isError(stream)) return stream;
  const group = stream?.groups.get(keyOf(arg(args, 2)));
  if (group === undefined) return 0;
  const ids: StreamId[] = [];
  for (const bytes of args.slice(3)) {
    const id = parseStrictId(bytes);
    if (isError(id)) return id;
    ids.push(id);
  }
  let acknowledged = 0;
  for (const id of ids) {
    const key = formatId(id);
    const pending = group.pending.get(key);
    if (pending === undefined) continue;
    group.pending.delete(key);
    pending.consumer.pending.delete(key);
    acknowledged++;
  }
  return acknowledged;
}

function noGroup(group: Buffer, key: Buffer): RedisErrorReply {
  return new RedisErrorReply(
    `NOGROUP No such consumer group '${cString(group)}' for key name '${cString(key)}'`,
  );
}

function xpending(context: CommandContext, args: Buffer[]): RedisReply {
  if (args.length !== 3 && (args.length < 6 || args.length > 9)) return SYNTAX_ERROR;
  let range: {
    start: StreamId;
    end: StreamId;
    count: number;
    idle: number;
    consumer: Buffer | undefined;
  } | null = null;
  if (args.length >= 6) {
    let at = 3;
    let idle = 0;
    if (optionName(args[3]) === 'IDLE') {
      const parsed = parseInteger(arg(args, 4));
      if (parsed === null) return NOT_INTEGER;
      if (args.length < 8) return SYNTAX_ERROR;
      idle = parsed;
      at = 5;
    }
    const count = parseInteger(arg(args, at + 2));
    if (count === null) return NOT_INTEGER;
    const interval = parseInterval(arg(args, at), arg(args, at + 1));
    if (isError(interval)) return interval;
    range = {
      start: interval[0],
      end: interval[1],
      count: Math.max(0, count),
      idle,
      consumer: args[at + 3],
    };
  }
  const stream = readStream(context, arg(args, 1));
  if (isError(stream)) return stream;
  const group = stream?.groups.get(keyOf(arg(args, 2)));
  if (group === undefined) {
    return new RedisErrorReply(
      `NOGROUP No such key '${cString(arg(args, 1))}' or consumer group '${cString(arg(args, 2))}'`,
    );
  }
  const pending = pendingInOrder(group.pending);
  if (range === null) {
    const first = pending[0];
    const last = pending.at(-1);
    if (first === undefined || last === undefined) return [0, null, null, null];
    const consumers = byName(group.consumers.values())
      .filter((consumer) => consumer.pending.size > 0)
      .map((consumer) => [consumer.name, Buffer.from(String(consumer.pending.size))]);
    return [pending.length, idBytes(first.id), idBytes(last.id), consumers];
  }
  let source = pending;
  if (range.consumer !== undefined) {
    const consumer = group.consumers.get(keyOf(range.consumer));
    if (consumer === undefined) return [];
    source = pendingInOrder(consumer.pending);
  }
  const now = context.keyspace.now();
  const { start, end, idle } = range;
  const selected = source.filter(
    (entry) =>
      compareIds(entry.id, start) >= 0 &&
      compareIds(entry.id, end) <= 0 &&
      (idle === 0 || now - entry.deliveryTime >= idle),
  );
  return selected
    .slice(0, range.count)
    .map((entry) => [
      idBytes(entry.id),
      entry.consumer.name,
      Math.max(0, now - entry.deliveryTime),
      entry.deliveryCount,
    ]);
}

function noSuchGroup(args: Buffer[]): RedisErrorReply {
  return new RedisErrorReply(
    `NOGROUP No such key '${cString(arg(args, 1))}' or consumer group '${cString(arg(args, 2))}'`,
  );
}

/** Moves a pending entry to `consumer` (its delivery count is the caller's business). */
function claimFor(
  group: ConsumerGroup,
  pending: PendingEntry,
  consumer: Consumer,
  deliveryTime: number,
): void {
  const key = formatId(pending.id);
  if (pending.consumer !== consumer) pending.consumer.pending.delete(key);
  pending.deliveryTime = deliveryTime;
  pending.consumer = consumer;
  consumer.pending.set(key, pending);
  group.pending.set(key, pending);
}

/** Drops a pending entry whose stream entry is gone. */
function forget(group: ConsumerGroup, pending: PendingEntry): void {
  const key = formatId(pending.id);
  group.pending.delete(key);
  pending.consumer.pending.delete(key);
}

function parseClaimOption(bytes: Buffer, message: string): number | RedisErrorReply {
  const value = parseInteger(bytes);
  return value === null ? new RedisErrorReply(`ERR ${message}`) : value;
}

/** xclaimCommand: IDs until the first argument that is not one, then the options. */
function xclaim(context: CommandContext, args: Buffer[]): RedisReply {
  const stream = readStream(context, arg(args, 1));
  if (isError(stream)) return stream;
  const group = stream?.groups.get(keyOf(arg(args, 2)));
  if (stream === undefined || group === undefined) return noSuchGroup(args);
  const minIdle = parseClaimOption(arg(args, 4), 'Invalid min-idle-time argument for XCLAIM');
  if (isError(minIdle)) return minIdle;
  const ids: StreamId[] = [];
  let i = 5;
  for (; i < args.length; i++) {
    const id = parseStrictId(arg(args, i));
    if (isError(id)) break;
    ids.push(id);
  }
  const now = context.keyspace.now();
  let force = false;
  let justId = false;
  let deliveryTime = -1;
  let retryCount = -1;
  let lastId = MIN_ID;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const option = optionName(args[i]);
    if (option === 'FORCE') force = true;
    else if (option === 'JUSTID') justId = true;
    else if ((option === 'IDLE' || option === 'TIME' || option === 'RETRYCOUNT') && more > 0) {
      const value = parseClaimOption(
        arg(args, ++i),
        `Invalid ${option} option argument for XCLAIM`,
      );
      if (isError(value)) return value;
      if (option === 'IDLE') deliveryTime = now - value;
      else if (option === 'TIME') deliveryTime = value;
      else retryCount = value;
    } else if (option === 'LASTID' && more > 0) {
      const id = parseStrictId(arg(args, ++i));
      if (isError(id)) return id;
      lastId = id;
    } else {
      return new RedisErrorReply(`ERR Unrecognized XCLAIM option '${cString(arg(args, i))}'`);
    }
  }
  if (compareIds(lastId, group.lastId) > 0) group.lastId = lastId;
  if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  let consumer: Consumer | undefined;
  const claimed: RedisReply[] = [];
  for (const id of ids) {
    const key = formatId(id);
    let pending = group.pending.get(key);
    const entry = stream.entry(id);
    if (entry === undefined) {
      if (pending !== undefined) forget(group, pending);
      continue;
    }
    const forced = pending === undefined && force;
    if (pending === undefined) {
      if (!force) continue;
      consumer ??= activeConsumer(context, group, arg(args, 3));
      pending = { id, consumer, deliveryTime: now, deliveryCount: 1 };
    } else if (Math.max(0, minIdle) > 0 && now - pending.deliveryTime < minIdle) {
      continue;
    }
    consumer ??= activeConsumer(context, group, arg(args, 3));
    if (forced) pending.consumer = consumer;
    claimFor(group, pending, consumer, deliveryTime);
    if (retryCount >= 0) pending.deliveryCount = retryCount;
    else if (!justId) pending.deliveryCount++;
    claimed.push(justId ? idBytes(id) : entryReply(entry));
  }
  return claimed;
}

/** xautoclaimCommand: at most COUNT claims, and 10 x COUNT pending entries looked at. */
function xautoclaim(context: CommandContext, args: Buffer[]): RedisReply {
  const minIdle = parseClaimOption(arg(args, 4), 'Invalid min-idle-time argument for XAUTOCLAIM');
  if (isError(minIdle)) return minIdle;
  const bound = parseBound(arg(args, 5), 0n);
  if (bound === null) return INVALID_ID;
  const start = bound.exclusive ? nextId(bound.id) : bound.id;
  if (start === null) return new RedisErrorReply('ERR invalid start ID for the interval');
  let count = 100;
  let justId = false;
  for (let i = 6; i < args.length; i++) {
    const option = optionName(args[i]);
    if (option === 'COUNT' && i + 1 < args.length) {
      const value = parseInt64(arg(args, ++i));
      if (value === null || value < 1n || value > MAX_AUTOCLAIM_COUNT) {
        return new RedisErrorReply('ERR COUNT must be > 0');
      }
      count = Number(value);
    } else if (option === 'JUSTID') {
      justId = true;
    } else {
      return SYNTAX_ERROR;
    }
  }
  const stream = readStream(context, arg(args, 1));
  if (isError(stream)) return stream;
  const group = stream?.groups.get(keyOf(arg(args, 2)));
  if (stream === undefined || group === undefined) return noSuchGroup(args);
  const now = context.keyspace.now();
  const candidates = pendingInOrder(group.pending).filter(
    (pending) => compareIds(pending.id, start) >= 0,
  );
  let attempts = count * 10;
  let next = 0;
  let consumer: Consumer | undefined;
  const claimed: RedisReply[] = [];
  const deleted: Buffer[] = [];
  while (attempts-- > 0 && count > 0 && next < candidates.length) {
    const pending = candidates[next++] as PendingEntry;
    const entry = stream.entry(pending.id);
    if (entry === undefined) {
      forget(group, pending);
      deleted.push(idBytes(pending.id));
      count--;
      continue;
    }
    if (minIdle > 0 && now - pending.deliveryTime < minIdle) continue;
    consumer ??= activeConsumer(context, group, arg(args, 3));
    claimFor(group, pending, consumer, now);
    if (!justId) pending.deliveryCount++;
    claimed.push(justId ? idBytes(pending.id) : entryReply(entry));
    count--;
  }
  const cursor = candidates[next]?.id ?? MIN_ID;
  return [idBytes(cursor), claimed, deleted];
}

// XGROUP and XINFO are containers: each subcommand has its own arity.

interface Subcommand {
  arity: number;
  run(context: CommandContext, args: Buffer[]): RedisReply;
}

function container(subcommands: Map<string, Subcommand>) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const container = arg(args, 0).toString('latin1');
    const name = arg(args, 1).toString('latin1');
    const subcommand = subcommands.get(name.toLowerCase());
    if (subcommand === undefined) {
      return new RedisErrorReply(
        `ERR unknown subcommand '${name.slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`,
      );
    }
    const { arity } = subcommand;
    if (arity >= 0 ? args.length !== arity : args.length < -arity) {
      return wrongArity(`${container.toLowerCase()}|${name.toLowerCase()}`);
    }
    return subcommand.run(context, args);
  };
}

function subcommandSyntaxError(args: Buffer[]): RedisErrorReply {
  const container = arg(args, 0).toString('latin1').toUpperCase();
  return new RedisErrorReply(
    `ERR unknown subcommand or wrong number of arguments for '${arg(args, 1).toString('latin1').slice(0, 128)}'. Try ${container} HELP.`,
  );
}

function help(args: Buffer[], lines: string[]): RedisReply {
  const container = arg(args, 0).toString('latin1').toUpperCase();
  return [
    `${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ].map((line) => new RedisStatusReply(line));
}

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

/** xgroupCommand: options, then the key, then the group, each with its own error. */
function xgroup(context: CommandContext, args: Buffer[]): RedisReply {
  const subcommand = optionName(args[1]);
  const create = subcommand === 'CREATE';
  const setid = subcommand === 'SETID';
  let mkstream = false;
  let entriesRead = UNKNOWN_ENTRIES_READ;
  for (let i = 5; i < args.length; i++) {
    const option = optionName(args[i]);
    if (create && option === 'MKSTREAM') {
      mkstream = true;
    } else if ((create || setid) && option === 'ENTRIESREAD' && i + 1 < args.length) {
      const parsed = parseInteger(arg(args, ++i));
      if (parsed === null) return NOT_INTEGER;
      if (parsed < 0 && parsed !== UNKNOWN_ENTRIES_READ) {
        return new RedisErrorReply('ERR value for ENTRIESREAD must be positive or -1');
      }
      entriesRead = parsed;
    } else {
      return subcommandSyntaxError(args);
    }
  }
  const keyBytes = arg(args, 2);
  const key = keyOf(keyBytes);
  const stream = context.keyspace.typed(key, 'stream');
  if (isError(stream)) return stream;
  const groupName = arg(args, 3);
  const group = stream?.groups.get(keyOf(groupName));
  if (!mkstream) {
    if (stream === undefined) {
      return new RedisErrorReply(
        'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
      );
    }
    if (group === undefined && !create && subcommand !== 'DESTROY') {
      return noGroup(groupName, keyBytes);
    }
  }
  switch (subcommand) {
    case 'CREATE': {
      if (args.length > 8) return subcommandSyntaxError(args);
      let id: StreamId | RedisErrorReply;
      if (cString(arg(args, 4)) === '$') id = stream?.lastId ?? MIN_ID;
      else id = parseStrictId(arg(args, 4));
      if (isError(id)) return id;
      const target = stream ?? context.keyspace.writable(key, 'stream', () => new Stream());
      if (isError(target)) return target;
      if (target.groups.has(keyOf(groupName))) {
        return new RedisErrorReply('BUSYGROUP Consumer Group name already exists');
      }
      target.groups.set(keyOf(groupName), {
        name: groupName,
        lastId: id,
        entriesRead,
        pending: new Map(),
        consumers: new Map(),
      });
      return OK;
    }
    case 'SETID': {
      if (args.length !== 5 && args.length !== 7) return subcommandSyntaxError(args);
      if (stream === undefined || group === undefined) return subcommandSyntaxError(args);
      let id: StreamId | null;
      if (cString(arg(args, 4)) === '$') id = stream.lastId;
      else
        id = parseId(arg(args, 4), { missingSeq: 0n, strict: false, seqStar: false })?.id ?? null;
      if (id === null) return INVALID_ID;
      group.lastId = id;
      group.entriesRead = entriesRead;
      return OK;
    }
    case 'DESTROY':
      return stream?.groups.delete(keyOf(groupName)) ? 1 : 0;
    case 'CREATECONSUMER': {
      if (group === undefined || group.consumers.has(keyOf(arg(args, 4)))) return 0;
      createConsumer(context, group, arg(args, 4));
      return 1;
    }
    case 'DELCONSUMER': {
      const consumer = group?.consumers.get(keyOf(arg(args, 4)));
      if (group === undefined || consumer === undefined) return 0;
      for (const id of consumer.pending.keys()) group.pending.delete(id);
      group.consumers.delete(keyOf(consumer.name));
      return consumer.pending.size;
    }
    default:
      return subcommandSyntaxError(args);
  }
}

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

function infoMap(pairs: [string, RedisReply][]): RedisReply[] {
  return pairs.flatMap(([name, value]) => [Buffer.from(name), value]);
}

function streamInfo(stream: Stream, full: boolean, count: number): RedisReply {
  const head: [string, RedisReply][] = [
    ['length', stream.length],
    ['radix-tree-keys', stream.radixTreeKeys],
    ['radix-tree-nodes', stream.radixTreeNodes],
    ['last-generated-id', idBytes(stream.lastId)],
    ['max-deleted-entry-id', idBytes(stream.maxDeletedId)],
    ['entries-added', stream.entriesAdded],
    ['recorded-first-entry-id', idBytes(stream.firstId)],
  ];
  if (!full) {
    const first = take(stream.range(MIN_ID, MAX_ID), 1)[0];
    const last = take(stream.range(MIN_ID, MAX_ID, true), 1)[0];
    return infoMap([
      ...head,
      ['groups', stream.groups.size],
      ['first-entry', first === undefined ? null : entryReply(first)],
      ['last-entry', last === undefined ? null : entryReply(last)],
    ]);
  }
  const groups = byName(stream.groups.values()).map((group) =>
    infoMap([
      ['name', group.name],
      ['last-delivered-id', idBytes(group.lastId)],
      ['entries-read', group.entriesRead === UNKNOWN_ENTRIES_READ ? null : group.entriesRead],
      ['lag', stream.lag(group)],
      ['pel-count', group.pending.size],
      [
        'pending',
        take(pendingInOrder(group.pending), count).map((entry) => [
          idBytes(entry.id),
          entry.consumer.name,
          entry.deliveryTime,
          entry.deliveryCount,
        ]),
      ],
      [
        'consumers',
        byName(group.consumers.values()).map((consumer) =>
          infoMap([
            ['name', consumer.name],
            ['seen-time', consumer.seenTime],
            ['pel-count', consumer.pending.size],
            [
              'pending',
              take(pendingInOrder(consumer.pending), count).map((entry) => [
                idBytes(entry.id),
                entry.deliveryTime,
                entry.deliveryCount,
              ]),
            ],
          ]),
        ),
      ],
    ]),
  );
  return infoMap([
    ...head,
    ['entries', take(stream.range(MIN_ID, MAX_ID), count).map(entryReply)],
    ['groups', groups],
  ]);
}

function xinfoTarget(context: CommandContext, args: Buffer[]): Stream | RedisErrorReply {
  const stream = readStream(context, arg(args, 2));
  if (isError(stream)) return stream;
  return stream ?? NO_SUCH_KEY;
}

const xinfoSubcommands = new Map<string, Subcommand>([
  ['help', { arity: 2, run: (_context, args) => help(args, XINFO_HELP) }],
  [
    'groups',
    {
      arity: 3,
      run: (context, args) => {
        const stream = xinfoTarget(context, args);
        if (isError(stream)) return stream;
        return byName(stream.groups.values()).map((group) =>
          infoMap([
            ['name', group.name],
            ['consumers', group.consumers.size],
            ['pending', group.pending.size],
            ['last-delivered-id', idBytes(group.lastId)],
            ['entries-read', group.entriesRead === UNKNOWN_ENTRIES_READ ? null : group.entriesRead],
            ['lag', stream.lag(group)],
          ]),
        );
      },
    },
  ],
  [
    'consumers',
    {
      arity: 4,
      run: (context, args) => {
        const stream = xinfoTarget(context, args);
        if (isError(stream)) return stream;
        const group = stream.groups.get(keyOf(arg(args, 3)));
        if (group === undefined) return noGroup(arg(args, 3), arg(args, 2));
        const now = context.keyspace.now();
        return byName(group.consumers.values()).map((consumer) =>
          infoMap([
            ['name', consumer.name],
            ['pending', consumer.pending.size],
            ['idle', Math.max(0, now - consumer.seenTime)],
          ]),
        );
      },
    },
  ],
  [
    'stream',
    {
      arity: -3,
      run: (context, args) => {
        const stream = xinfoTarget(context, args);
        if (isError(stream)) return stream;
        const options = args.slice(3);
        if (options.length === 0) return streamInfo(stream, false, 0);
        if (options.length !== 1 && options.length !== 3) return subcommandSyntaxError(args);
        if (optionName(options[0]) !== 'FULL') return subcommandSyntaxError(args);
        let count = 10;
        if (options.length === 3) {
          if (optionName(options[1]) !== 'COUNT') return subcommandSyntaxError(args);
          const parsed = parseInteger(options[2] as Buffer);
          if (parsed === null) return NOT_INTEGER;
          count = parsed < 0 ? 10 : parsed;
        }
        return streamInfo(stream, true, count);
      },
    },
  ],
]);

const xgroupSubcommands = new Map<string, Subcommand>([
  ['help', { arity: 2, run: (_context, args) => help(args, XGROUP_HELP) }],
  ['create', { arity: -5, run: xgroup }],
  ['setid', { arity: -5, run: xgroup }],
  ['destroy', { arity: 4, run: xgroup }],
  ['createconsumer', { arity: 5, run: xgroup }],
  ['delconsumer', { arity: 5, run: xgroup }],
]);

export const streamGroupCommands: CommandTable = {
  xack: { arity: -4, write: true, run: xack },
  xclaim: { arity: -6, write: true, run: xclaim },
  xautoclaim: { arity: -6, write: true, run: xautoclaim },
  xpending: { arity: -3, write: false, run: xpending },
  xgroup: { arity: -2, write: true, run: container(xgroupSubcommands) },
  xinfo: { arity: -2, write: false, run: container(xinfoSubcommands) },
};
