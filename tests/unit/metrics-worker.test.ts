// The Node worker's GET /metrics: its own deliveries counted under its own prefix by the edge's
// middleware and store, signed deliveries of a real job (its mail to a real SMTP server), then the
// scrape, open on a private network or behind METRICS_TOKEN.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { prometheusContentType } from '../../src/platform/metrics.ts';
import { createWorkerApp } from '../../worker-jobs/app.ts';
import { parseWorkerConfig } from '../../worker-jobs/config.ts';
import { createWorkerDeps } from '../../worker-jobs/deps.ts';
import { collectingExecutionContext } from '../support/execution-context.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'metrics-worker-test-token';
const signingKey = 'sig_metrics_worker_current_key';
const jobsBaseUrl = 'http://jobs.metrics.test';
const scrapeToken = 'metrics-worker-scrape-token-0123456789';

let redis: RunningHttpServer;
let smtp: SMTPServer;
let smtpUrl: string;
const workers: ReturnType<typeof createWorkerDeps>[] = [];

beforeAll(async () => {
  // Keys under a random prefix only: the database is shared, never emptied.
  redis = await startTestRedisRest({ redisDb: 5, token });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback());
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const deps of workers) deps.mailer.close();
  await new Promise<void>((done) => (smtp ? smtp.close(() => done()) : done()));
  await redis?.close();
});

/** The worker counting under a prefix of its own, its waitUntil work collected. */
function worker(overrides: Record<string, string> = {}) {
  const deps = createWorkerDeps(
    parseWorkerConfig({
      JOBS_BASE_URL: jobsBaseUrl,
      QSTASH_CURRENT_SIGNING_KEY: signingKey,
      QSTASH_NEXT_SIGNING_KEY: 'sig_metrics_worker_next_key',
      UPSTASH_REDIS_REST_URL: redis.url,
      UPSTASH_REDIS_REST_TOKEN: token,
      SMTP_URL: smtpUrl,
      METRICS_PREFIX: `metrics:test-worker:${randomUUID()}`,
      ...overrides,
    }),
    createLogger('error', () => {}),
  );
  workers.push(deps);
  const app = createWorkerApp(deps);
  const { executionCtx, settled } = collectingExecutionContext();
  const send = (path: string, init: RequestInit = {}) =>
    app.request(`http://127.0.0.1:8789${path}`, init, {}, executionCtx);
  const deliver = (message: unknown, headers: Record<string, string> = {}) => {
    const body = new TextEncoder().encode(JSON.stringify(message));
    const path = '/jobs/email.welcome';
    const signature = signDelivery({
      url: `${jobsBaseUrl}${path}`,
      body,
      signingKey,
      nowMs: Date.now(),
    });
    return send(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'upstash-signature': signature,
        'upstash-message-id': `msg_${randomUUID()}`,
        ...headers,
      },
      body,
    });
  };
  return { send, deliver, settled };
}

const welcome = (payload: unknown = { to: 'ada@example.com', name: 'Ada' }) => ({
  id: randomUUID(),
  type: 'email.welcome',
  payload,
});

/** The sample lines of the families named. */
const samplesOf = (text: string, ...names: string[]) =>
  text.split('\n').filter((line) => names.some((name) => line.startsWith(`${name}{`)));

describe('the Node worker’s GET /metrics', () => {
  it('counts its deliveries, retries among them, and serves them without the outbox', async () => {
    const jobs = worker();
    expect((await jobs.deliver(welcome())).status).toBe(200);
    expect((await jobs.deliver(welcome(), { 'upstash-retried': '1' })).status).toBe(200);
    // A retry that fails again: retried, not delivered.
    expect((await jobs.deliver(welcome({}), { 'upstash-retried': '4' })).status).toBe(489);
    expect((await jobs.send('/health')).status).toBe(200);
    await jobs.settled();

    const res = await jobs.send('/metrics');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(prometheusContentType);
    const text = await res.text();
    expect(
      samplesOf(text, 'http_requests_total', 'jobs_delivered_total', 'jobs_retried_total'),
    ).toEqual([
      'http_requests_total{route="/health",method="GET",status="200"} 1',
      'http_requests_total{route="/jobs/:type",method="POST",status="200"} 2',
      'http_requests_total{route="/jobs/:type",method="POST",status="489"} 1',
      'jobs_delivered_total{type="email.welcome"} 2',
      'jobs_retried_total{type="email.welcome"} 2',
    ]);
    expect(text).toContain(
      'http_request_duration_seconds_count{route="/jobs/:type",method="POST"} 3',
    );
    expect(text).toContain('# TYPE jobs_dead_lettered_total counter\n');
    expect(text).not.toContain('outbox_backlog');
  });

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    const jobs = worker({ METRICS_TOKEN: scrapeToken });

    const anonymous = await jobs.send('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const wrong = await jobs.send('/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    await jobs.settled();

    const res = await jobs.send('/metrics', {
      headers: { authorization: `Bearer ${scrapeToken}` },
    });

    expect(res.status).toBe(200);
    expect(samplesOf(await res.text(), 'http_requests_total')).toEqual([
      'http_requests_total{route="/metrics",method="GET",status="401"} 2',
    ]);
  });

  it('refuses a METRICS_TOKEN short enough to guess', () => {
    expect(() => worker({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });
});
