// GET /metrics on the app over the local stack: requests of each kind (a 200, a 404, a 429, a
// cache miss then a hit, job deliveries, a dead letter), then the scrape, whose series must be
// exactly what those requests did, in Prometheus's text format. Each app counts under a prefix of
// its own, so the files sharing this Redis database never see each other's counts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import type { LocalStack } from '../../local-stack/stack.ts';
import { outbox } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import {
  createMetricsStore,
  durationBuckets,
  prometheusContentType,
  prometheusText,
} from '../../src/platform/metrics.ts';
import { newIp } from '../support/auth-flows.ts';
import { countingRedisProxy } from '../support/counting-redis-proxy.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { appOnStack, startTestStack } from '../support/test-stack.ts';
import { type SignedInUser, signedInUsers } from '../support/users-fixtures.ts';

let stack: LocalStack;
let proxy: Awaited<ReturnType<typeof countingRedisProxy>>;

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 5, migrate: true });
  proxy = await countingRedisProxy(stack.env.UPSTASH_REDIS_REST_URL);
}, 30_000);

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

/** Where QStash's deliveries are signed for. */
const publicUrl = 'http://api.metrics.test';

interface Send {
  method?: string;
  ip?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** The app counting under a prefix of its own, its waitUntil work collected. */
function metricsApp(overrides: Record<string, string> = {}) {
  const { app, deps } = appOnStack(stack.env, {
    METRICS_ENABLED: 'true',
    METRICS_PREFIX: `metrics:test:${randomUUID()}`,
    API_PUBLIC_URL: publicUrl,
    ...overrides,
  });
  const { executionCtx, settled } = collectingExecutionContext();
  const send = (path: string, options: Send = {}) =>
    app.request(
      path,
      {
        method: options.method ?? 'GET',
        headers: {
          'cf-connecting-ip': options.ip ?? newIp(),
          ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
        ...(options.body !== undefined && { body: options.body }),
      },
      {},
      executionCtx,
    );
  /** The scrape's text, once every count sent so far has landed. */
  const scrape = async (token: string) => {
    await settled();
    const res = await send('/metrics', { token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(prometheusContentType);
    return res.text();
  };
  return { deps, send, settled, scrape };
}

/** A delivery as QStash signs it, to `path` of the app. */
function signed(path: string, message: unknown, headers: Record<string, string> = {}): Send {
  const body = new TextEncoder().encode(JSON.stringify(message));
  const signature = signDelivery({
    url: `${publicUrl}${path}`,
    body,
    signingKey: stack.env.QSTASH_CURRENT_SIGNING_KEY,
    nowMs: Date.now(),
  });
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'upstash-signature': signature,
      'upstash-message-id': `msg_${randomUUID()}`,
      ...headers,
    },
    body,
  };
}

const base64 = (text: string) => Buffer.from(text).toString('base64');

/** What QStash posts to the failure callback once it gave up on `job`. */
const failureCallback = (job: unknown) => ({
  status: 500,
  body: base64('{"success":false,"error":{"code":"INTERNAL_ERROR"}}'),
  retried: 3,
  dlqId: `dlq_${randomUUID()}`,
  sourceMessageId: `msg_${randomUUID()}`,
  sourceBody: base64(JSON.stringify(job)),
});

/** A family's lines: its HELP and TYPE, then its samples (for a histogram, all its suffixes). */
function family(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`# HELP ${name} `) ||
        line.startsWith(`# TYPE ${name} `) ||
        new RegExp(`^${name}(_bucket|_sum|_count)?[{ ]`).test(line),
    );
}

/** The samples of a family, without its HELP and TYPE lines. */
const samples = (text: string, name: string) =>
  family(text, name).filter((line) => !line.startsWith('#'));

async function adminAndUser(deps: Deps) {
  const [admin, user] = (await signedInUsers(deps, [
    { name: 'Metrics Admin', role: 'admin' },
    { name: 'Metrics User' },
  ])) as [SignedInUser, SignedInUser];
  return { admin, user };
}

describe('GET /metrics', () => {
  it('counts exactly what each request did, in the text format', async () => {
    const api = metricsApp({ RATE_LIMIT_GENERAL: '2/1h' });
    const { admin, user } = await adminAndUser(api.deps);
    const profile = `/v1/users/${user.id}`;

    expect((await api.send('/health')).status).toBe(200);
    expect((await api.send(profile)).status).toBe(200);
    // The miss fills the cache after its response: the next read hits.
    await api.settled();
    expect((await api.send(profile)).status).toBe(200);
    const crowded = newIp();
    for (const status of [404, 404, 429]) {
      expect((await api.send('/v1/nowhere', { ip: crowded })).status).toBe(status);
    }
    expect((await api.send('/health', { method: 'PURGE' })).status).toBe(405);
    const cleanup = {
      id: randomUUID(),
      type: 'maintenance.token-cleanup',
      payload: {},
      createdAt: new Date().toISOString(),
    };
    const retried = signed('/jobs/maintenance.token-cleanup', cleanup, { 'upstash-retried': '2' });
    expect((await api.send('/jobs/maintenance.token-cleanup', retried)).status).toBe(200);
    await api.deps.db.insert(outbox).values(
      [1, 2].map((n) => ({
        id: randomUUID(),
        type: 'email.welcome',
        message: { type: 'email.welcome', payload: { to: `outbox-${n}@example.com`, name: 'N' } },
        priority: 'normal',
      })),
    );

    const text = await api.scrape(admin.accessToken);

    expect(family(text, 'http_requests_total')).toEqual([
      '# HELP http_requests_total Requests answered, by route pattern (`unmatched` for none), method and status.',
      '# TYPE http_requests_total counter',
      'http_requests_total{route="/health",method="GET",status="200"} 1',
      'http_requests_total{route="/jobs/:type",method="POST",status="200"} 1',
      'http_requests_total{route="/v1/users/:id",method="GET",status="200"} 2',
      'http_requests_total{route="unmatched",method="GET",status="404"} 2',
      'http_requests_total{route="unmatched",method="GET",status="429"} 1',
      // A method no client should invent is one series, whatever it is.
      'http_requests_total{route="unmatched",method="other",status="405"} 1',
    ]);
    expect(family(text, 'rate_limit_refusals_total')).toEqual([
      '# HELP rate_limit_refusals_total Requests refused with 429 by a rate-limit policy.',
      '# TYPE rate_limit_refusals_total counter',
      'rate_limit_refusals_total{policy="general"} 1',
    ]);
    expect(samples(text, 'cache_requests_total')).toEqual([
      'cache_requests_total{outcome="hit"} 1',
      'cache_requests_total{outcome="miss"} 1',
    ]);
    expect(samples(text, 'jobs_delivered_total')).toEqual([
      'jobs_delivered_total{type="maintenance.token-cleanup"} 1',
    ]);
    expect(samples(text, 'jobs_retried_total')).toEqual([
      'jobs_retried_total{type="maintenance.token-cleanup"} 1',
    ]);
    expect(family(text, 'jobs_dead_lettered_total')).toEqual([
      '# HELP jobs_dead_lettered_total Jobs QStash gave up on, as its failure callback reported them.',
      '# TYPE jobs_dead_lettered_total counter',
    ]);
    expect(family(text, 'outbox_backlog')).toEqual([
      '# HELP outbox_backlog Jobs staged in the outbox and not yet handed to QStash, counted at scrape time.',
      '# TYPE outbox_backlog gauge',
      'outbox_backlog 2',
    ]);

    // The profile's two reads: a bucket per bound, cumulative, ending at the count.
    const profileSeries = samples(text, 'http_request_duration_seconds').filter((line) =>
      line.includes('route="/v1/users/:id",method="GET"'),
    );
    const buckets = profileSeries.filter((line) =>
      line.startsWith('http_request_duration_seconds_bucket'),
    );
    expect(buckets.map((line) => /le="([^"]+)"/.exec(line)?.[1])).toEqual([
      ...durationBuckets.map(String),
      '+Inf',
    ]);
    const counts = buckets.map((line) => Number(line.split(' ').at(-1)));
    expect(counts).toEqual(counts.toSorted((a, b) => a - b));
    expect(counts.at(-1)).toBe(2);
    expect(profileSeries).toContain(
      'http_request_duration_seconds_count{route="/v1/users/:id",method="GET"} 2',
    );
    const sum = profileSeries.find((line) => line.startsWith('http_request_duration_seconds_sum'));
    expect(Number(sum?.split(' ').at(-1))).toBeGreaterThan(0);
    expect(family(text, 'http_request_duration_seconds').slice(0, 2)).toEqual([
      '# HELP http_request_duration_seconds Time from the request reaching the app to its response starting (a streamed body may go on), by route and method.',
      '# TYPE http_request_duration_seconds histogram',
    ]);
  });

  it('labels each request by the route that answered it, a fixed path beside a parameter too', async () => {
    const api = metricsApp();
    const { admin } = await adminAndUser(api.deps);
    const welcome = {
      id: randomUUID(),
      type: 'email.welcome',
      payload: { to: 'dead@example.com', name: 'Dead Letter' },
      createdAt: new Date().toISOString(),
    };
    const callback = signed('/jobs/failed', failureCallback(welcome));
    expect((await api.send('/jobs/failed', callback)).status).toBe(200);
    expect((await api.send('/v1/users/search?q=nobody', { token: admin.accessToken })).status).toBe(
      200,
    );

    const text = await api.scrape(admin.accessToken);

    expect(samples(text, 'jobs_dead_lettered_total')).toEqual([
      'jobs_dead_lettered_total{type="email.welcome"} 1',
    ]);
    expect(samples(text, 'http_requests_total')).toEqual([
      'http_requests_total{route="/jobs/failed",method="POST",status="200"} 1',
      'http_requests_total{route="/v1/users/search",method="GET",status="200"} 1',
    ]);
  });

  it('takes an administrator or a key with metrics:read; the scrapes count too', async () => {
    const api = metricsApp();
    const { admin, user } = await adminAndUser(api.deps);
    const created = await api.send('/v1/api-keys', {
      method: 'POST',
      token: admin.accessToken,
      headers: { 'content-type': 'application/json' },
      body: new TextEncoder().encode(JSON.stringify({ name: 'scraper', scopes: ['metrics:read'] })),
    });
    expect(created.status).toBe(201);
    const { data } = (await created.json()) as { data: { key: string } };

    const anonymous = await api.send('/metrics');
    expect(anonymous.status).toBe(401);
    const notAdmin = await api.send('/metrics', { token: user.accessToken });
    expect(notAdmin.status).toBe(403);
    expect(await notAdmin.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const byKey = await api.send('/metrics', { headers: { 'x-api-key': data.key } });
    expect(byKey.status).toBe(200);
    await byKey.text();

    const text = await api.scrape(admin.accessToken);

    expect(samples(text, 'http_requests_total')).toEqual([
      'http_requests_total{route="/metrics",method="GET",status="200"} 1',
      'http_requests_total{route="/metrics",method="GET",status="401"} 1',
      'http_requests_total{route="/metrics",method="GET",status="403"} 1',
      'http_requests_total{route="/v1/api-keys",method="POST",status="201"} 1',
    ]);
  });

  it('answers the totals as they were, and counts nothing more, with METRICS_ENABLED=false', async () => {
    const prefix = `metrics:test:${randomUUID()}`;
    const counting = metricsApp({ METRICS_PREFIX: prefix });
    const { admin } = await adminAndUser(counting.deps);
    expect((await counting.send('/health')).status).toBe(200);
    const quiet = metricsApp({ METRICS_PREFIX: prefix, METRICS_ENABLED: 'false' });
    expect((await quiet.send('/health')).status).toBe(200);
    expect((await quiet.send('/v1/nowhere')).status).toBe(404);

    await counting.settled();
    const text = await quiet.scrape(admin.accessToken);

    expect(samples(text, 'http_requests_total')).toEqual([
      'http_requests_total{route="/health",method="GET",status="200"} 1',
    ]);
  });
});

describe('what the metrics cost in Redis', () => {
  it('adds one pipelined request to a cached read, sent after the response', async () => {
    const reads: Record<'on' | 'off', string[][]> = { on: [], off: [] };
    for (const flag of ['on', 'off'] as const) {
      const api = metricsApp({
        UPSTASH_REDIS_REST_URL: proxy.url,
        METRICS_ENABLED: String(flag === 'on'),
      });
      const { user } = await adminAndUser(api.deps);
      const ip = newIp();
      // The warm-up fills the cache and lets Redis learn the rate limiter's script.
      await api.send(`/v1/users/${user.id}`, { ip });
      await api.settled();
      proxy.requests.length = 0;
      const res = await api.send(`/v1/users/${user.id}`, { ip });
      const beforeAnswer = proxy.requests.flatMap((request) => request.commands);
      await api.settled();
      expect(res.status).toBe(200);
      expect(beforeAnswer).not.toContain('HINCRBY');
      reads[flag] = proxy.requests.map((request) => request.commands);
    }

    expect(reads.on).toHaveLength(reads.off.length + 1);
    expect(reads.on).toContainEqual(['HINCRBY', 'HINCRBY', 'HINCRBYFLOAT', 'HINCRBY']);
    expect(reads.off.flat()).not.toContain('HINCRBY');
  });

  it('reads every series in one Redis request per scrape', async () => {
    const api = metricsApp({ UPSTASH_REDIS_REST_URL: proxy.url, METRICS_ENABLED: 'false' });
    const { admin } = await adminAndUser(api.deps);
    proxy.requests.length = 0;

    await api.scrape(admin.accessToken);

    const reads = proxy.requests.filter((request) => request.commands.includes('HGETALL'));
    expect(reads).toHaveLength(1);
    expect(reads[0]?.commands).toEqual(Array(8).fill('HGETALL'));
  });
});

describe('the text format', () => {
  it('escapes label values, and reads them back through Redis as they were written', async () => {
    const { deps } = metricsApp();
    const store = createMetricsStore(deps.redis, `metrics:test:${randomUUID()}`);
    const route = '/odd/"quoted",le="0.5"\\path\nnext';

    await store.record({ route, method: 'GET', status: 200, seconds: 0.2, events: [] });
    await store.record({
      route,
      method: 'GET',
      status: 200,
      seconds: 12,
      events: [
        ['cache_requests_total', 'hit'],
        ['cache_requests_total', 'hit'],
      ],
    });
    const text = prometheusText(await store.read());

    const escaped = 'route="/odd/\\"quoted\\",le=\\"0.5\\"\\\\path\\nnext",method="GET"';
    expect(samples(text, 'http_requests_total')).toEqual([
      `http_requests_total{${escaped.replace('method="GET"', 'method="GET",status="200"')}} 2`,
    ]);
    expect(samples(text, 'http_request_duration_seconds')).toEqual([
      ...durationBuckets.map(
        (le) => `http_request_duration_seconds_bucket{${escaped},le="${le}"} ${le >= 0.25 ? 1 : 0}`,
      ),
      `http_request_duration_seconds_bucket{${escaped},le="+Inf"} 2`,
      `http_request_duration_seconds_sum{${escaped}} 12.2`,
      `http_request_duration_seconds_count{${escaped}} 2`,
    ]);
    expect(samples(text, 'cache_requests_total')).toEqual([
      'cache_requests_total{outcome="hit"} 2',
    ]);
    expect(text.endsWith('\n')).toBe(true);
  });
});
