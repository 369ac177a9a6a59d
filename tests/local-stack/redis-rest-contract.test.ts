// @upstash/redis and @upstash/ratelimit, unchanged, against the local REST server in front of the
// real Redis on this machine (database 9 only). What Upstash adds to Redis 7.0 (pub/sub over
// Server-Sent Events, SCAN WITHTYPE, COPY onto itself, HGETDEL) is checked against a server in
// front of the embedded engine as well.
import { randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { MemoryRedisBackend } from '../../local-stack/redis-memory/memory-backend.ts';
import type { RedisBackend } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

const token = 'contract-test-token';
let backend: RedisBackend;
let server: RunningHttpServer;
let redis: Redis;
let memoryBackend: MemoryRedisBackend;
let memoryServer: RunningHttpServer;
let memoryRedis: Redis;

beforeAll(async () => {
  backend = await connectRespBackend('redis://127.0.0.1:6379/9');
  await backend.call([Buffer.from('FLUSHDB')]);
  server = await startRedisRestServer({ port: 0, token, backend });
  redis = new Redis({ url: server.url, token });
  memoryBackend = new MemoryRedisBackend();
  memoryServer = await startRedisRestServer({ port: 0, token, backend: memoryBackend });
  memoryRedis = new Redis({ url: memoryServer.url, token });
});

afterAll(async () => {
  await server?.close();
  await backend?.close();
  await memoryServer?.close();
  await memoryBackend?.close();
});

/** Both servers, for what the REST layer adds to either backend. */
const sides = [
  { name: 'redis', client: () => redis },
  { name: 'memory', client: () => memoryRedis },
];

afterEach(() => {
  vi.restoreAllMocks();
});

interface SentRequest {
  path: string;
  body: unknown;
}

/** Records what the client puts on the wire to this server, while still sending it. */
function recordRequests(): SentRequest[] {
  const sent: SentRequest[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin === new URL(server.url).origin) {
      sent.push({ path: url.pathname, body: JSON.parse(String(init?.body)) });
    }
    return realFetch(input, init);
  });
  return sent;
}

const sentCommandNames = (sent: SentRequest[]): string[] =>
  sent.flatMap(({ path, body }) => {
    const commands = (path === '/' ? [body] : body) as string[][];
    return commands.map((command) => String(command[0]).toUpperCase());
  });

describe('strings', () => {
  it('sets and gets, with EX, PX and NX', async () => {
    expect(await redis.set('s:plain', 'hello wörld ✓')).toBe('OK');
    expect(await redis.get('s:plain')).toBe('hello wörld ✓');
    expect(await redis.get('s:missing')).toBeNull();

    expect(await redis.set('s:ex', 'v', { ex: 100 })).toBe('OK');
    expect(await redis.ttl('s:ex')).toBeGreaterThan(90);
    expect(await redis.set('s:px', 'v', { px: 100_000 })).toBe('OK');
    expect(await redis.pttl('s:px')).toBeGreaterThan(90_000);

    expect(await redis.set('s:nx', 'first', { nx: true })).toBe('OK');
    expect(await redis.set('s:nx', 'second', { nx: true })).toBeNull();
    expect(await redis.get('s:nx')).toBe('first');
  });

  it('counts with INCR and reads many keys with MGET', async () => {
    expect(await redis.incr('s:counter')).toBe(1);
    expect(await redis.incrby('s:counter', 41)).toBe(42);
    await redis.set('s:json', { nested: [1, 'two'] });
    expect(await redis.mget('s:counter', 's:json', 's:nothing')).toEqual([
      42,
      { nested: [1, 'two'] },
      null,
    ]);
  });

  it('round-trips replies that span many TCP chunks', async () => {
    const big = 'x'.repeat(1_500_000);
    await redis.set('s:big', big);
    expect(await redis.get('s:big')).toBe(big);
    const members = Array.from({ length: 5_000 }, (_, i) => `member-${i}`);
    await redis.rpush('s:long', ...members);
    expect(await redis.lrange('s:long', 0, -1)).toEqual(members);
  });

  it('reports a command error with Redis message', async () => {
    await redis.set('s:text', 'not a number');
    await expect(redis.incr('s:text')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
  });
});

describe('hashes, sets, sorted sets and lists', () => {
  it('stores and reads hashes', async () => {
    expect(await redis.hset('h:user', { name: 'Ada', visits: 1 })).toBe(2);
    expect(await redis.hincrby('h:user', 'visits', 2)).toBe(3);
    expect(await redis.hget('h:user', 'name')).toBe('Ada');
    expect(await redis.hgetall('h:user')).toEqual({ name: 'Ada', visits: 3 });
    expect(await redis.hdel('h:user', 'name')).toBe(1);
    expect(await redis.hkeys('h:user')).toEqual(['visits']);
  });

  it('stores and reads sets', async () => {
    expect(await redis.sadd('set:tags', 'a', 'b', 'c')).toBe(3);
    expect(await redis.sismember('set:tags', 'b')).toBe(1);
    expect(await redis.srem('set:tags', 'b')).toBe(1);
    expect((await redis.smembers('set:tags')).sort()).toEqual(['a', 'c']);
    expect(await redis.scard('set:tags')).toBe(2);
  });

  it('ranks with sorted sets, by index, score and in reverse', async () => {
    await redis.zadd('z:board', { score: 10, member: 'ann' }, { score: 30, member: 'bob' });
    await redis.zadd('z:board', { score: 20, member: 'cy' });
    expect(await redis.zrange('z:board', 0, -1, { withScores: true })).toEqual([
      'ann',
      10,
      'cy',
      20,
      'bob',
      30,
    ]);
    expect(await redis.zrange('z:board', 15, 40, { byScore: true })).toEqual(['cy', 'bob']);
    expect(await redis.zrange('z:board', 0, 1, { rev: true })).toEqual(['bob', 'cy']);
    expect(await redis.zincrby('z:board', 15, 'ann')).toBe(25);
    expect(await redis.zscore('z:board', 'ann')).toBe(25);
    expect(await redis.zrank('z:board', 'ann')).toBe(1);
  });

  it('pushes and pops lists', async () => {
    expect(await redis.rpush('l:queue', 'a', 'b')).toBe(2);
    expect(await redis.lpush('l:queue', 'z')).toBe(3);
    expect(await redis.lrange('l:queue', 0, -1)).toEqual(['z', 'a', 'b']);
    expect(await redis.lpop('l:queue')).toBe('z');
    expect(await redis.rpop('l:queue')).toBe('b');
    expect(await redis.llen('l:queue')).toBe(1);
  });

  it('serves other commands while a blocking pop waits', async () => {
    const popped = redis.exec<[string, string] | null>(['BLPOP', 'l:jobs', '10']);
    expect(await redis.rpush('l:jobs', 'job-1')).toBeGreaterThanOrEqual(0);
    expect(await popped).toEqual(['l:jobs', 'job-1']);
  });
});

describe('expiry', () => {
  it('expires, reports TTLs and persists', async () => {
    await redis.set('e:key', 'v');
    expect(await redis.ttl('e:key')).toBe(-1);
    expect(await redis.expire('e:key', 120)).toBe(1);
    expect(await redis.ttl('e:key')).toBeGreaterThan(100);
    expect(await redis.pttl('e:key')).toBeGreaterThan(100_000);
    expect(await redis.persist('e:key')).toBe(1);
    expect(await redis.ttl('e:key')).toBe(-1);
    expect(await redis.ttl('e:none')).toBe(-2);
    expect(await redis.pexpire('e:key', 1)).toBe(1);
    await vi.waitFor(async () => expect(await redis.exists('e:key')).toBe(0));
  });
});

describe('pipelines and transactions', () => {
  it('runs an explicit pipeline, one failing command not stopping the others', async () => {
    const sent = recordRequests();
    const pipeline = redis.pipeline();
    pipeline.set('p:a', 'x');
    pipeline.incr('p:a');
    pipeline.get('p:a');
    const results = await pipeline.exec({ keepErrors: true });
    expect(results.map((entry) => entry.result)).toEqual(['OK', undefined, 'x']);
    expect(results[1]?.error).toBe('ERR value is not an integer or out of range');
    expect(sent.map((request) => request.path)).toEqual(['/pipeline']);

    const failing = redis.pipeline();
    failing.get('p:a');
    failing.incr('p:a');
    await expect(failing.exec()).rejects.toThrow('Command 2 [ incr ] failed');
  });

  it('runs redis.multi() atomically through /multi-exec', async () => {
    const sent = recordRequests();
    const tx = redis.multi();
    tx.set('m:n', 1);
    tx.incr('m:n');
    tx.hset('m:h', { f: 'v' });
    tx.hgetall('m:h');
    expect(await tx.exec()).toEqual(['OK', 2, 1, { f: 'v' }]);
    expect(sent.map((request) => request.path)).toEqual(['/multi-exec']);
  });

  it('auto-pipelines concurrent commands into one /pipeline request', async () => {
    const autoRedis = new Redis({ url: server.url, token, enableAutoPipelining: true });
    await autoRedis.set('ap:seed', 'x');
    const sent = recordRequests();
    const results = await Promise.all([
      autoRedis.incr('ap:n'),
      autoRedis.incr('ap:n'),
      autoRedis.set('ap:k', 'v'),
      autoRedis.incr('ap:n'),
    ]);
    expect(results).toEqual([1, 2, 'OK', 3]);
    expect(sent.map((request) => request.path)).toEqual(['/pipeline']);
    expect(sent[0]?.body).toHaveLength(4);
  });

  it('answers without base64 when the client does not ask for it', async () => {
    const textRedis = new Redis({ url: server.url, token, responseEncoding: false });
    await textRedis.set('t:word', 'grüße');
    expect(await textRedis.get('t:word')).toBe('grüße');
    expect(await textRedis.lpush('t:list', 'b', 'a')).toBe(2);
    expect(await textRedis.lrange('t:list', 0, -1)).toEqual(['a', 'b']);
  });
});

describe('scripts', () => {
  it('runs EVAL, EVALSHA, SCRIPT LOAD / EXISTS and createScript', async () => {
    const body = `-- ${randomUUID()}\nreturn {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}`;
    expect(await redis.eval(body, ['sc:n'], ['arg'])).toEqual(['sc:n', 'arg', 1]);
    const sha = await redis.scriptLoad(body);
    expect(await redis.scriptExists(sha)).toEqual([1]);
    expect(await redis.evalsha(sha, ['sc:n'], ['again'])).toEqual(['sc:n', 'again', 2]);

    const script = redis.createScript<string>(`-- ${randomUUID()}\nreturn ARGV[1]`);
    expect(await script.exec([], ['echoed'])).toBe('echoed');
  });

  it('runs a script with the allow-key-locking shebang through the EVALSHA fallback, then by hash', async () => {
    const source = `#!lua flags=allow-key-locking\n-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`;
    const script = redis.createScript<number>(source);
    const sent = recordRequests();
    expect(await script.exec(['sc:locked'], ['5'])).toBe(5);
    expect(sentCommandNames(sent)).toEqual(['EVALSHA', 'EVAL']);

    sent.length = 0;
    expect(await script.exec(['sc:locked'], ['2'])).toBe(7);
    expect(sentCommandNames(sent)).toEqual(['EVALSHA']);

    const loaded = `#!lua flags=no-writes,allow-key-locking\n-- ${randomUUID()}\nreturn 'ro'`;
    const sha = await redis.scriptLoad(loaded);
    expect(sha).toBe(await sha1Hex(loaded));
    expect(await redis.scriptExists(sha, '0'.repeat(40))).toEqual([1, 0]);
    expect(await redis.evalsha(sha, [], [])).toBe('ro');
  });

  it('lets @upstash/ratelimit slidingWindow allow then deny', async () => {
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(3, '1 h'),
      prefix: `rl:${randomUUID()}`,
      timeout: 0,
    });
    const sent = recordRequests();
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      const outcome = await ratelimit.limit('user-1');
      await outcome.pending;
      outcomes.push({ success: outcome.success, remaining: outcome.remaining });
    }
    expect(outcomes).toEqual([
      { success: true, remaining: 2 },
      { success: true, remaining: 1 },
      { success: true, remaining: 0 },
      { success: false, remaining: 0 },
      { success: false, remaining: 0 },
    ]);
    expect((await ratelimit.limit('user-2')).success).toBe(true);
    expect(sentCommandNames(sent).filter((name) => name === 'EVAL')).toHaveLength(1);
  });
});

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}

type Subscriber = ReturnType<Redis['subscribe']>;

/** Every event of one type the subscriber dispatches from now on. */
function collect<T extends 'message' | 'pmessage' | 'error'>(subscriber: Subscriber, type: T) {
  const seen: Parameters<Parameters<typeof subscriber.on<T>>[1]>[0][] = [];
  subscriber.on(type, (event) => seen.push(event));
  return seen;
}

/** The subscription count of the first confirmation: the stream is open from then on. */
const confirmed = (subscriber: Subscriber, type: 'subscribe' | 'psubscribe') =>
  new Promise<number>((resolve) => subscriber.on(type, resolve));

// Channels are shared by every database of a Redis, so each test names its own.
describe.each(sides)('pub/sub over Server-Sent Events ($name)', ({ client }) => {
  it('delivers what PUBLISH sends to redis.subscribe(), JSON and text alike', async () => {
    const redis = client();
    const channel = `chat:${randomUUID()}`;
    const subscriber = redis.subscribe(channel);
    try {
      expect(await confirmed(subscriber, 'subscribe')).toBe(1);
      const messages = collect(subscriber, 'message');
      const onChannel: unknown[] = [];
      subscriber.on(`message:${channel}`, ({ message }) => onChannel.push(message));
      expect(await redis.publish(channel, { user: 'ada', text: 'hi, there' })).toBe(1);
      expect(await redis.publish(channel, 'plain, with commas: ünïcode ✓')).toBe(1);
      await vi.waitFor(() =>
        expect(messages).toEqual([
          { channel, message: { user: 'ada', text: 'hi, there' } },
          { channel, message: 'plain, with commas: ünïcode ✓' },
        ]),
      );
      expect(onChannel).toHaveLength(2);
    } finally {
      await subscriber.unsubscribe();
    }
  });

  it('delivers the channels a pattern matches to redis.psubscribe(), with pattern and channel', async () => {
    const redis = client();
    const room = `room:${randomUUID()}`;
    const pattern = `${room}:*`;
    const subscriber = redis.psubscribe(pattern);
    try {
      expect(await confirmed(subscriber, 'psubscribe')).toBe(1);
      const messages = collect(subscriber, 'pmessage');
      expect(await redis.publish(`${room}:1`, { n: 1 })).toBe(1);
      expect(await redis.publish(`elsewhere:${room}`, 'unseen')).toBe(0);
      // @upstash/redis parses pattern messages as JSON only: a bare string would be an error event.
      expect(await redis.publish(`${room}:2`, ['two'])).toBe(1);
      await vi.waitFor(() =>
        expect(messages).toEqual([
          { pattern, channel: `${room}:1`, message: { n: 1 } },
          { pattern, channel: `${room}:2`, message: ['two'] },
        ]),
      );
    } finally {
      await subscriber.unsubscribe();
    }
  });

  it('counts each subscription apart, and forgets one once unsubscribed', async () => {
    const redis = client();
    const channel = `fanout:${randomUUID()}`;
    const first = redis.subscribe(channel);
    const second = redis.subscribe(channel);
    try {
      expect(
        await Promise.all([confirmed(first, 'subscribe'), confirmed(second, 'subscribe')]),
      ).toEqual([1, 1]);
      const seenByFirst = collect(first, 'message');
      const seenBySecond = collect(second, 'message');
      expect(await redis.publish(channel, 'to both')).toBe(2);
      await vi.waitFor(() => {
        expect(seenByFirst).toEqual([{ channel, message: 'to both' }]);
        expect(seenBySecond).toEqual([{ channel, message: 'to both' }]);
      });

      await first.unsubscribe();
      await vi.waitFor(async () => expect(await redis.publish(channel, 'probe')).toBe(1));
    } finally {
      await first.unsubscribe();
      await second.unsubscribe();
    }
    await vi.waitFor(async () => expect(await redis.publish(channel, 'probe')).toBe(0));
  });
});

describe.each(sides)('what Upstash answers and Redis 7.0 does not ($name)', ({ client }) => {
  /** Every key SCAN returns for these options, following the cursor to the end. */
  async function scanAll<T>(page: (cursor: string) => Promise<[string, T[]]>): Promise<T[]> {
    const found: T[] = [];
    let cursor = '0';
    do {
      const [next, items] = await page(cursor);
      found.push(...items);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }

  it('filters SCAN by TYPE, and lists each key with its type for withType', async () => {
    const r = client();
    const prefix = `scan:${randomUUID()}`;
    await r.set(`${prefix}:string`, 'v');
    await r.hset(`${prefix}:hash`, { field: 1 });
    await r.zadd(`${prefix}:zset`, { score: 1, member: 'm' });
    await r.rpush(`${prefix}:list`, 'x');
    await r.sadd(`${prefix}:set`, 'm');
    const match = `${prefix}:*`;

    expect(await scanAll((cursor) => r.scan(cursor, { match, type: 'hash', count: 3 }))).toEqual([
      `${prefix}:hash`,
    ]);
    const typed = await scanAll((cursor) => r.scan(cursor, { match, count: 3, withType: true }));
    expect(typed.sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(
      ['hash', 'list', 'set', 'string', 'zset'].map((type) => ({ key: `${prefix}:${type}`, type })),
    );
  });

  it('answers COPY onto itself with 0 (NOT_COPIED) where Redis 7 errors, whether or not the key exists', async () => {
    const r = client();
    const key = `copy:${randomUUID()}`;
    expect(await r.copy(key, key)).toBe('NOT_COPIED');
    await r.set(key, 'v');
    expect(await r.copy(key, key)).toBe('NOT_COPIED');
    expect(await r.copy(key, key, { replace: true })).toBe('NOT_COPIED');
    expect(await r.copy(key, `${key}:copy`)).toBe('COPIED');
    const pipeline = r.pipeline();
    pipeline.copy(key, key);
    pipeline.get(`${key}:copy`);
    expect(await pipeline.exec()).toEqual(['NOT_COPIED', 'v']);
  });

  it('gets and deletes hash fields with HGETDEL, deleting the hash once empty', async () => {
    const r = client();
    const key = `hgetdel:${randomUUID()}`;
    await r.hset(key, { name: 'Ada', visits: 3, role: { admin: true } });
    expect(await r.hgetdel(key, 'name', 'missing', 'role')).toEqual({
      name: 'Ada',
      missing: null,
      role: { admin: true },
    });
    expect(await r.hgetall(key)).toEqual({ visits: 3 });
    expect(await r.hgetdel(key, 'visits')).toEqual({ visits: 3 });
    expect(await r.exists(key)).toBe(0);
    expect(await r.hgetdel(key, 'visits')).toBeNull();

    const tx = r.multi();
    tx.hset(key, { a: 1 });
    tx.hgetdel(key, 'a');
    tx.exists(key);
    expect(await tx.exec()).toEqual([1, { a: 1 }, 0]);
  });
});
