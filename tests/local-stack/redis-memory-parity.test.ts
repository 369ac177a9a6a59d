// The embedded engine against real Redis 7 (database 11 only), command by command: the same
// commands, edge cases and mistakes sent to both backends must get byte-identical replies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRedisBackend } from '../../local-stack/redis-memory/memory-backend.ts';
import type { RedisBackend, RedisReply } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';

let memory: MemoryRedisBackend;
let real: RedisBackend;

const flush = [Buffer.from('FLUSHDB')];

beforeAll(async () => {
  real = await connectRespBackend('redis://127.0.0.1:6379/11');
  memory = new MemoryRedisBackend();
});

afterAll(async () => {
  await real?.call(flush);
  await real?.close();
  await memory?.close();
});

/** Commands whose reply order Redis leaves unspecified. */
const UNORDERED = new Set(['SMEMBERS', 'SUNION', 'SINTER', 'SDIFF', 'KEYS', 'SPOP', 'SRANDMEMBER']);

function normalise(command: string[], reply: RedisReply): RedisReply {
  const name = command[0]?.toUpperCase() ?? '';
  if (!UNORDERED.has(name) || !Array.isArray(reply)) return reply;
  return [...reply].sort((a, b) => Buffer.compare(a as Buffer, b as Buffer));
}

async function both(commands: string[][]): Promise<{ memory: unknown[]; real: unknown[] }> {
  await Promise.all([memory.call(flush), real.call(flush)]);
  const seen = { memory: [] as unknown[], real: [] as unknown[] };
  for (const command of commands) {
    const args = command.map((arg) => Buffer.from(arg));
    seen.memory.push([command.join(' '), normalise(command, await memory.call(args))]);
    seen.real.push([command.join(' '), normalise(command, await real.call(args))]);
  }
  return seen;
}

const cases: Record<string, string[][]> = {
  strings: [
    ['SET', 'k', 'v', 'NX', 'GET'],
    ['SET', 'k', 'v2', 'XX', 'GET'],
    ['SET', 'k', 'v', 'KEEPTTL', 'EX', '5'],
    ['SET', 'k', 'v', 'PX', '-1'],
    ['SET', 'k', 'v', 'EXAT', 'abc'],
    ['SET', 'k'],
    ['GETEX', 'k', 'PX', '100000'],
    ['GETEX', 'k', 'FOO'],
    ['GETDEL', 'missing'],
    ['INCR', 'k'],
    ['SET', 'n', '010'],
    ['INCR', 'n'],
    ['SET', 'n', '-0'],
    ['INCR', 'n'],
    ['SET', 'n', '9223372036854775806'],
    ['INCR', 'n'],
    ['INCR', 'n'],
    ['DECRBY', 'fresh', '9223372036854775808'],
    ['DECRBY', 'fresh', '-9223372036854775808'],
    ['INCRBY', 'fresh', '-9223372036854775808'],
    ['INCRBYFLOAT', 'f', '1.5'],
    ['INCRBYFLOAT', 'f', '1e1'],
    ['INCRBYFLOAT', 'f', '-11.5'],
    ['INCRBYFLOAT', 'f', '.5'],
    ['INCRBYFLOAT', 'f', '5.'],
    ['INCRBYFLOAT', 'f', 'nan'],
    ['INCRBYFLOAT', 'f', ' 1'],
    ['SET', 'f2', '3.0'],
    ['INCRBYFLOAT', 'f2', '0'],
    ['APPEND', 'a', ''],
    ['STRLEN', 'a'],
    ['MSET', 'x', '1', 'y'],
    ['MSETNX', 'x', '1', 'y', '2'],
    ['MSETNX', 'x', '1', 'z', '2'],
    ['MGET', 'x', 'y', 'z'],
    ['SETNX', 'x', '3'],
    ['SETEX', 'e', 'abc', 'v'],
    ['PSETEX', 'e', '0', 'v'],
    ['GETSET', 'x', '9'],
    ['SET', 'r', 'hello'],
    ['GETRANGE', 'r', '1', '3'],
    ['GETRANGE', 'r', '-3', '-1'],
    ['GETRANGE', 'r', '-10', '-9'],
    ['GETRANGE', 'r', '3', '1'],
    ['GETRANGE', 'r', '0', '100'],
    ['GETRANGE', 'missing', '0', '-1'],
    ['SETRANGE', 'r', '7', 'xy'],
    ['GET', 'r'],
    ['SETRANGE', 'r', '-1', 'x'],
    ['SETRANGE', 'empty', '3', ''],
    ['EXISTS', 'empty'],
    ['SETRANGE', 'fresh', '2', 'ab'],
    ['GET', 'fresh'],
    ['TOUCH', 'r', 'fresh', 'missing'],
  ],
  keys: [
    ['SET', 'a', '1'],
    ['SET', 'b', '1'],
    ['EXISTS', 'a', 'a', 'c'],
    ['DEL'],
    ['DEL', 'a', 'a'],
    ['RENAME', 'b', 'b'],
    ['RENAME', 'nope', 'b'],
    ['RENAMENX', 'b', 'b'],
    ['EXPIRE', 'b', '100', 'nx', 'xx'],
    ['EXPIRE', 'b', '100', 'gt', 'lt'],
    ['EXPIRE', 'b', '100', 'bogus'],
    ['EXPIRE', 'b', '100', 'gt'],
    ['EXPIRE', 'b', '100', 'lt'],
    ['TTL', 'b'],
    ['EXPIRE', 'b', '9223372036854775807'],
    ['PEXPIRE', 'b', '1.5'],
    ['PERSIST', 'b'],
    ['PERSIST', 'b'],
    ['TTL', 'b'],
    ['TTL', 'missing'],
    ['PTTL', 'missing'],
    ['TYPE', 'b'],
    ['KEYS', '[a-c]'],
    ['KEYS', '\\b'],
    ['KEYS', '*'],
    ['SCAN', '0', 'COUNT', '100'],
    ['SCAN', '0', 'MATCH'],
    ['SCAN', '0', 'COUNT', 'x'],
    ['SCAN', '-1'],
    ['SCAN', '0', 'TYPE', 'hash'],
    ['DBSIZE'],
    ['PING', 'a', 'b'],
    ['ECHO'],
    ['FLUSHDB', 'bogus'],
  ],
  hashes: [
    ['HSET', 'h', 'a', '1', 'b', '2'],
    ['HSET', 'h', 'a'],
    ['HMSET', 'h', 'c', '3'],
    ['HGETALL', 'h'],
    ['HINCRBY', 'h', 'a', 'x'],
    ['HINCRBY', 'h', 'a', '9223372036854775807'],
    ['HINCRBYFLOAT', 'h', 'a', '0.1'],
    ['HINCRBYFLOAT', 'h', 'new', 'x'],
    ['HSET', 'h', 's', 'text'],
    ['HINCRBY', 'h', 's', '1'],
    ['HINCRBYFLOAT', 'h', 's', '1'],
    ['HSETNX', 'h', 'a', 'v'],
    ['HDEL', 'h', 'zz'],
    ['HMGET', 'missing', 'a'],
    ['HGETALL', 'missing'],
    ['HLEN', 'missing'],
    ['HSTRLEN', 'h', 's'],
    ['HEXISTS', 'h', 's'],
    ['HKEYS', 'h'],
    ['HVALS', 'h'],
    ['HGET', 'h'],
    ['HSCAN', 'h', '0'],
    ['HSCAN', 'h', '0', 'MATCH', '[ab]', 'COUNT', '1'],
    ['HSCAN', 'h', '0', 'TYPE', 'hash'],
    ['HSCAN', 'missing', '0'],
    ['HSCAN', 'h', 'x'],
  ],
  sets: [
    ['SADD', 's', 'b', 'a', 'c', 'a'],
    ['SADD', 't', 'c', 'd'],
    ['SMEMBERS', 's'],
    ['SISMEMBER', 's', 'z'],
    ['SMISMEMBER', 's', 'a', 'z'],
    ['SMISMEMBER', 'missing', 'a'],
    ['SUNION', 's', 't', 'missing'],
    ['SINTER', 's', 't'],
    ['SDIFF', 's', 't'],
    ['SDIFFSTORE', 'd', 's', 't'],
    ['SINTERSTORE', 'd', 'missing', 's'],
    ['EXISTS', 'd'],
    ['SUNIONSTORE', 's', 's', 't'],
    ['SCARD', 's'],
    ['SREM', 's', 'a', 'b', 'c', 'd'],
    ['EXISTS', 's'],
    ['SADD', 's'],
    ['SADD', 'p', '1', '2', '3'],
    ['SPOP', 'p', '3'],
    ['EXISTS', 'p'],
    ['SPOP', 'p'],
    ['SPOP', 'p', '-1'],
    ['SRANDMEMBER', 'missing'],
    ['SRANDMEMBER', 'missing', '2'],
    ['SADD', 'one', 'x'],
    ['SRANDMEMBER', 'one', '-3'],
    ['SRANDMEMBER', 'one', '5'],
    ['SSCAN', 'one', '0', 'MATCH', 'x'],
  ],
  'sorted sets': [
    ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'],
    ['ZADD', 'z', 'CH', 'GT', '0', 'a', '5', 'b', '4', 'd'],
    ['ZADD', 'z', 'XX', 'INCR', '1', 'missing'],
    ['ZADD', 'z', 'INCR', '-inf', 'a'],
    ['ZADD', 'z', 'INCR', '+inf', 'a'],
    ['ZADD', 'z', 'nan', 'a'],
    ['ZADD', 'z', 'CH'],
    ['ZADD', 'z', 'CH', '1'],
    ['ZADD', 'z', '1', 'a', 'b'],
    ['ZADD', 'z', 'XX', 'NX', '1', 'a'],
    ['ZADD', 'z', 'LT', 'NX', '1', 'a'],
    ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
    ['ZRANGE', 'z', '(0', '5', 'BYSCORE', 'LIMIT', '0', '2', 'WITHSCORES'],
    ['ZRANGE', 'z', '5', '(0', 'BYSCORE', 'REV'],
    ['ZRANGE', 'z', 'x', '5', 'BYSCORE'],
    ['ZRANGE', 'z', '0', '5', 'LIMIT', '0', '1'],
    ['ZRANGE', 'z', '-', '+', 'BYLEX', 'WITHSCORES'],
    ['ZRANGE', 'z', '0', '-1', 'BOGUS'],
    ['ZRANGE', 'z', 'a', '-1'],
    ['ZRANGEBYSCORE', 'z', '-inf', '+inf', 'LIMIT', '1'],
    ['ZRANGEBYSCORE', 'z', '(3', '(5'],
    ['ZREVRANGEBYSCORE', 'z', '+inf', '-inf', 'WITHSCORES', 'LIMIT', '0', '2'],
    ['ZREVRANGE', 'z', '0', '1', 'WITHSCORES'],
    ['ZCOUNT', 'z', '(3', '+inf'],
    ['ZINCRBY', 'z', 'x', 'a'],
    ['ZINCRBY', 'z', '0.25', 'c'],
    ['ZSCORE', 'z', 'c'],
    ['ZMSCORE', 'z', 'c', 'nope'],
    ['ZRANK', 'z', 'c'],
    ['ZREVRANK', 'z', 'c'],
    ['ZREMRANGEBYRANK', 'z', '-1', '-1'],
    ['ZREMRANGEBYSCORE', 'z', '-inf', '(4'],
    ['ZCARD', 'z'],
    ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c'],
    ['ZRANGEBYLEX', 'lex', '[b', '+', 'LIMIT', '1', '1'],
    ['ZRANGEBYLEX', 'lex', '+', '-'],
    ['ZRANGEBYLEX', 'lex', 'b', '+'],
    ['ZADD', 'pq', '3', 'c', '1', 'a', '2', 'b'],
    ['ZSCAN', 'pq', '0'],
    ['ZPOPMIN', 'pq'],
    ['ZPOPMAX', 'pq', '5'],
    ['ZPOPMIN', 'pq', '-1'],
    ['ZPOPMIN', 'pq', '1', '2'],
    ['EXISTS', 'pq'],
    ['ZPOPMAX', 'missing'],
  ],
  lists: [
    ['RPUSH', 'l', 'a', 'b', 'c', 'd'],
    ['LPUSHX', 'missing', 'a'],
    ['LINDEX', 'l', 'x'],
    ['LRANGE', 'l', '-100', '100'],
    ['LRANGE', 'l', '2', '1'],
    ['LPOP', 'l', 'x'],
    ['LPOP', 'l', '1', '2'],
    ['RPOP', 'l', '10'],
    ['EXISTS', 'l'],
    ['RPOP', 'missing'],
    ['RPUSH', 'l', 'a', 'b', 'a'],
    ['LREM', 'l', '-1', 'a'],
    ['LSET', 'l', '5', 'x'],
    ['LSET', 'missing', '0', 'x'],
    ['LTRIM', 'l', 'x', '1'],
    ['LLEN', 'l'],
    ['BLPOP', 'l', '-1'],
    ['BLPOP', 'l', 'soon'],
    ['RPUSH', 'q2', 'a', 'b'],
    ['BLPOP', 'q1', 'q2', '0'],
    ['BRPOP', 'q1', 'q2', '0.5'],
    ['EXISTS', 'q2'],
    ['SET', 's', 'v'],
    ['BLPOP', 's', '1'],
    ['EVAL', 'return redis.call("BLPOP", "l", 0)', '0'],
  ],
  wrongtype: [
    ['SET', 's', 'v'],
    ['HSET', 'h', 'f', 'v'],
    ['HGET', 's', 'f'],
    ['SMEMBERS', 'h'],
    ['ZSCORE', 'h', 'm'],
    ['LLEN', 'h'],
    ['GET', 'h'],
    ['ZADD', 'h', 'XX', '1', 'm'],
    ['SDIFFSTORE', 'd', 'h'],
    ['RPOP', 's', '0'],
    ['SET', 'h', 'v', 'NX', 'GET'],
    ['MGET', 'h', 's'],
  ],
  scripts: [
    ['EVAL', 'return {1, 2.9, "x", true, false, nil, 5}', '0'],
    ['EVAL', 'return redis.call("SET", KEYS[1], ARGV[1])', '1', 'k', 'v'],
    ['EVAL', 'return redis.call("TYPE", KEYS[1])', '1', 'k'],
    ['EVAL', 'return redis.pcall("HGET", KEYS[1], "f")', '1', 'k'],
    ['EVAL', 'return redis.call("HGET", KEYS[1], "f")', '1', 'k'],
    ['EVAL', 'return redis.pcall("GET")', '0'],
    ['EVAL', 'return redis.error_reply("-X")', '0'],
    ['EVAL', 'return {err="my error"}', '0'],
    ['EVAL', 'return redis.call("INCRBYFLOAT", "f", 1.5)', '0'],
    ['EVAL', 'return redis.call("SET", "n", 12345678901234)', '0'],
    ['EVAL', 'return redis.call("GET", "n")', '0'],
    ['EVAL', 'return tostring(10 / 2) .. " " .. tostring(1e15) .. " " .. 0.5', '0'],
    ['EVAL', 'return math.floor(7 / 2)', '0'],
    ['EVAL', 'return tonumber("0x10") + tonumber(" 12 ")', '0'],
    ['EVAL', 'return string.format("%d %s %5.2f", 3, "x", 2.5)', '0'],
    ['EVAL', 'return #redis.call("KEYS", "*")', '0'],
    ['EVAL', 'return redis.call("SCAN", "0", "COUNT", "1000")[1]', '0'],
    ['EVAL', 'return ARGV', '0', 'a', 'b'],
    ['EVAL', 'return KEYS[3]', '2', 'a'],
    ['EVAL', 'return 1', 'x'],
    ['EVAL', 'return redis.call("SET", "k", {})', '0'],
    ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
    ['EVALSHA', 'short', '0'],
    ['SCRIPT', 'EXISTS', 'ffffffffffffffffffffffffffffffffffffffff'],
    ['SCRIPT', 'LOAD', 'return 1', 'extra'],
    ['SCRIPT', 'LOAD', '#!lua flags=no-writes,allow-oom\nreturn 1'],
    ['EVAL', '#!lua flags=no-writes\nreturn redis.call("GET", "k")', '0'],
    ['EVAL', '#!lua  flags=no-writes\nreturn 1', '0'],
    ['EVAL', '#!lua name=x\nreturn 1', '0'],
    ['EVAL_RO', 'return redis.call("DEL", "k")', '0'],
    ['EVAL', 'return redis.call("PING")', '0'],
    ['EVAL', 'return redis.call("ping", "x")', '0'],
    ['EVAL', 'local t = {} t[1] = 1 t[3] = 3 return t', '0'],
    ['EVAL', 'return {1, {2, {3, {4}}}}', '0'],
    ['EVAL', 'return redis.status_reply("QUEUED")', '0'],
    ['EVAL', 'return -0.5', '0'],
    ['EVAL', 'return 2^63', '0'],
    ['EVAL', 'return 2^53 + 1', '0'],
  ],
  'lua environment': [
    [
      'EVAL',
      `local out = {}
      for _, name in ipairs(ARGV) do
        local v = _G
        for part in string.gmatch(name, '[^.]+') do
          if type(v) == 'table' then v = rawget(v, part) else v = nil end
        end
        table.insert(out, name .. '=' .. type(v))
      end
      return out`,
      '0',
      ...'table.getn table.maxn table.concat table.unpack table.pack unpack loadstring load setfenv dofile loadfile print require module gcinfo newproxy math.pow math.log10 math.ldexp math.frexp math.mod math.fmod math.cosh math.type string.gfind string.len coroutine os io debug utf8 bit cjson select xpcall rawequal rawlen collectgarbage redis.call redis.pcall redis.sha1hex redis.error_reply redis.status_reply redis.log'.split(
        ' ',
      ),
    ],
    ['EVAL', 'return _VERSION', '0'],
    [
      'EVAL',
      'return {tostring(0/0), tostring(1/0), tostring(-1/0), tostring(1e-5), tostring(123456789012345678), tostring(0.1), tostring(2^31), tostring(-7 % 3), tostring(2^53)}',
      '0',
    ],
    [
      'EVAL',
      'return {table.getn({1, 2, 3}), table.maxn({[7] = 1}), math.pow(2, 10), math.log10(1000)}',
      '0',
    ],
    ['EVAL', 'local m, e = math.frexp(12) return {m * 100, e, math.ldexp(0.75, 4)}', '0'],
    [
      'EVAL',
      'return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tohex(-1), bit.tohex(255, -4), bit.tobit(2^32 + 5)}',
      '0',
    ],
    ['EVAL', 'local x = nil return x.y', '0'],
    ['EVAL', 'return nosuch()', '0'],
    ['EVAL', 'return 1 + {}', '0'],
    ['EVAL', "return ('x'):rep(3) .. string.upper('a') .. string.format('%q', 'a\\nb')", '0'],
    ['EVAL', 'return select("#", unpack({1, 2, 3}))', '0'],
    ['EVAL', "local ok, err = pcall(error, 'inner') return {tostring(ok), err}", '0'],
    ['EVAL', "return loadstring('return 40 + 2')()", '0'],
    ['EVAL', 'local co = coroutine.wrap(function() coroutine.yield(1) end) return co()', '0'],
    ['EVAL', "rawset(_G, 'g', 1) return g", '0'],
    ['EVAL', 'return rawget(_G, "KEYS")[1]', '1', 'k'],
    ['EVAL', 'return getmetatable(_G)', '0'],
    ['EVAL', "for k in pairs(string) do if k == 'rep' then return 1 end end return 0", '0'],
  ],
  'read-only tables': [
    ['EVAL', 'redis.x = 1', '0'],
    ['EVAL', 'redis.call = nil', '0'],
    ['EVAL', 'string.x = 1', '0'],
    ['EVAL', 'KEYS = 1', '0'],
    ['EVAL', 'cjson.x = 1', '0'],
    ['EVAL', 'setmetatable(_G, nil)', '0'],
    ['EVAL', "rawset(string, 'x', 1)", '0'],
    ['EVAL', 'local ok, e = pcall(function() math.x = 1 end) return e', '0'],
    ['EVAL', 'local t = {} t.x = 1 return t.x', '0'],
  ],
  cjson: [
    ['EVAL', "return cjson.encode({a = {1, 2, 3, 'x/y\\n\\1\"'}})", '0'],
    ['EVAL', 'return cjson.encode({})', '0'],
    ['EVAL', "return cjson.encode('\\127\\1\\31\\255')", '0'],
    ['EVAL', 'return cjson.encode({[1] = 1, [3] = 3})', '0'],
    ['EVAL', 'return cjson.encode({[20] = 1})', '0'],
    ['EVAL', 'return cjson.encode({[1] = 1, x = 2})', '0'],
    ['EVAL', 'return cjson.encode({0.1, 1e20, 123456789012345, -0.0, true, false})', '0'],
    ['EVAL', 'return cjson.encode(0/0)', '0'],
    ['EVAL', 'return cjson.encode(function() end)', '0'],
    ['EVAL', 'return {pcall(cjson.encode, {[true] = 1})}', '0'],
    ['EVAL', 'local t = {} t[1] = t return cjson.encode(t)', '0'],
    ['EVAL', 'return cjson.encode(cjson.decode(\'[1, null, 3, "\\\\u00e9"]\'))', '0'],
    [
      'EVAL',
      'local v = cjson.decode(\'{"a": [1, {"b": null}], "c": 1e2}\') return {v.a[2].b == cjson.null, v.c}',
      '0',
    ],
    ['EVAL', "return type(cjson.decode('null'))", '0'],
  ],
};

/** A small deterministic PRNG (an LCG), so every run replays the same "random" sequence. */
function prng(seed: number): <T>(choices: readonly T[]) => T {
  let state = seed;
  return (choices) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return choices[Math.floor((state / 2 ** 31) * choices.length)] as (typeof choices)[number];
  };
}

/** Random commands over a few keys, fields and members, mistakes included. */
function randomCommands(seed: number, count: number): string[][] {
  const pick = prng(seed);
  const key = () => pick(['k1', 'k2', 'k3']);
  const field = () => pick(['f1', 'f2', 'f3']);
  const member = () => pick(['a', 'b', 'c', 'd']);
  const score = () => pick(['-2', '0', '1', '2', '10', '1.5', '-0', 'x', '+inf', '(1', '(2']);
  const index = () => pick(['-3', '-1', '0', '1', '2', '5', 'x']);
  const maybe = (...extra: string[]) => (pick([true, false]) ? extra : []);
  const templates: (() => string[])[] = [
    () => [
      'SET',
      key(),
      pick(['v', '1', '2.5', '10']),
      ...maybe(pick(['NX', 'XX', 'GET', 'KEEPTTL'])),
    ],
    () => ['GET', key()],
    () => ['INCRBY', key(), index()],
    () => ['INCRBYFLOAT', key(), score()],
    () => ['APPEND', key(), 'xy'],
    () => ['GETRANGE', key(), index(), index()],
    () => ['SETRANGE', key(), pick(['0', '2', '-1']), 'ab'],
    () => ['DEL', key()],
    () => ['RENAME', key(), key()],
    () => [
      'EXPIRE',
      key(),
      pick(['100', '200', '-1', 'x']),
      ...maybe(pick(['NX', 'XX', 'GT', 'LT'])),
    ],
    () => ['TTL', key()],
    () => ['TYPE', key()],
    () => ['HSET', key(), field(), pick(['1', 'v', '2.5'])],
    () => ['HDEL', key(), field(), field()],
    () => ['HINCRBY', key(), field(), index()],
    () => ['HINCRBYFLOAT', key(), field(), score()],
    () => ['HGETALL', key()],
    () => ['HMGET', key(), field(), field()],
    () => ['SADD', key(), member(), member()],
    () => ['SREM', key(), member()],
    () => ['SMISMEMBER', key(), member(), member()],
    () => [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), key(), key(), key()],
    () => ['SCARD', key()],
    () => [
      'ZADD',
      key(),
      ...maybe(pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])),
      score(),
      member(),
    ],
    () => ['ZINCRBY', key(), score(), member()],
    () => ['ZREM', key(), member()],
    () => [pick(['ZSCORE', 'ZRANK', 'ZREVRANK']), key(), member()],
    () => ['ZRANGE', key(), index(), index(), ...maybe('WITHSCORES')],
    () => [
      'ZRANGE',
      key(),
      score(),
      score(),
      'BYSCORE',
      ...maybe('REV'),
      ...maybe('LIMIT', index(), index()),
    ],
    () => ['ZRANGE', key(), pick(['-', '[a', '(b', '+']), pick(['+', '[c', '(d', '-']), 'BYLEX'],
    () => ['ZCOUNT', key(), score(), score()],
    () => [pick(['ZREMRANGEBYSCORE', 'ZRANGEBYSCORE']), key(), score(), score()],
    () => ['ZREMRANGEBYRANK', key(), index(), index()],
    () => [pick(['ZPOPMIN', 'ZPOPMAX']), key(), ...maybe(index())],
    () => [pick(['LPUSH', 'RPUSH']), key(), member(), member()],
    () => [pick(['LPOP', 'RPOP']), key(), ...maybe(index())],
    () => [pick(['LRANGE', 'LTRIM']), key(), index(), index()],
    () => ['LINDEX', key(), index()],
    () => ['LSET', key(), index(), 'z'],
    () => ['LREM', key(), index(), member()],
    () => ['EVAL', 'return redis.call("INCRBY", KEYS[1], ARGV[1])', '1', key(), index()],
    () => [
      'EVAL',
      'local v = redis.pcall("GET", KEYS[1]) if type(v) == "table" then return v.err end return {v, tostring(v)}',
      '1',
      key(),
    ],
    () => [
      'EVAL',
      'local r = redis.call("ZRANGE", KEYS[1], 0, -1, "WITHSCORES") return {#r, tostring(r[2] and tonumber(r[2]) / 3)}',
      '1',
      key(),
    ],
  ];
  return Array.from({ length: count }, () => pick(templates)());
}

describe('replies match real Redis 7', () => {
  it.each([1, 2])('random command sequence %i', async (seed) => {
    const seen = await both(randomCommands(seed, 1000));
    expect(seen.memory).toEqual(seen.real);
  });

  for (const [family, commands] of Object.entries(cases)) {
    it(family, async () => {
      const seen = await both(commands);
      expect(seen.memory).toEqual(seen.real);
    });
  }
});
