// Readiness follows Redis: 503 naming redis while it is down, 200 again once it is back, with the
// same Worker instance throughout (nothing restarted but Redis). Meanwhile the API keeps serving:
// the general rate limit fails open.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker();
});

afterAll(async () => {
  await worker?.close();
});

interface ReadyBody {
  data: { status: string; checks: Record<string, { status: string }> };
}

async function expectReady(): Promise<void> {
  const response = await worker.fetch('/health/ready');
  expect(response.status).toBe(200);
  const body = (await response.json()) as ReadyBody;
  expect(body.data.status).toBe('ok');
  expect(body.data.checks).toMatchObject({
    db: { status: 'ok' },
    redis: { status: 'ok' },
    queue: { status: 'ok' },
  });
}

it('is ready with every backend up', async () => {
  await expectReady();
});

it('answers 503 naming redis while Redis is stopped, and serves the API meanwhile', async () => {
  await worker.redis.stop();

  const response = await worker.fetch('/health/ready', {
    headers: { 'x-request-id': 'e2e-ready-redis-down' },
  });
  const body = await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
  expect(body.error.details).toMatchObject({
    failing: ['redis'],
    checks: { db: { status: 'ok' }, redis: { status: 'fail' }, queue: { status: 'ok' } },
  });
  expect(await worker.logs.requestLine('e2e-ready-redis-down')).toMatchObject({
    status: 503,
    readiness: { failing: ['redis'] },
  });

  // Reads fail open without Redis: answered, with a warning in the log.
  const served = await worker.fetch('/no/such/route', {
    headers: { 'x-request-id': 'e2e-served-redis-down' },
  });
  await expectErrorEnvelope(served, 404, 'NOT_FOUND');
  expect(served.headers.get('ratelimit-limit')).toBeNull();
  await worker.logs.waitFor(
    (line) =>
      line.level === 'warn' &&
      line.requestId === 'e2e-served-redis-down' &&
      line.policy === 'general',
  );
});

it('is ready again once Redis is back, without restarting the Worker', async () => {
  await worker.redis.start();
  await expectReady();
});
