// What a client sees when the rate limiter cannot reach Redis: the general policy lets the request
// through and logs a warning; the auth policy refuses with 503 rather than allow unmetered guesses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import type { RedisBackend } from '../../local-stack/redis-rest/backend.ts';
import { startRedisRestServer } from '../../local-stack/redis-rest/server.ts';
import { createApp } from '../../src/app.ts';
import { ok } from '../../src/lib/envelope.ts';
import { byClientIpAndEmail, rateLimit } from '../../src/middleware/rate-limit.ts';
import {
  closedPortUrl,
  type HangingServer,
  startHangingServer,
} from '../support/dead-endpoints.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const token = 'rate-limit-down-token';

/** A REST server that is up while the Redis behind it is not, as the RESP backend reports it. */
const unreachableRedis: RedisBackend = {
  description: 'unreachable',
  call: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
  transaction: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
  close: () => Promise.resolve(),
};

let restWithoutRedis: RunningHttpServer;
let deadUrl: string;
let silent: HangingServer;

beforeAll(async () => {
  restWithoutRedis = await startRedisRestServer({ port: 0, token, backend: unreachableRedis });
  deadUrl = await closedPortUrl();
  silent = await startHangingServer();
});

afterAll(async () => {
  await restWithoutRedis?.close();
  await silent?.close();
});

function appAt(url: string) {
  const { deps, logLines } = offlineDeps({
    UPSTASH_REDIS_REST_URL: url,
    UPSTASH_REDIS_REST_TOKEN: token,
    RATE_LIMIT_TIMEOUT_MS: '150',
  });
  const app = createApp(deps);
  app.get('/things', (c) => ok(c, { things: [] }));
  app.post('/auth/login', rateLimit('auth', { key: byClientIpAndEmail }), (c) =>
    ok(c, { signedIn: true }),
  );
  return { app, logLines };
}

const outages = [
  ['the REST server is unreachable', () => deadUrl],
  ['the REST server is up but its Redis is not', () => restWithoutRedis.url],
  ['Redis does not answer within the timeout', () => silent.url],
] as const;

describe.each(outages)('when %s', (_, url) => {
  it('serves general requests without RateLimit headers and logs a warning', async () => {
    const { app, logLines } = appAt(url());
    const response = await app.request('/things', {
      headers: { 'CF-Connecting-IP': '192.0.2.1', 'X-Request-Id': 'redis-down-general' },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ success: true, data: { things: [] } });
    expect(response.headers.get('RateLimit-Limit')).toBeNull();
    const warning = logLines.find((line) => line.level === 'warn');
    expect(warning).toMatchObject({
      msg: 'rate limit unavailable; request allowed',
      reason: expect.not.stringContaining('192.0.2.1'),
      requestId: 'redis-down-general',
      policy: 'general',
    });
    const request = logLines.find((line) => line.msg === 'request');
    expect(request).toMatchObject({
      status: 200,
      rateLimit: { general: { outcome: 'allowed-unavailable' } },
    });
  });

  it('refuses sign-in attempts with a 503 envelope that reveals nothing internal', async () => {
    const { app, logLines } = appAt(url());
    const response = await app.request('/auth/login', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': '192.0.2.2', 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: 'secret' }),
    });

    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body).toMatchObject({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', details: { policy: 'auth' } },
    });
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|timeout|127\.0\.0\.1|redis/i);
    const request = logLines.find((line) => line.msg === 'request');
    expect(request).toMatchObject({
      status: 503,
      rateLimit: { auth: { outcome: 'refused-unavailable' } },
    });
  });
});

it('reports a timeout as the reason when Redis hangs', async () => {
  const { app, logLines } = appAt(silent.url);
  await app.request('/things', { headers: { 'CF-Connecting-IP': '192.0.2.3' } });
  expect(logLines.find((line) => line.level === 'warn')).toMatchObject({ reason: 'timeout' });
});
