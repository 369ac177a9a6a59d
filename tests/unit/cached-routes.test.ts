// Every route answered from the cache costs one Redis round trip: its read leaves with the
// credential checks and the rate limit. The routes are found, not listed: each GET operation of
// the document is called twice by an admin, and any answer the log line marks as a cache hit is
// held to one round trip. A cached route whose module forgot to declare its read fails here.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { countingRedisProxy, roundTripsOf } from '../support/counting-redis-proxy.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let proxy: Awaited<ReturnType<typeof countingRedisProxy>>;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 5, migrate: true });
  proxy = await countingRedisProxy(stack.env.UPSTASH_REDIS_REST_URL);
});

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

// The documents and probes are no API reads: they never touch the cache.
const notReads = new Set(['/openapi.json', '/docs', '/health', '/health/ready']);

it('answers every cache hit after one Redis round trip', async () => {
  const { app, deps, logLines } = appOnStack(stack.env, {
    UPSTASH_REDIS_REST_URL: proxy.url,
    RATE_LIMIT_GENERAL: '100000/1m',
  });
  const [admin] = (await signedInUsers(deps, [{ name: 'Cache Admin', role: 'admin' }])) as [
    SignedInUser,
  ];
  const { executionCtx, settled } = collectingExecutionContext();
  const get = (path: string, requestId: string) =>
    app.request(
      path,
      {
        headers: {
          Authorization: `Bearer ${admin.accessToken}`,
          'CF-Connecting-IP': '192.0.2.44',
          'X-Request-Id': requestId,
        },
      },
      {},
      executionCtx,
    );
  const document = (await (await get('/openapi.json', 'cached-routes-document')).json()) as {
    paths: Record<string, { get?: unknown }>;
  };
  const reads = Object.entries(document.paths)
    .filter(([path, item]) => item.get !== undefined && !notReads.has(path))
    .map(([path]) => path);

  const hits: { path: string; roundTrips: number }[] = [];
  for (const [index, template] of reads.entries()) {
    // Ids of a real user where the path names one, so a profile exists to be cached.
    const path = template.replaceAll(
      /\{[^}]+\}/g,
      template.includes('users') ? admin.id : randomUUID(),
    );
    await get(path, `cached-routes-warm-${index}`);
    await settled();
    proxy.requests.length = 0;
    const requestId = `cached-routes-read-${index}`;
    await get(path, requestId);
    const beforeAnswer = [...proxy.requests];
    await settled();
    const line = logLines.find((entry) => entry.msg === 'request' && entry.requestId === requestId);
    if ([line?.cache].flat().includes('hit')) {
      hits.push({ path: template, roundTrips: roundTripsOf(beforeAnswer) });
    }
  }

  // The public profile is cached: were no hit found, this test would check nothing.
  expect(hits.map(({ path }) => path)).toContain('/v1/users/{id}');
  expect(hits).toEqual(hits.map(({ path }) => ({ path, roundTrips: 1 })));
});
