// The embedded Redis engine called directly: every command family, expiry on an injected clock,
// Redis 7's error texts, transactions and Lua scripts.
import { createHash } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { MemoryRedisBackend } from '../../local-stack/redis-memory/memory-backend.ts';
import {
  type PubSubEvent,
  RedisErrorReply,
  type RedisReply,
  RedisStatusReply,
} from '../../local-stack/redis-rest/backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

type Plain = null | number | string | { status: string } | { error: string } | Plain[];

/** Replies as plain values: bulk strings as UTF-8 text, status and error replies tagged. */
function plain(reply: RedisReply): Plain {
  if (reply === null || typeof reply === 'number') return reply;
  if (Buffer.isBuffer(reply)) return reply.toString();
  if (reply instanceof RedisStatusReply) return { status: reply.status };
  if (reply instanceof RedisErrorReply) return { error: reply.message };
  return reply.map(plain);
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

const WRONGTYPE = { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
const NOT_INTEGER = { error: 'ERR value is not an integer or out of range' };
const OK = { status: 'OK' };

let clock = 1_700_000_000_000;
let backend: MemoryRedisBackend;

function toArgs(args: (string | number | Buffer)[]): Buffer[] {
  return args.map((arg) => (Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg))));
}

async function raw(...args: (string | number | Buffer)[]): Promise<RedisReply> {
  return backend.call(toArgs(args));
}

async function run(...args: (string | number | Buffer)[]): Promise<Plain> {
  return plain(await raw(...args));
}

beforeEach(() => {
  clock = 1_700_000_000_000;
  backend = new MemoryRedisBackend({ now: () => clock });
});

afterEach(async () => {
  await backend.close();
});

describe('server commands', () => {
  it('answers PING, ECHO, TIME, DBSIZE and flushes', async () => {
    expect(await run('PING')).toEqual({ status: 'PONG' });
    expect(await run('ping', 'hi')).toBe('hi');
    expect(await run('ECHO', 'x y')).toBe('x y');
    clock = 1_700_000_000_123.5;
    expect(await run('TIME')).toEqual(['1700000000', '123500']);
    await run('SET', 'a', '1');
    await run('SET', 'b', '1');
    expect(await run('DBSIZE')).toBe(2);
    expect(await run('FLUSHDB')).toEqual(OK);
    expect(await run('DBSIZE')).toBe(0);
    await run('SET', 'a', '1');
    expect(await run('FLUSHALL', 'ASYNC')).toEqual(OK);
    expect(await run('FLUSHALL', 'LATER')).toEqual({ error: 'ERR syntax error' });
    expect(await run('DBSIZE')).toBe(0);
  });

  it('rejects unknown commands and wrong arity with Redis texts', async () => {
    expect(await run('foo', 'bar', 'baz')).toEqual({
      error: "ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ",
    });
    expect(await run('FOO')).toEqual({
      error: "ERR unknown command 'FOO', with args beginning with: ",
    });
    expect(await run('GET')).toEqual({ error: "ERR wrong number of arguments for 'get' command" });
    expect(await run('set', 'k')).toEqual({
      error: "ERR wrong number of arguments for 'set' command",
    });
    expect(await run('MSET', 'a', '1', 'b')).toEqual({
      error: "ERR wrong number of arguments for 'mset' command",
    });
    expect(await run('constructor')).toEqual({
      error: "ERR unknown command 'constructor', with args beginning with: ",
    });
  });
});

describe('strings', () => {
  it('SET with NX, XX, GET and KEEPTTL', async () => {
    expect(await run('SET', 'k', 'v1')).toEqual(OK);
    expect(await run('SET', 'k', 'v2', 'NX')).toBeNull();
    expect(await run('SET', 'missing', 'v', 'XX')).toBeNull();
    expect(await run('SET', 'k', 'v3', 'XX', 'GET')).toBe('v1');
    expect(await run('SET', 'k', 'v4', 'NX', 'GET')).toBe('v3');
    expect(await run('GET', 'k')).toBe('v3');
    expect(await run('SET', 'k', 'v', 'EX', '10')).toEqual(OK);
    expect(await run('SET', 'k', 'w', 'KEEPTTL')).toEqual(OK);
    expect(await run('TTL', 'k')).toBe(10);
    expect(await run('SET', 'k', 'x')).toEqual(OK);
    expect(await run('TTL', 'k')).toBe(-1);
    expect(await run('SET', 'k', 'v', 'NX', 'XX')).toEqual({ error: 'ERR syntax error' });
    expect(await run('SET', 'k', 'v', 'EX', '1', 'PX', '5')).toEqual({ error: 'ERR syntax error' });
    expect(await run('SET', 'k', 'v', 'EX')).toEqual({ error: 'ERR syntax error' });
    expect(await run('SET', 'k', 'v', 'EX', 'ten')).toEqual(NOT_INTEGER);
    expect(await run('SET', 'k', 'v', 'EX', '0')).toEqual({
      error: "ERR invalid expire time in 'set' command",
    });
  });

  it('SETNX, SETEX, PSETEX, GETDEL, GETEX, MGET, MSET, APPEND, STRLEN', async () => {
    expect(await run('SETNX', 'a', '1')).toBe(1);
    expect(await run('SETNX', 'a', '2')).toBe(0);
    expect(await run('SETEX', 'b', '5', 'x')).toEqual(OK);
    expect(await run('PTTL', 'b')).toBe(5000);
    expect(await run('PSETEX', 'c', '1500', 'y')).toEqual(OK);
    expect(await run('PTTL', 'c')).toBe(1500);
    expect(await run('SETEX', 'd', '-1', 'x')).toEqual({
      error: "ERR invalid expire time in 'setex' command",
    });
    expect(await run('GETEX', 'c', 'PERSIST')).toBe('y');
    expect(await run('TTL', 'c')).toBe(-1);
    expect(await run('GETEX', 'c', 'EX', '7')).toBe('y');
    expect(await run('TTL', 'c')).toBe(7);
    expect(await run('GETEX', 'c', 'PERSIST', 'EX', '1')).toEqual({ error: 'ERR syntax error' });
    expect(await run('GETDEL', 'c')).toBe('y');
    expect(await run('EXISTS', 'c')).toBe(0);
    expect(await run('MSET', 'm1', 'x', 'm2', 'y')).toEqual(OK);
    await run('LPUSH', 'list', 'z');
    expect(await run('MGET', 'm1', 'nope', 'm2', 'list')).toEqual(['x', null, 'y', null]);
    expect(await run('APPEND', 'm1', 'yz')).toBe(3);
    expect(await run('APPEND', 'new', 'abc')).toBe(3);
    expect(await run('STRLEN', 'm1')).toBe(3);
    expect(await run('STRLEN', 'nope')).toBe(0);
  });

  it('counts with INCR, DECR, INCRBY, DECRBY and INCRBYFLOAT', async () => {
    expect(await run('INCR', 'n')).toBe(1);
    expect(await run('INCRBY', 'n', '10')).toBe(11);
    expect(await run('DECR', 'n')).toBe(10);
    expect(await run('DECRBY', 'n', '-5')).toBe(15);
    expect(await run('INCRBY', 'n', '1.5')).toEqual(NOT_INTEGER);
    await run('SET', 's', 'hello');
    expect(await run('INCR', 's')).toEqual(NOT_INTEGER);
    await run('SET', 'big', '9223372036854775807');
    expect(await run('INCR', 'big')).toEqual({
      error: 'ERR increment or decrement would overflow',
    });
    await run('SET', 'padded', ' 1');
    expect(await run('INCR', 'padded')).toEqual(NOT_INTEGER);
    expect(await run('INCRBYFLOAT', 'f', '0.1')).toBe('0.1');
    expect(await run('INCRBYFLOAT', 'f', '0.2')).toBe('0.3');
    expect(await run('INCRBYFLOAT', 'f', '-0.3')).toBe('0');
    expect(await run('INCRBYFLOAT', 'f', '1e2')).toBe('100');
    expect(await run('INCRBYFLOAT', 'f', 'abc')).toEqual({
      error: 'ERR value is not a valid float',
    });
    expect(await run('INCRBYFLOAT', 'f', 'inf')).toEqual({
      error: 'ERR increment would produce NaN or Infinity',
    });
    await run('SET', 'ttl', '1', 'EX', '100');
    await run('INCR', 'ttl');
    expect(await run('TTL', 'ttl')).toBe(100);
  });
});

describe('keys and expiry', () => {
  it('DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX, KEYS', async () => {
    await run('SET', 's', '1');
    await run('HSET', 'h', 'f', 'v');
    await run('SADD', 'set', 'm');
    await run('ZADD', 'z', '1', 'm');
    await run('RPUSH', 'l', 'x');
    expect(await run('TYPE', 's')).toEqual({ status: 'string' });
    expect(await run('TYPE', 'h')).toEqual({ status: 'hash' });
    expect(await run('TYPE', 'set')).toEqual({ status: 'set' });
    expect(await run('TYPE', 'z')).toEqual({ status: 'zset' });
    expect(await run('TYPE', 'l')).toEqual({ status: 'list' });
    expect(await run('TYPE', 'none')).toEqual({ status: 'none' });
    expect(await run('EXISTS', 's', 's', 'none')).toBe(2);
    expect(((await run('KEYS', '*')) as string[]).sort()).toEqual(['h', 'l', 's', 'set', 'z']);
    expect(((await run('KEYS', 's*')) as string[]).sort()).toEqual(['s', 'set']);
    expect(await run('KEYS', '[hl]')).toEqual(expect.arrayContaining(['h', 'l']));
    expect(await run('KEYS', 's?t')).toEqual(['set']);
    expect(await run('RENAME', 'nope', 'x')).toEqual({ error: 'ERR no such key' });
    await run('EXPIRE', 's', '50');
    expect(await run('RENAME', 's', 's2')).toEqual(OK);
    expect(await run('TTL', 's2')).toBe(50);
    expect(await run('RENAMENX', 's2', 'h')).toBe(0);
    expect(await run('RENAMENX', 's2', 's3')).toBe(1);
    expect(await run('DEL', 's3', 'h', 'none')).toBe(2);
    expect(await run('UNLINK', 'set')).toBe(1);
    expect(await run('DBSIZE')).toBe(2);
  });

  it('expires lazily on the injected clock and reports TTL / PTTL', async () => {
    await run('SET', 'k', 'v', 'PX', '1500');
    expect(await run('PTTL', 'k')).toBe(1500);
    expect(await run('TTL', 'k')).toBe(2);
    clock += 1499;
    expect(await run('GET', 'k')).toBe('v');
    clock += 1;
    expect(await run('GET', 'k')).toBeNull();
    expect(await run('TTL', 'k')).toBe(-2);
    await run('SET', 'k', 'v');
    expect(await run('EXPIRE', 'k', '10')).toBe(1);
    expect(await run('PERSIST', 'k')).toBe(1);
    expect(await run('PERSIST', 'k')).toBe(0);
    expect(await run('PEXPIREAT', 'k', clock + 300)).toBe(1);
    expect(await run('PTTL', 'k')).toBe(300);
    expect(await run('EXPIREAT', 'k', Math.floor(clock / 1000) + 20)).toBe(1);
    expect(await run('EXPIRETIME', 'k')).toBe(Math.floor(clock / 1000) + 20);
    expect(await run('EXPIRE', 'missing', '10')).toBe(0);
    expect(await run('EXPIRE', 'k', '-1')).toBe(1);
    expect(await run('EXISTS', 'k')).toBe(0);
    expect(await run('EXPIRE', 'k', 'soon')).toEqual(NOT_INTEGER);
  });

  it('EXPIRE NX, XX, GT and LT', async () => {
    await run('SET', 'k', 'v');
    expect(await run('EXPIRE', 'k', '100', 'XX')).toBe(0);
    expect(await run('EXPIRE', 'k', '100', 'GT')).toBe(0);
    expect(await run('EXPIRE', 'k', '100', 'NX')).toBe(1);
    expect(await run('EXPIRE', 'k', '200', 'NX')).toBe(0);
    expect(await run('EXPIRE', 'k', '50', 'GT')).toBe(0);
    expect(await run('EXPIRE', 'k', '150', 'GT')).toBe(1);
    expect(await run('EXPIRE', 'k', '160', 'LT')).toBe(0);
    expect(await run('EXPIRE', 'k', '20', 'LT', 'XX')).toBe(1);
    expect(await run('TTL', 'k')).toBe(20);
    expect(await run('EXPIRE', 'k', '20', 'NX', 'GT')).toEqual({
      error: 'ERR NX and XX, GT or LT options at the same time are not compatible',
    });
    expect(await run('EXPIRE', 'k', '20', 'GT', 'LT')).toEqual({
      error: 'ERR GT and LT options at the same time are not compatible',
    });
    expect(await run('EXPIRE', 'k', '20', 'SOON')).toEqual({
      error: 'ERR Unsupported option SOON',
    });
  });

  it('SCAN visits every key once even when keys are deleted between calls', async () => {
    for (let i = 0; i < 35; i++) await run('SET', `user:${i}`, 'v');
    await run('HSET', 'user:hash', 'f', 'v');
    await run('SET', 'other', 'v');
    const seen: string[] = [];
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = (await run('SCAN', cursor, 'MATCH', 'user:*', 'COUNT', '5')) as [
        string,
        string[],
      ];
      seen.push(...keys);
      for (const key of keys) await run('DEL', key);
      cursor = next;
      rounds++;
    } while (cursor !== '0');
    expect(rounds).toBeGreaterThan(1);
    expect(seen.sort()).toEqual(
      [...Array.from({ length: 35 }, (_, i) => `user:${i}`), 'user:hash'].sort(),
    );
    expect(await run('KEYS', '*')).toEqual(['other']);
    await run('HSET', 'h', 'f', 'v');
    expect(await run('SCAN', '0', 'TYPE', 'hash', 'COUNT', '100')).toEqual(['0', ['h']]);
    expect(await run('SCAN', 'abc')).toEqual({ error: 'ERR invalid cursor' });
    expect(await run('SCAN', '0', 'COUNT', '0')).toEqual({ error: 'ERR syntax error' });
  });
});

describe('collection scans', () => {
  it('returns a small collection whole and pages through a large one', async () => {
    await run('HSET', 'small', 'b', '1', 'a', '2');
    expect(await run('HSCAN', 'small', '0', 'COUNT', '1')).toEqual(['0', ['b', '1', 'a', '2']]);
    await run('ZADD', 'z', '2', 'x', '1', 'y');
    expect(await run('ZSCAN', 'z', '0')).toEqual(['0', ['y', '1', 'x', '2']]);
    const members = Array.from({ length: 300 }, (_, i) => `m${i}`);
    await run('SADD', 'big', ...members);
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = (await run('SSCAN', 'big', cursor, 'COUNT', '40')) as [string, string[]];
      expect(page.length).toBeLessThan(300);
      seen.push(...page);
      await run('SREM', 'big', ...page.slice(0, 5));
      cursor = next;
    } while (cursor !== '0');
    expect(seen.sort()).toEqual(members.sort());
  });
});

describe('hashes', () => {
  it('stores, reads and counts fields', async () => {
    expect(await run('HSET', 'h', 'a', '1', 'b', '2')).toBe(2);
    expect(await run('HSET', 'h', 'a', '3', 'c', '4')).toBe(1);
    expect(await run('HSET', 'h', 'a')).toEqual({
      error: "ERR wrong number of arguments for 'hset' command",
    });
    expect(await run('HSETNX', 'h', 'a', 'x')).toBe(0);
    expect(await run('HSETNX', 'h', 'd', 'x')).toBe(1);
    expect(await run('HGET', 'h', 'a')).toBe('3');
    expect(await run('HGET', 'h', 'zz')).toBeNull();
    expect(await run('HMGET', 'h', 'a', 'zz', 'c')).toEqual(['3', null, '4']);
    expect(await run('HGETALL', 'h')).toEqual(['a', '3', 'b', '2', 'c', '4', 'd', 'x']);
    expect(await run('HKEYS', 'h')).toEqual(['a', 'b', 'c', 'd']);
    expect(await run('HVALS', 'h')).toEqual(['3', '2', '4', 'x']);
    expect(await run('HLEN', 'h')).toBe(4);
    expect(await run('HEXISTS', 'h', 'b')).toBe(1);
    expect(await run('HDEL', 'h', 'b', 'zz')).toBe(1);
    expect(await run('HINCRBY', 'h', 'a', '7')).toBe(10);
    expect(await run('HINCRBY', 'h', 'd', '1')).toEqual({
      error: 'ERR hash value is not an integer',
    });
    expect(await run('HINCRBYFLOAT', 'h', 'f', '2.5')).toBe('2.5');
    expect(await run('HINCRBYFLOAT', 'h', 'd', '1')).toEqual({
      error: 'ERR hash value is not a float',
    });
    expect(await run('HGETALL', 'missing')).toEqual([]);
    expect(await run('HDEL', 'h', 'a', 'c', 'd', 'f')).toBe(4);
    expect(await run('EXISTS', 'h')).toBe(0);
  });

  it('leaves no empty hash behind a failed HINCRBY', async () => {
    expect(await run('HINCRBY', 'h', 'f', 'x')).toEqual(NOT_INTEGER);
    expect(await run('EXISTS', 'h')).toBe(0);
  });
});

describe('sets', () => {
  it('adds, removes and tests members, and combines sets', async () => {
    expect(await run('SADD', 's', 'a', 'b', 'a')).toBe(2);
    expect(await run('SADD', 's', 'c')).toBe(1);
    expect(await run('SREM', 's', 'c', 'zz')).toBe(1);
    expect(((await run('SMEMBERS', 's')) as string[]).sort()).toEqual(['a', 'b']);
    expect(await run('SISMEMBER', 's', 'a')).toBe(1);
    expect(await run('SMISMEMBER', 's', 'a', 'zz', 'b')).toEqual([1, 0, 1]);
    expect(await run('SCARD', 's')).toBe(2);
    expect(await run('SCARD', 'none')).toBe(0);
    await run('SADD', 't', 'b', 'c');
    expect(await run('SDIFFSTORE', 'd', 's', 't')).toBe(1);
    expect(await run('SMEMBERS', 'd')).toEqual(['a']);
    expect(await run('SUNIONSTORE', 'u', 's', 't')).toBe(3);
    expect(await run('SINTER', 's', 't')).toEqual(['b']);
    expect(await run('SDIFFSTORE', 'd', 'none', 't')).toBe(0);
    expect(await run('EXISTS', 'd')).toBe(0);
    expect(await run('SREM', 's', 'a', 'b')).toBe(2);
    expect(await run('EXISTS', 's')).toBe(0);
  });
});

describe('sorted sets', () => {
  it('ZADD with NX, XX, GT, LT, CH and INCR', async () => {
    expect(await run('ZADD', 'z', '1', 'a', '2', 'b')).toBe(2);
    expect(await run('ZADD', 'z', 'NX', '5', 'a', '3', 'c')).toBe(1);
    expect(await run('ZSCORE', 'z', 'a')).toBe('1');
    expect(await run('ZADD', 'z', 'XX', 'CH', '5', 'a', '9', 'new')).toBe(1);
    expect(await run('ZSCORE', 'z', 'new')).toBeNull();
    expect(await run('ZADD', 'z', 'GT', 'CH', '4', 'a', '6', 'b')).toBe(1);
    expect(await run('ZADD', 'z', 'LT', 'CH', '1', 'a', '7', 'b')).toBe(1);
    expect(await run('ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toEqual([
      'a',
      '1',
      'c',
      '3',
      'b',
      '6',
    ]);
    expect(await run('ZADD', 'z', 'INCR', '2.5', 'a')).toBe('3.5');
    expect(await run('ZADD', 'z', 'NX', 'INCR', '1', 'a')).toBeNull();
    expect(await run('ZINCRBY', 'z', '0.1', 'c')).toBe('3.1000000000000001');
    expect(await run('ZADD', 'z', 'NX', 'XX', '1', 'a')).toEqual({
      error: 'ERR XX and NX options at the same time are not compatible',
    });
    expect(await run('ZADD', 'z', 'GT', 'LT', '1', 'a')).toEqual({
      error: 'ERR GT, LT, and/or NX options at the same time are not compatible',
    });
    expect(await run('ZADD', 'z', 'INCR', '1', 'a', '2', 'b')).toEqual({
      error: 'ERR INCR option supports a single increment-element pair',
    });
    expect(await run('ZADD', 'z', 'one', 'a')).toEqual({ error: 'ERR value is not a valid float' });
    expect(await run('ZADD', 'z', '1', 'a', '2')).toEqual({ error: 'ERR syntax error' });
    expect(await run('ZADD', 'none', 'XX', '1', 'a')).toBe(0);
    expect(await run('EXISTS', 'none')).toBe(0);
  });

  it('ranges by rank, score and lex, forwards and reversed', async () => {
    await run('ZADD', 'z', '1', 'a', '2', 'b', '2', 'c', '3', 'd', '+inf', 'e');
    expect(await run('ZCARD', 'z')).toBe(5);
    expect(await run('ZRANGE', 'z', '1', '2')).toEqual(['b', 'c']);
    expect(await run('ZRANGE', 'z', '-2', '-1', 'WITHSCORES')).toEqual(['d', '3', 'e', 'inf']);
    expect(await run('ZRANGE', 'z', '0', '1', 'REV')).toEqual(['e', 'd']);
    expect(await run('ZREVRANGE', 'z', '0', '0', 'WITHSCORES')).toEqual(['e', 'inf']);
    expect(await run('ZRANGE', 'z', '(1', '3', 'BYSCORE')).toEqual(['b', 'c', 'd']);
    expect(await run('ZRANGE', 'z', '+inf', '2', 'BYSCORE', 'REV', 'LIMIT', '1', '2')).toEqual([
      'd',
      'c',
    ]);
    expect(await run('ZRANGEBYSCORE', 'z', '-inf', '(2', 'WITHSCORES')).toEqual(['a', '1']);
    expect(await run('ZRANGEBYSCORE', 'z', '2', '3', 'LIMIT', '1', '-1')).toEqual(['c', 'd']);
    expect(await run('ZREVRANGEBYSCORE', 'z', '3', '2')).toEqual(['d', 'c', 'b']);
    expect(await run('ZCOUNT', 'z', '2', '+inf')).toBe(4);
    expect(await run('ZCOUNT', 'z', 'x', '2')).toEqual({ error: 'ERR min or max is not a float' });
    await run('ZADD', 'lex', '0', 'apple', '0', 'banana', '0', 'cherry');
    expect(await run('ZRANGE', 'lex', '[b', '+', 'BYLEX')).toEqual(['banana', 'cherry']);
    expect(await run('ZRANGE', 'lex', '(banana', '-', 'BYLEX', 'REV')).toEqual(['apple']);
    expect(await run('ZRANGEBYLEX', 'lex', '-', '(c')).toEqual(['apple', 'banana']);
    expect(await run('ZRANGE', 'lex', 'b', '+', 'BYLEX')).toEqual({
      error: 'ERR min or max not valid string range item',
    });
    expect(await run('ZRANGE', 'z', '0', '1', 'LIMIT', '0', '1')).toEqual({
      error:
        'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
    });
    expect(await run('ZRANK', 'z', 'c')).toBe(2);
    expect(await run('ZREVRANK', 'z', 'c')).toBe(2);
    expect(await run('ZRANK', 'z', 'zz')).toBeNull();
    expect(await run('ZREMRANGEBYSCORE', 'z', '2', '2')).toBe(2);
    expect(await run('ZREMRANGEBYRANK', 'z', '0', '0')).toBe(1);
    expect(await run('ZRANGE', 'z', '0', '-1')).toEqual(['d', 'e']);
    expect(await run('ZREM', 'z', 'd', 'e', 'zz')).toBe(2);
    expect(await run('EXISTS', 'z')).toBe(0);
  });

  it('prints scores like Redis 7.0 (%.17g)', async () => {
    await run('ZADD', 'z', '0.1', 'a', '1e20', 'b', '-0.5', 'c', '123456789', 'd');
    expect(await run('ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toEqual([
      'c',
      '-0.5',
      'a',
      '0.10000000000000001',
      'd',
      '123456789',
      'b',
      '1e+20',
    ]);
  });
});

describe('lists', () => {
  it('pushes, pops, ranges and trims', async () => {
    expect(await run('RPUSH', 'l', 'a', 'b', 'c')).toBe(3);
    expect(await run('LPUSH', 'l', 'z', 'y')).toBe(5);
    expect(await run('LRANGE', 'l', '0', '-1')).toEqual(['y', 'z', 'a', 'b', 'c']);
    expect(await run('LLEN', 'l')).toBe(5);
    expect(await run('LINDEX', 'l', '-1')).toBe('c');
    expect(await run('LINDEX', 'l', '10')).toBeNull();
    expect(await run('LPOP', 'l')).toBe('y');
    expect(await run('RPOP', 'l', '2')).toEqual(['c', 'b']);
    expect(await run('LPOP', 'l', '0')).toEqual([]);
    expect(await run('LPOP', 'l', '-1')).toEqual({
      error: 'ERR value is out of range, must be positive',
    });
    expect(await run('LPOP', 'none', '2')).toBeNull();
    expect(await run('RPUSH', 'l', 'd', 'e', 'f')).toBe(5);
    expect(await run('LTRIM', 'l', '1', '-2')).toEqual(OK);
    expect(await run('LRANGE', 'l', '0', '-1')).toEqual(['a', 'd', 'e']);
    expect(await run('LRANGE', 'l', '5', '10')).toEqual([]);
    expect(await run('LTRIM', 'l', '5', '10')).toEqual(OK);
    expect(await run('EXISTS', 'l')).toBe(0);
    await run('RPUSH', 'l', 'only');
    expect(await run('RPOP', 'l')).toBe('only');
    expect(await run('EXISTS', 'l')).toBe(0);
  });
});

describe('blocking pops', () => {
  it('waits for a push, serving waiters in arrival order', async () => {
    const first = raw('BLPOP', 'q', '0');
    const second = raw('BRPOP', 'other', 'q', '0');
    expect(await run('RPUSH', 'q', 'a')).toBe(1);
    expect(plain(await first)).toEqual(['q', 'a']);
    expect(await run('EXISTS', 'q')).toBe(0);
    await backend.transaction([toArgs(['RPUSH', 'q', 'b', 'c'])]);
    expect(plain(await second)).toEqual(['q', 'c']);
    expect(await run('LRANGE', 'q', '0', '-1')).toEqual(['b']);
  });

  it('times out with a null reply, and never blocks inside a transaction', async () => {
    expect(await run('BLPOP', 'empty', '0.05')).toBeNull();
    const replies = await backend.transaction([toArgs(['BLPOP', 'empty', '0'])]);
    expect(replies).toEqual([null]);
    expect(await run('BLPOP', 'empty', '-1')).toEqual({ error: 'ERR timeout is negative' });
  });

  it('releases waiters on close', async () => {
    const pending = raw('BLPOP', 'q', '0');
    await backend.close();
    expect(await pending).toBeNull();
  });
});

describe('WRONGTYPE', () => {
  it('refuses every family on a key of another type', async () => {
    await run('SET', 's', 'v');
    await run('LPUSH', 'l', 'v');
    for (const command of [
      ['LPUSH', 's', 'x'],
      ['HGET', 's', 'f'],
      ['HSET', 's', 'f', 'v'],
      ['SADD', 's', 'm'],
      ['SMISMEMBER', 's', 'm'],
      ['ZADD', 's', '1', 'm'],
      ['ZRANGE', 's', '0', '-1'],
      ['LRANGE', 's', '0', '-1'],
      ['GET', 'l'],
      ['INCR', 'l'],
      ['APPEND', 'l', 'x'],
      ['SET', 'l', 'v', 'GET'],
    ]) {
      expect(await run(...command)).toEqual(WRONGTYPE);
    }
    expect(await run('TYPE', 'l')).toEqual({ status: 'list' });
  });
});

describe('transactions', () => {
  it('runs all commands and keeps run-time errors per command', async () => {
    const replies = await backend.transaction([
      toArgs(['SET', 'k', 'v']),
      toArgs(['INCR', 'k']),
      toArgs(['APPEND', 'k', '2']),
      toArgs(['GET', 'k']),
    ]);
    expect(Array.isArray(replies) && replies.map(plain)).toEqual([OK, NOT_INTEGER, 2, 'v2']);
  });

  it('aborts everything on queue-time errors', async () => {
    for (const bad of [toArgs(['NOPE', 'x']), toArgs(['GET'])]) {
      const reply = await backend.transaction([toArgs(['SET', 'k', 'v']), bad]);
      expect(plain(reply as RedisReply)).toEqual({
        error: 'EXECABORT Transaction discarded because of previous errors.',
      });
    }
    expect(await run('EXISTS', 'k')).toBe(0);
  });
});

describe('Lua scripts', () => {
  it('converts Lua values to Redis replies', async () => {
    expect(await run('EVAL', 'return 3.99', '0')).toBe(3);
    expect(await run('EVAL', 'return -3.7', '0')).toBe(-3);
    expect(await run('EVAL', "return 'text'", '0')).toBe('text');
    expect(await run('EVAL', 'return {1, 2, nil, 4}', '0')).toEqual([1, 2]);
    expect(await run('EVAL', "return {1, {2, 'x'}, {}}", '0')).toEqual([1, [2, 'x'], []]);
    expect(await run('EVAL', 'return true', '0')).toBe(1);
    expect(await run('EVAL', 'return false', '0')).toBeNull();
    expect(await run('EVAL', 'return nil', '0')).toBeNull();
    expect(await run('EVAL', "return {ok='FINE'}", '0')).toEqual({ status: 'FINE' });
    expect(await run('EVAL', "return redis.status_reply('FINE')", '0')).toEqual({ status: 'FINE' });
    expect(await run('EVAL', "return {err='MY error'}", '0')).toEqual({ error: 'MY error' });
    expect(await run('EVAL', "return redis.error_reply('bad')", '0')).toEqual({ error: 'ERR bad' });
    expect(await run('EVAL', "return redis.error_reply('MY bad')", '0')).toEqual({
      error: 'MY bad',
    });
    expect(await run('EVAL', 'return {ok=1}', '0')).toEqual([]);
    expect(await run('EVAL', 'return 0/0', '0')).toBe(-(2 ** 63));
  });

  it('converts Redis replies to Lua values', async () => {
    await run('SET', 'n', '5');
    await run('RPUSH', 'l', 'a', 'b');
    const script = `
      local n = redis.call('INCR', KEYS[1])
      local missing = redis.call('GET', 'nope')
      local status = redis.call('SET', 'x', 'y')
      local list = redis.call('LRANGE', KEYS[2], 0, -1)
      return {type(n), n + 0.5, tostring(missing), status.ok, #list, list[2], tostring(n / 2)}
    `;
    expect(await run('EVAL', script, '2', 'n', 'l')).toEqual([
      'number',
      6,
      'false',
      'OK',
      2,
      'b',
      '3',
    ]);
    expect(await run('EVAL', 'return #KEYS .. #ARGV .. ARGV[2]', '2', 'a', 'b', 'c', 'd')).toBe(
      '22d',
    );
    expect(
      await run(
        'EVAL',
        "redis.call('SET', KEYS[1], 0.1) return redis.call('GET', KEYS[1])",
        '1',
        'f',
      ),
    ).toBe('0.10000000000000001');
    const arity = "return redis.call('GET', 'x', 'y')";
    expect(await run('EVAL', arity, '0')).toEqual({
      error: `ERR Wrong number of args calling Redis command from script script: ${sha1(arity)}, on @user_script:1.`,
    });
  });

  it('raises errors from redis.call and returns them from redis.pcall', async () => {
    await run('SET', 's', 'text');
    const callSha = '61636018f4e6b5817b89791bbed242f93fa089e3';
    expect(await run('EVAL', "return redis.call('INCR', KEYS[1])", '1', 's')).toEqual({
      error: `ERR value is not an integer or out of range script: ${callSha}, on @user_script:1.`,
    });
    expect(await run('EVAL', "return redis.pcall('INCR', KEYS[1])", '1', 's')).toEqual(NOT_INTEGER);
    expect(
      await run('EVAL', "local r = redis.pcall('nope') return type(r) .. ':' .. r.err", '0'),
    ).toBe('table:ERR Unknown Redis command called from script');
    expect(await run('EVAL', "return redis.call('nope')", '0')).toEqual({
      error:
        'ERR Unknown Redis command called from script script: f01f0776df71cc5b400c2268135aa7f30dce2e53, on @user_script:1.',
    });
    expect(await run('EVAL', "\n\nerror('boom')", '0')).toMatchObject({
      error: expect.stringMatching(
        /^ERR user_script:3: boom script: [0-9a-f]{40}, on @user_script:3\.$/,
      ),
    });
    expect(await run('EVAL', "error({err='CUSTOM x'})", '0')).toMatchObject({
      error: expect.stringMatching(/^CUSTOM x script: [0-9a-f]{40}, on @user_script:1\.$/),
    });
    expect(await run('EVAL', "return redis.call('SET', 'k', true)", '0')).toMatchObject({
      error: expect.stringContaining(
        'ERR Lua redis lib command arguments must be strings or integers',
      ),
    });
    expect(await run('EVAL', "return redis.call('EVAL', 'return 1', '0')", '0')).toMatchObject({
      error: expect.stringContaining('ERR This Redis command is not allowed from script'),
    });
    expect(await run('EVAL', 'return 1 +', '0')).toMatchObject({
      error: expect.stringMatching(/^ERR Error compiling script \(new function\): user_script:1: /),
    });
  });

  it('protects globals like Redis 7', async () => {
    expect(await run('EVAL', 'x = 5', '0')).toMatchObject({
      error: expect.stringMatching(
        /^ERR user_script:1: Attempt to modify a readonly table script:/,
      ),
    });
    expect(await run('EVAL', 'return y', '0')).toMatchObject({
      error: expect.stringMatching(
        /^ERR user_script:1: Script attempted to access nonexistent global variable 'y' script:/,
      ),
    });
    expect(await run('EVAL', 'return unpack({7, 8})', '0')).toBe(7);
    expect(await run('EVAL', "return redis.sha1hex('')", '0')).toBe(
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    );
  });

  it('answers NOSCRIPT, then caches on EVAL and SCRIPT LOAD', async () => {
    const body = "return 'cached'";
    const loaded = sha1(body);
    expect(await run('EVALSHA', loaded, '0')).toEqual({
      error: 'NOSCRIPT No matching script. Please use EVAL.',
    });
    expect(await run('SCRIPT', 'LOAD', body)).toBe(loaded);
    expect(await run('SCRIPT', 'EXISTS', loaded, sha1('other'))).toEqual([1, 0]);
    expect(await run('EVALSHA', loaded.toUpperCase(), '0')).toBe('cached');
    expect(await run('SCRIPT', 'FLUSH')).toEqual(OK);
    expect(await run('EVALSHA', loaded, '0')).toEqual({
      error: 'NOSCRIPT No matching script. Please use EVAL.',
    });
    expect(await run('EVAL', body, '0')).toBe('cached');
    expect(await run('EVALSHA_RO', loaded, '0')).toBe('cached');
    expect(await run('SCRIPT', 'KILL')).toEqual({
      error: "ERR unknown subcommand 'KILL'. Try SCRIPT HELP.",
    });
    expect(await run('EVAL', 'return 1', '-1')).toEqual({
      error: "ERR Number of keys can't be negative",
    });
    expect(await run('EVAL', 'return 1', '2', 'a')).toEqual({
      error: "ERR Number of keys can't be greater than number of args",
    });
  });

  it('reads shebang flags and keeps line numbers', async () => {
    expect(await run('EVAL', '#!lua flags=allow-key-locking\nreturn 1', '0')).toBe(1);
    expect(await run('EVAL', '#!lua\nerror("x")', '0')).toMatchObject({
      error: expect.stringMatching(
        /^ERR user_script:2: x script: [0-9a-f]{40}, on @user_script:2\.$/,
      ),
    });
    expect(
      await run('EVAL', "#!lua flags=no-writes\nreturn redis.call('SET', 'k', 'v')", '0'),
    ).toMatchObject({
      error: expect.stringContaining('ERR Write commands are not allowed from read-only scripts.'),
    });
    expect(
      await run('EVAL', "#!lua flags=no-writes\nreturn redis.call('GET', 'k')", '0'),
    ).toBeNull();
    expect(await run('EVAL', '#!lua flags=bogus\nreturn 1', '0')).toEqual({
      error: 'ERR Unexpected flag in script shebang: bogus',
    });
    expect(await run('EVAL', '#!js\nreturn 1', '0')).toEqual({
      error: 'ERR Unexpected engine in script shebang: #!js',
    });
    expect(await run('EVAL_RO', "return redis.call('SET', 'k', 'v')", '0')).toMatchObject({
      error: expect.stringContaining('ERR Write commands are not allowed from read-only scripts.'),
    });
    expect(await run('EXISTS', 'k')).toBe(0);
  });

  it('offers cjson and bit as Redis does', async () => {
    expect(await run('EVAL', "return cjson.encode({1, 'a/b', {x = true}})", '0')).toBe(
      '[1,"a\\/b",{"x":true}]',
    );
    expect(await run('EVAL', 'return cjson.decode(ARGV[1]).list[2]', '0', '{"list":[5,6]}')).toBe(
      6,
    );
    expect(await run('EVAL', 'return {bit.band(12, 10), bit.tohex(255, 4)}', '0')).toEqual([
      8,
      '00ff',
    ]);
    expect(await run('EVAL', 'string.custom = 1', '0')).toMatchObject({
      error: expect.stringContaining('ERR user_script:1: Attempt to modify a readonly table'),
    });
  });

  it('stops a runaway script after the time limit and keeps serving', async () => {
    const impatient = new MemoryRedisBackend({ scriptTimeLimitMs: 50 });
    try {
      const reply = await impatient.call(
        toArgs(['EVAL', 'local i = 0\nwhile true do i = i + 1 end', '0']),
      );
      expect(plain(reply)).toMatchObject({
        error: expect.stringMatching(
          /^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:2\.$/,
        ),
      });
      expect(plain(await impatient.call(toArgs(['EVAL', 'return 1', '0'])))).toBe(1);
    } finally {
      await impatient.close();
    }
  });

  it('keeps binary strings intact through Lua', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const script =
      "redis.call('SET', KEYS[1], ARGV[1]) return {redis.call('GET', KEYS[1]), #ARGV[1]}";
    const reply = await raw('EVAL', script, '1', bytes, bytes);
    expect(reply).toEqual([bytes, 256]);
    expect(await raw('GET', bytes)).toEqual(bytes);
    expect(await raw('EVAL', 'return ARGV[1]', '0', Buffer.from([0xff, 0x00, 0xc3]))).toEqual(
      Buffer.from([0xff, 0x00, 0xc3]),
    );
  });
});

describe('binary safety', () => {
  it('keeps keys, fields and members as bytes', async () => {
    const key = Buffer.from([0x00, 0xff, 0x80, 0x0a]);
    const value = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]);
    await raw('SET', key, value);
    expect(await raw('GET', key)).toEqual(value);
    expect(await raw('KEYS', '*')).toEqual([key]);
    await raw('HSET', 'h', key, value);
    expect(await raw('HGETALL', 'h')).toEqual([key, value]);
    await raw('ZADD', 'z', '1', value);
    expect(await raw('ZRANGE', 'z', '0', '-1')).toEqual([value]);
    await raw('SADD', 's', value);
    expect(await raw('SISMEMBER', 's', value)).toBe(1);
    await raw('RPUSH', 'l', value);
    expect(await raw('LPOP', 'l')).toEqual(value);
  });
});

describe('blocking stream reads', () => {
  it('XREAD BLOCK waits for XADD past the IDs of the moment it blocked', async () => {
    await run('XADD', 's', '1-1', 'f', 'old');
    const waiting = raw('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    await run('XADD', 'other', '1-1', 'f', 'v');
    await run('XADD', 's', '2-1', 'f', 'new');
    expect(plain(await waiting)).toEqual([['s', [['2-1', ['f', 'new']]]]]);
  });

  it('XREADGROUP BLOCK delivers new entries to the waiting consumer and records them', async () => {
    await run('XGROUP', 'CREATE', 'jobs', 'workers', '$', 'MKSTREAM');
    const waiting = raw(
      'XREADGROUP',
      'GROUP',
      'workers',
      'w1',
      'BLOCK',
      '0',
      'STREAMS',
      'jobs',
      '>',
    );
    await run('XADD', 'jobs', '5-0', 'task', 'a');
    expect(plain(await waiting)).toEqual([['jobs', [['5-0', ['task', 'a']]]]]);
    expect(await run('XPENDING', 'jobs', 'workers')).toEqual([1, '5-0', '5-0', [['w1', '1']]]);
  });

  it('lets a group reader go when its group or stream goes away, as Redis 7.0 does', async () => {
    await run('XGROUP', 'CREATE', 'q', 'g', '$', 'MKSTREAM');
    const first = raw('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'q', '>');
    await run('XGROUP', 'DESTROY', 'q', 'g');
    expect(await first).toEqual(
      new RedisErrorReply('NOGROUP the consumer group this client was blocked on no longer exists'),
    );
    await run('XGROUP', 'CREATE', 'q', 'g', '$');
    const second = raw('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'q', '>');
    const plainRead = raw('XREAD', 'BLOCK', '0', 'STREAMS', 'q', '$');
    await run('DEL', 'q');
    expect(await second).toEqual(new RedisErrorReply('UNBLOCKED the stream key no longer exists'));
    await run('XADD', 'q', '7-0', 'f', 'v');
    expect(plain(await plainRead)).toEqual([['q', [['7-0', ['f', 'v']]]]]);
  });

  it('keeps waiting when BLOCK is past what a timer holds', async () => {
    const waiting = raw('XREAD', 'BLOCK', '3000000000', 'STREAMS', 'later', '$');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await run('XADD', 'later', '1-1', 'f', 'v');
    expect(plain(await waiting)).toEqual([['later', [['1-1', ['f', 'v']]]]]);
  });

  it('times out with a null reply, and answers at once inside a transaction', async () => {
    expect(await run('XREAD', 'BLOCK', '20', 'STREAMS', 'quiet', '$')).toBeNull();
    const replies = await backend.transaction([
      toArgs(['XREAD', 'BLOCK', '0', 'STREAMS', 'quiet', '0']),
    ]);
    expect(replies).toEqual([null]);
    const serving = raw('XREAD', 'BLOCK', '0', 'STREAMS', 'quiet', '$');
    await backend.close();
    expect(await serving).toBeNull();
  });
});

describe('publish and subscribe', () => {
  it('counts one delivery per matching channel and pattern subscription', async () => {
    const seen: PubSubEvent[] = [];
    const listener = { event: (event: PubSubEvent) => seen.push(event), ended: () => {} };
    const channels = await backend.subscribe(
      'channels',
      [Buffer.from('news'), Buffer.from('sport')],
      listener,
    );
    const patterns = await backend.subscribe(
      'patterns',
      [Buffer.from('n*'), Buffer.from('*s')],
      listener,
    );
    expect(await run('PUBLISH', 'news', 'hello')).toBe(3);
    expect(await run('PUBLISH', 'weather', 'rain')).toBe(0);
    expect(
      seen.map((event) =>
        event.kind === 'message'
          ? ['message', event.channel.toString(), event.payload.toString()]
          : event.kind === 'pmessage'
            ? ['pmessage', event.pattern.toString(), event.channel.toString()]
            : [event.kind, event.name.toString(), event.count],
      ),
    ).toEqual([
      ['subscribe', 'news', 1],
      ['subscribe', 'sport', 2],
      ['psubscribe', 'n*', 1],
      ['psubscribe', '*s', 2],
      ['message', 'news', 'hello'],
      ['pmessage', 'n*', 'news'],
      ['pmessage', '*s', 'news'],
    ]);
    if (!(channels instanceof RedisErrorReply)) channels.close();
    expect(await run('PUBLISH', 'news', 'again')).toBe(2);
    let ended = false;
    await backend.subscribe('channels', [Buffer.from('x')], {
      event: () => {},
      ended: () => {
        ended = true;
      },
    });
    if (!(patterns instanceof RedisErrorReply)) patterns.close();
    await backend.close();
    expect(ended).toBe(true);
  });
});

describe('random replies', () => {
  it('HRANDFIELD and RANDOMKEY pick existing fields and keys', async () => {
    await run('HSET', 'h', 'a', '1', 'b', '2', 'c', '3');
    expect(['a', 'b', 'c']).toContain(await run('HRANDFIELD', 'h'));
    const two = (await run('HRANDFIELD', 'h', '2')) as string[];
    expect(new Set(two).size).toBe(2);
    const repeated = (await run('HRANDFIELD', 'h', '-10', 'WITHVALUES')) as string[];
    expect(repeated).toHaveLength(20);
    for (let i = 0; i < repeated.length; i += 2) {
      expect({ a: '1', b: '2', c: '3' }[repeated[i] as 'a']).toBe(repeated[i + 1]);
    }
    expect(['h']).toContain(await run('RANDOMKEY'));
    await run('DEL', 'h');
    expect(await run('RANDOMKEY')).toBeNull();
  });

  it('COPY reaches another database, visible to COPY only', async () => {
    await run('SET', 'k', 'v', 'EX', '100');
    expect(await run('COPY', 'k', 'k', 'DB', '3')).toBe(1);
    expect(await run('COPY', 'k', 'k', 'DB', '3')).toBe(0);
    expect(await run('COPY', 'k', 'k', 'DB', '3', 'REPLACE')).toBe(1);
    expect(await run('COPY', 'k', 'k', 'DB', '0')).toEqual({
      error: 'ERR source and destination objects are the same',
    });
    await run('XADD', 'st', '1-1', 'f', 'v');
    await run('XGROUP', 'CREATE', 'st', 'g', '0');
    await run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'st', '>');
    expect(await run('COPY', 'st', 'st2')).toBe(1);
    await run('XACK', 'st2', 'g', '1-1');
    expect(await run('XPENDING', 'st', 'g')).toEqual([1, '1-1', '1-1', [['c', '1']]]);
    expect(await run('XPENDING', 'st2', 'g')).toEqual([0, null, null, null]);
  });
});

describe('through @upstash/redis', () => {
  const token = 'engine-families-token';
  let server: RunningHttpServer;
  let engine: MemoryRedisBackend;
  let redis: Redis;

  beforeAll(async () => {
    engine = new MemoryRedisBackend();
    server = await startRedisRestServer({ port: 0, token, backend: engine });
    redis = new Redis({ url: server.url, token, enableTelemetry: false });
  });

  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  beforeEach(async () => {
    await redis.flushdb();
  });

  it('streams: xadd, xrange, consumer groups, xpending, xtrim', async () => {
    expect(await redis.xadd('events', '1-1', { kind: 'signup', user: 'ana' })).toBe('1-1');
    await redis.xadd('events', '2-*', { kind: 'logout' });
    expect(await redis.xadd('events', '*', { kind: 'login' })).toMatch(/^[0-9]+-0$/);
    expect(await redis.xlen('events')).toBe(3);
    expect(await redis.xrange('events', '-', '1-9')).toEqual({
      '1-1': { kind: 'signup', user: 'ana' },
    });
    expect(Object.keys(await redis.xrevrange('events', '+', '-', 2))).toHaveLength(2);
    expect(await redis.xgroup('events', { type: 'CREATE', group: 'mail', id: '0' })).toBe('OK');
    const read = (await redis.xreadgroup('mail', 'worker', 'events', '>', {
      count: 2,
    })) as unknown[];
    expect(read).toEqual([
      [
        'events',
        [
          ['1-1', ['kind', 'signup', 'user', 'ana']],
          ['2-0', ['kind', 'logout']],
        ],
      ],
    ]);
    expect(await redis.xack('events', 'mail', '1-1')).toBe(1);
    const pending = (await redis.xpending('events', 'mail', '-', '+', 10)) as unknown[][];
    expect(pending.map((entry) => [entry[0], entry[1], entry[3]])).toEqual([['2-0', 'worker', 1]]);
    const groups = (await redis.xinfo('events', { type: 'GROUPS' })) as unknown[][];
    expect(groups[0]?.slice(0, 8)).toEqual([
      'name',
      'mail',
      'consumers',
      1,
      'pending',
      1,
      'last-delivered-id',
      '2-0',
    ]);
    expect(await redis.xdel('events', '1-1')).toBe(1);
    // The client trims with "~" unless told otherwise: whole nodes only, so nothing here.
    expect(await redis.xtrim('events', { strategy: 'MAXLEN', threshold: 1 })).toBe(0);
    expect(await redis.xtrim('events', { strategy: 'MAXLEN', threshold: 1, exactness: '=' })).toBe(
      1,
    );
    expect(await redis.xlen('events')).toBe(1);
    const fresh = (await redis.xread('events', '0-0')) as unknown[];
    expect(fresh).toHaveLength(1);
  });

  it('geo: geoadd, geodist, geopos, geosearch, and ZRANGE on the same key', async () => {
    expect(
      await redis.geoadd(
        'cities',
        { longitude: 13.361389, latitude: 38.115556, member: 'Palermo' },
        { longitude: 15.087269, latitude: 37.502669, member: 'Catania' },
        { longitude: 12.496366, latitude: 41.902782, member: 'Rome' },
      ),
    ).toBe(3);
    expect(await redis.geodist('cities', 'Palermo', 'Catania', 'KM')).toBe(166.2742);
    expect(await redis.geohash('cities', 'Palermo')).toEqual(['sqc8b49rny0']);
    expect(await redis.geopos('cities', 'Palermo')).toEqual([
      { lng: 13.361389338970184, lat: 38.1155563954963 },
    ]);
    const near = await redis.geosearch(
      'cities',
      { type: 'FROMLONLAT', coordinate: { lon: 15, lat: 37 } },
      { type: 'BYRADIUS', radius: 200, radiusType: 'KM' },
      'ASC',
      { withDist: true },
    );
    expect(near).toEqual([
      { member: 'Catania', dist: 56.4413 },
      { member: 'Palermo', dist: 190.4424 },
    ]);
    const box = await redis.geosearch(
      'cities',
      { type: 'FROMMEMBER', member: 'Rome' },
      { type: 'BYBOX', rect: { width: 1200, height: 1000 }, rectType: 'KM' },
      'DESC',
      { count: { limit: 1 } },
    );
    expect(box).toEqual([{ member: 'Catania' }]);
    expect(await redis.zrange('cities', 0, -1)).toEqual(['Palermo', 'Catania', 'Rome']);
  });

  it('HyperLogLog: pfadd, pfcount on one and several keys, pfmerge', async () => {
    expect(await redis.pfadd('visitors:mon', 'ana', 'bob', 'cid')).toBe(1);
    expect(await redis.pfadd('visitors:mon', 'ana')).toBe(0);
    expect(await redis.pfadd('visitors:tue', 'bob', 'dan')).toBe(1);
    expect(await redis.pfcount('visitors:mon')).toBe(3);
    expect(await redis.pfcount('visitors:mon', 'visitors:tue')).toBe(4);
    expect(await redis.pfmerge('visitors:week', 'visitors:mon', 'visitors:tue')).toBe('OK');
    expect(await redis.pfcount('visitors:week')).toBe(4);
  });

  it('bitmaps: setbit, getbit, bitcount, bitpos, bitop, bitfield', async () => {
    expect(await redis.setbit('seen', 7, 1)).toBe(0);
    expect(await redis.setbit('seen', 7, 1)).toBe(1);
    await redis.setbit('seen', 9, 1);
    expect(await redis.getbit('seen', 9)).toBe(1);
    expect(await redis.bitcount('seen', 0, -1)).toBe(2);
    expect(await redis.bitcount('seen', 1, 1)).toBe(1);
    expect(await redis.bitpos('seen', 1)).toBe(7);
    await redis.set('other', 'x');
    expect(await redis.bitop('or', 'both', 'seen', 'other')).toBe(2);
    // The client's auto-pipelining has no bitfield() chain: a client without it runs one.
    const direct = new Redis({
      url: server.url,
      token,
      enableTelemetry: false,
      enableAutoPipelining: false,
    });
    expect(
      await direct
        .bitfield('counters')
        .set('u8', 0, 200)
        .incrby('u8', 0, 100)
        .overflow('SAT')
        .incrby('u8', '#1', 300)
        .get('i8', 0)
        .exec(),
    ).toEqual([0, 44, 255, 44]);
  });

  it('sorted sets: zunionstore, zinterstore, zdiffstore, zunion, zlexcount, zremrangebylex', async () => {
    await redis.zadd('a', { score: 1, member: 'x' }, { score: 2, member: 'y' });
    await redis.zadd('b', { score: 10, member: 'y' }, { score: 20, member: 'z' });
    expect(await redis.zunionstore('u', 2, ['a', 'b'], { weights: [2, 1] })).toBe(3);
    expect(await redis.zrange('u', 0, -1, { withScores: true })).toEqual([
      'x',
      2,
      'y',
      14,
      'z',
      20,
    ]);
    expect(await redis.zinterstore('i', 2, ['a', 'b'], { aggregate: 'max' })).toBe(1);
    expect(await redis.zscore('i', 'y')).toBe(10);
    expect(await redis.zdiffstore('d', 2, 'a', 'b')).toBe(1);
    expect(await redis.zunion(2, ['a', 'b'], { withScores: true, aggregate: 'min' })).toEqual([
      'x',
      1,
      'y',
      2,
      'z',
      20,
    ]);
    await redis.zadd(
      'lex',
      { score: 0, member: 'a' },
      { score: 0, member: 'b' },
      { score: 0, member: 'c' },
    );
    expect(await redis.zlexcount('lex', '[b', '+')).toBe(2);
    expect(await redis.zremrangebylex('lex', '-', '(c')).toBe(2);
  });

  it('lists, sets, hashes and keys: lmove, lmpop, lpos, linsert, sintercard, smove, hrandfield, copy, publish', async () => {
    await redis.rpush('todo', 'a', 'b', 'c');
    expect(await redis.lmove('todo', 'done', 'left', 'right')).toBe('a');
    expect(await redis.lpos('todo', 'c')).toBe(1);
    expect(await redis.linsert('todo', 'before', 'c', 'b2')).toBe(3);
    expect(await redis.lmpop(2, ['missing', 'todo'], 'RIGHT', 2)).toEqual(['todo', ['c', 'b2']]);
    await redis.sadd('s1', 'a', 'b');
    await redis.sadd('s2', 'b', 'c');
    expect(await redis.sintercard(['s1', 's2'])).toBe(1);
    expect(await redis.smove('s1', 's2', 'a')).toBe(1);
    await redis.hset('profile', { name: 'ana', city: 'rome' });
    expect(await redis.hrandfield('profile', 2, true)).toEqual({ name: 'ana', city: 'rome' });
    expect(await redis.copy('profile', 'profile2')).toBe('COPIED');
    expect(await redis.copy('profile', 'profile2')).toBe('NOT_COPIED');
    expect(await redis.randomkey()).toEqual(expect.any(String));
    expect(await redis.publish('news', 'hello')).toBe(0);
  });
});
