import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { invalidExpireTime, NO_SUCH_KEY, NOT_INTEGER, SYNTAX_ERROR } from '../errors.ts';
import { type ExpiryUnit, toDeadline } from '../expiry.ts';
import { globMatch } from '../glob.ts';
import { bytesOf, keyOf, type RedisValue } from '../keyspace.ts';
import { parseInteger } from '../numbers.ts';
import { parseScanRequest, scanPage } from '../scan-cursor.ts';

const OK = new RedisStatusReply('OK');

function countKeys(context: CommandContext, args: Buffer[], remove: boolean): number {
  let count = 0;
  for (const key of args.slice(1)) {
    const name = keyOf(key);
    if (remove ? context.keyspace.delete(name) : context.keyspace.has(name)) count++;
  }
  return count;
}

type ExpireCondition = 'NX' | 'XX' | 'GT' | 'LT';

function parseExpireConditions(args: Buffer[]): Set<ExpireCondition> | RedisErrorReply {
  const conditions = new Set<ExpireCondition>();
  for (const bytes of args.slice(3)) {
    const option = optionName(bytes);
    if (option !== 'NX' && option !== 'XX' && option !== 'GT' && option !== 'LT') {
      return new RedisErrorReply(`ERR Unsupported option ${bytes.toString('latin1')}`);
    }
    conditions.add(option);
  }
  if (conditions.has('NX') && conditions.size > 1) {
    return new RedisErrorReply(
      'ERR NX and XX, GT or LT options at the same time are not compatible',
    );
  }
  if (conditions.has('GT') && conditions.has('LT')) {
    return new RedisErrorReply('ERR GT and LT options at the same time are not compatible');
  }
  return conditions;
}

function conditionsAllow(
  conditions: Set<ExpireCondition>,
  current: number | null,
  deadline: number,
): boolean {
  if (conditions.has('NX') && current !== null) return false;
  if (conditions.has('XX') && current === null) return false;
  // No deadline counts as an infinite one.
  if (conditions.has('GT') && (current === null || deadline <= current)) return false;
  if (conditions.has('LT') && current !== null && deadline >= current) return false;
  return true;
}

function expireCommand(unit: ExpiryUnit, name: string) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const key = keyOf(arg(args, 1));
    const amount = parseInteger(arg(args, 2));
    if (amount === null) return NOT_INTEGER;
    const deadline = toDeadline(unit, amount, context.keyspace.now());
    if (!Number.isSafeInteger(deadline)) return invalidExpireTime(name);
    const conditions = parseExpireConditions(args);
    if (conditions instanceof RedisErrorReply) return conditions;
    const current = context.keyspace.expiresAt(key);
    if (current === undefined || !conditionsAllow(conditions, current, deadline)) return 0;
    context.keyspace.setExpiry(key, deadline);
    return 1;
  };
}

function ttlCommand(divisor: 1 | 1000) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const deadline = context.keyspace.expiresAt(keyOf(arg(args, 1)));
    if (deadline === undefined) return -2;
    if (deadline === null) return -1;
    const remaining = Math.max(0, deadline - context.keyspace.now());
    return divisor === 1 ? remaining : Math.floor((remaining + 500) / 1000);
  };
}

function rename(onlyIfAbsent: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const from = keyOf(arg(args, 1));
    const to = keyOf(arg(args, 2));
    if (!context.keyspace.has(from)) return NO_SUCH_KEY;
    if (onlyIfAbsent && context.keyspace.has(to)) return 0;
    if (from !== to) {
      context.keyspace.delete(to);
      context.keyspace.rename(from, to);
    }
    return onlyIfAbsent ? 1 : OK;
  };
}

function scan(context: CommandContext, args: Buffer[]): RedisReply {
  const request = parseScanRequest(args, 1, true);
  if (request instanceof RedisErrorReply) return request;
  const { cursor, page } = scanPage(context.keyspace.keys(), request);
  const keys = page.filter(
    (key) => request.type === null || context.keyspace.value(key)?.type === request.type,
  );
  return [cursor, keys.map(bytesOf)];
}

/** Redis's default number of databases; the engine serves database 0. */
const DATABASES = 16;
const INT32_MAX = 2 ** 31 - 1;

/** A value nothing else shares: commands change collections in place. */
function copyValue(data: RedisValue): RedisValue {
  switch (data.type) {
    case 'string':
      return { type: 'string', value: data.value };
    case 'hash':
      return { type: 'hash', value: new Map(data.value) };
    case 'set':
      return { type: 'set', value: new Set(data.value) };
    case 'zset':
      return { type: 'zset', value: new Map(data.value) };
    case 'list':
      return { type: 'list', value: [...data.value] };
    case 'stream':
      return { type: 'stream', value: data.value.clone() };
  }
}

/** COPY source destination [DB index] [REPLACE]; the deadline goes along. */
function copy(context: CommandContext, args: Buffer[]): RedisReply {
  let replace = false;
  let database = 0;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    if (option === 'REPLACE') {
      replace = true;
    } else if (option === 'DB' && i + 1 < args.length) {
      const index = parseInteger(arg(args, ++i));
      if (index === null) return NOT_INTEGER;
      if (index < -INT32_MAX - 1 || index > INT32_MAX) {
        return new RedisErrorReply(
          `ERR value is out of range, value must between ${-INT32_MAX - 1} and ${INT32_MAX}`,
        );
      }
      if (index < 0 || index >= DATABASES)
        return new RedisErrorReply('ERR DB index is out of range');
      database = index;
    } else {
      return SYNTAX_ERROR;
    }
  }
  const source = keyOf(arg(args, 1));
  const destination = keyOf(arg(args, 2));
  if (database === 0 && source === destination) {
    return new RedisErrorReply('ERR source and destination objects are the same');
  }
  const data = context.keyspace.value(source);
  if (data === undefined) return 0;
  const deadline = context.keyspace.expiresAt(source) ?? null;
  const target = context.database(database);
  if (target.has(destination)) {
    if (!replace) return 0;
    target.delete(destination);
  }
  target.set(destination, copyValue(data));
  if (deadline !== null) target.setExpiry(destination, deadline);
  return 1;
}

export const keyCommands: CommandTable = {
  copy: { arity: -3, write: true, run: copy },
  randomkey: {
    arity: 1,
    write: false,
    run: (context) => {
      const keys = context.keyspace.keys();
      const key = keys[Math.floor(Math.random() * keys.length)];
      return key === undefined ? null : bytesOf(key);
    },
  },
  del: { arity: -2, write: true, run: (context, args) => countKeys(context, args, true) },
  unlink: { arity: -2, write: true, run: (context, args) => countKeys(context, args, true) },
  exists: { arity: -2, write: false, run: (context, args) => countKeys(context, args, false) },
  type: {
    arity: 2,
    write: false,
    run: (context, args) =>
      new RedisStatusReply(context.keyspace.value(keyOf(arg(args, 1)))?.type ?? 'none'),
  },
  expire: { arity: -3, write: true, run: expireCommand('EX', 'expire') },
  pexpire: { arity: -3, write: true, run: expireCommand('PX', 'pexpire') },
  expireat: { arity: -3, write: true, run: expireCommand('EXAT', 'expireat') },
  pexpireat: { arity: -3, write: true, run: expireCommand('PXAT', 'pexpireat') },
  ttl: { arity: 2, write: false, run: ttlCommand(1000) },
  pttl: { arity: 2, write: false, run: ttlCommand(1) },
  expiretime: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const deadline = context.keyspace.expiresAt(keyOf(arg(args, 1)));
      return deadline === undefined ? -2 : deadline === null ? -1 : Math.floor(deadline / 1000);
    },
  },
  persist: {
    arity: 2,
    write: true,
    run: (context, args) => {
      const key = keyOf(arg(args, 1));
      if (context.keyspace.expiresAt(key) == null) return 0;
      context.keyspace.setExpiry(key, null);
      return 1;
    },
  },
  touch: { arity: -2, write: false, run: (context, args) => countKeys(context, args, false) },
  keys: {
    arity: 2,
    write: false,
    run: (context, args) => {
      const pattern = keyOf(arg(args, 1));
      return context.keyspace
        .keys()
        .filter((key) => globMatch(pattern, key))
        .map(bytesOf);
    },
  },
  scan: { arity: -2, write: false, run: scan },
  rename: { arity: 3, write: true, run: rename(false) },
  renamenx: { arity: 3, write: true, run: rename(true) },
};
