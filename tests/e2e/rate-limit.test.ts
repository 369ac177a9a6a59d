// The general rate limit on the real Worker: each client address has its own count, the answers
// carry the RateLimit-* headers, and the request over the limit gets a 429 envelope that says
// when to retry. The limit is made small through config, as an operator would.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

const limit = 3;
// An hour for 3 requests (a token bucket: one token back every 20 minutes), so no token comes back
// while a test runs.
const windowSeconds = 3_600;
let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker({ vars: { RATE_LIMIT_GENERAL: `${limit}/1h` } });
});

afterAll(async () => {
  await worker?.close();
});

// Cloudflare sets CF-Connecting-IP on every request and overwrites any client's value.
const from = (ip: string, path = '/no/such/route', headers: Record<string, string> = {}) =>
  worker.fetch(path, { headers: { 'cf-connecting-ip': ip, ...headers } });

function rateLimitHeaders(response: { headers: Headers }) {
  return {
    limit: response.headers.get('ratelimit-limit'),
    remaining: response.headers.get('ratelimit-remaining'),
    reset: Number(response.headers.get('ratelimit-reset')),
  };
}

it('counts down RateLimit-Remaining, then answers 429 with Retry-After', async () => {
  const ip = '203.0.113.10';
  for (let remaining = limit - 1; remaining >= 0; remaining -= 1) {
    const response = await from(ip);
    await expectErrorEnvelope(response, 404, 'NOT_FOUND');
    const headers = rateLimitHeaders(response);
    expect(headers).toMatchObject({ limit: String(limit), remaining: String(remaining) });
    expect(headers.reset).toBeGreaterThan(0);
    expect(headers.reset).toBeLessThanOrEqual(windowSeconds);
  }

  const refused = await from(ip, '/no/such/route', { 'x-request-id': 'e2e-rate-limited-01' });
  const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(rateLimitHeaders(refused)).toMatchObject({ limit: String(limit), remaining: '0' });
  expect(body.error.details).toEqual({
    policy: 'general',
    retryAfterSeconds: retryAfter,
    retryAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
  expect(Date.parse((body.error.details as { retryAt: string }).retryAt)).toBeGreaterThan(
    Date.now(),
  );

  const line = await worker.logs.requestLine('e2e-rate-limited-01');
  expect(line).toMatchObject({ status: 429, rateLimit: { general: { outcome: 'limited' } } });
});

it('keeps refusing that client, whatever the route', async () => {
  const response = await worker.fetch('/diagnostics/echo', {
    method: 'POST',
    headers: { 'cf-connecting-ip': '203.0.113.10', 'content-type': 'application/json' },
    body: '{"message":"again","count":1}',
  });
  await expectErrorEnvelope(response, 429, 'RATE_LIMITED');
  expect(response.headers.get('retry-after')).not.toBeNull();
});

it('counts each client address on its own', async () => {
  const response = await from('198.51.100.7');
  await expectErrorEnvelope(response, 404, 'NOT_FOUND');
  expect(rateLimitHeaders(response)).toMatchObject({ remaining: String(limit - 1) });
});

it('never limits the health probes', async () => {
  for (let attempt = 0; attempt <= limit; attempt += 1) {
    const response = await from('203.0.113.10', '/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-limit')).toBeNull();
    await response.arrayBuffer();
  }
});

it('admits exactly its quota of 200 concurrent requests from one client', async () => {
  const ip = '203.0.113.77';
  const quota = await startE2eWorker({ vars: { RATE_LIMIT_GENERAL: '50/1h' } });
  try {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await quota.fetch('/no/such/route', {
          headers: { 'cf-connecting-ip': ip },
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(statuses.filter((status) => status === 404)).toHaveLength(50);
    expect(statuses.filter((status) => status === 429)).toHaveLength(150);
  } finally {
    await quota.close();
  }
});
