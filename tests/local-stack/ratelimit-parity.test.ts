// @upstash/ratelimit must decide exactly the same way on the embedded engine as on real Redis:
// the same steps run through the official clients and the local REST server in front of each
// backend (real Redis: database 10 only), and the observed sequences are compared.
import { randomUUID } from 'node:crypto';
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { MemoryRedisBackend } from '../../local-stack/redis-memory/memory-backend.ts';
import type { RedisBackend } from '../../local-stack/redis-rest/backend.ts';
import { connectRespBackend } from '../../local-stack/redis-rest/resp-backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';

const token = 'ratelimit-parity-token';
// Long windows keep a whole sequence inside one window; `inOneWindow` retries the rare run that
// straddles a boundary anyway.
const WINDOW = '1 h';
const WINDOW_MS = 3_600_000;

interface Side {
  name: 'memory' | 'redis';
  backend: RedisBackend;
  server: RunningHttpServer;
  redis: Redis;
}

const sides: Side[] = [];

async function startSide(name: Side['name'], backend: RedisBackend): Promise<Side> {
  const server = await startRedisRestServer({ port: 0, token, backend });
  return {
    name,
    backend,
    server,
    redis: new Redis({ url: server.url, token, enableTelemetry: false }),
  };
}

beforeAll(async () => {
  const real = await connectRespBackend('redis://127.0.0.1:6379/10');
  await real.call([Buffer.from('FLUSHDB')]);
  sides.push(await startSide('memory', new MemoryRedisBackend()));
  sides.push(await startSide('redis', real));
});

afterAll(async () => {
  for (const side of sides) {
    await side.server.close();
    if (side.name === 'redis') await side.backend.call([Buffer.from('FLUSHDB')]);
    await side.backend.close();
  }
});

type Algorithm = 'fixedWindow' | 'slidingWindow' | 'tokenBucket';

function limiterFor(algorithm: Algorithm) {
  switch (algorithm) {
    case 'fixedWindow':
      return Ratelimit.fixedWindow(5, WINDOW);
    case 'slidingWindow':
      return Ratelimit.slidingWindow(5, WINDOW);
    case 'tokenBucket':
      return Ratelimit.tokenBucket(1, WINDOW, 5);
  }
}

type Step =
  | { limit: number }
  | { remaining: true }
  | { reset: true }
  | { dynamicLimit: number | false }
  | { deniedIp: true };

const limit = (rate = 1): Step => ({ limit: rate });
const REMAINING: Step = { remaining: true };
const RESET: Step = { reset: true };

interface Run {
  side: Side;
  algorithm: Algorithm;
  options?: { dynamicLimits?: boolean; enableProtection?: boolean };
  setup?: (redis: Redis, prefix: string) => Promise<void>;
}

/** Plays the steps with a fresh prefix and records what a caller of the library sees. */
async function play(run: Run, steps: Step[]): Promise<unknown[]> {
  const prefix = `parity:${run.algorithm}:${randomUUID()}`;
  await run.setup?.(run.side.redis, prefix);
  const ratelimit = new Ratelimit({
    redis: run.side.redis,
    limiter: limiterFor(run.algorithm),
    prefix,
    ephemeralCache: false,
    analytics: false,
    ...run.options,
  });
  const seen: unknown[] = [];
  for (const step of steps) {
    if ('limit' in step) {
      const result = await ratelimit.limit('user', { rate: step.limit });
      await result.pending;
      seen.push({ success: result.success, remaining: result.remaining, limit: result.limit });
    } else if ('deniedIp' in step) {
      const result = await ratelimit.limit('user', { ip: `${run.side.name}-denied-ip` });
      seen.push({ success: result.success, reason: result.reason });
    } else if ('remaining' in step) {
      const { remaining, limit: effective } = await ratelimit.getRemaining('user');
      seen.push({ getRemaining: remaining, limit: effective });
    } else if ('reset' in step) {
      await ratelimit.resetUsedTokens('user');
      seen.push('reset');
    } else {
      await ratelimit.setDynamicLimit({ limit: step.dynamicLimit });
      seen.push(await ratelimit.getDynamicLimit());
    }
  }
  return seen;
}

/** Runs `observe` again if a window boundary passed while it ran. */
async function inOneWindow<T>(observe: () => Promise<T>): Promise<T> {
  for (;;) {
    const window = Math.floor(Date.now() / WINDOW_MS);
    const result = await observe();
    if (Math.floor(Date.now() / WINDOW_MS) === window) return result;
  }
}

async function compare(run: Omit<Run, 'side'>, steps: Step[]) {
  return inOneWindow(async () => {
    const [memory, redis] = sides;
    if (memory === undefined || redis === undefined) throw new Error('backends not started');
    return {
      memory: await play({ ...run, side: memory }, steps),
      redis: await play({ ...run, side: redis }, steps),
    };
  });
}

const SEQUENCE: Step[] = [
  REMAINING,
  limit(),
  limit(),
  limit(),
  REMAINING,
  limit(),
  limit(),
  limit(),
  limit(2),
  REMAINING,
  RESET,
  REMAINING,
  limit(),
  limit(3),
  limit(2),
  limit(),
  REMAINING,
];

describe.each<Algorithm>(['fixedWindow', 'slidingWindow', 'tokenBucket'])('%s', (algorithm) => {
  it('allows and denies the same sequence on memory as on real Redis', async () => {
    const { memory, redis } = await compare({ algorithm }, SEQUENCE);
    expect(memory).toEqual(redis);
    const decisions = memory.filter(
      (entry) => typeof entry === 'object' && 'success' in (entry as object),
    );
    expect(decisions).toContainEqual(expect.objectContaining({ success: true }));
    expect(decisions).toContainEqual(expect.objectContaining({ success: false }));
  });

  it('follows a dynamic limit the same way', async () => {
    const steps: Step[] = [
      limit(),
      limit(),
      { dynamicLimit: 3 },
      REMAINING,
      limit(),
      limit(),
      { dynamicLimit: false },
      limit(),
      REMAINING,
    ];
    const { memory, redis } = await compare({ algorithm, options: { dynamicLimits: true } }, steps);
    expect(memory).toEqual(redis);
    expect(memory).toContainEqual({ dynamicLimit: 3 });
  });
});

describe('deny list', () => {
  it('denies a listed IP on both backends', async () => {
    const { memory, redis } = await compare(
      {
        algorithm: 'fixedWindow',
        options: { enableProtection: true },
        // A disabled IP list keeps the library from downloading the public one.
        setup: async (client, prefix) => {
          await client.set(`${prefix}:ipDenyListStatus`, 'disabled');
          await client.sadd(`${prefix}:denyList:all`, 'memory-denied-ip', 'redis-denied-ip');
        },
      },
      [limit(), { deniedIp: true }, limit()],
    );
    expect(memory).toEqual(redis);
    expect(memory[1]).toEqual({ success: false, reason: 'denyList' });
  });
});
