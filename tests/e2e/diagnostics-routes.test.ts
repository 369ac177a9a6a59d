// The diagnostics routes exist for the e2e suite only: a Worker deployed with APP_ENV other than
// "test" does not answer them, and no environment's OpenAPI document lists them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

let production: E2eWorker;

beforeAll(async () => {
  // wrangler.toml's own APP_ENV ("production"), as `wrangler deploy` ships it.
  production = await startE2eWorker({ vars: { APP_ENV: 'production' } });
});

afterAll(async () => {
  await production?.close();
});

it('does not mount them in production', async () => {
  await expectErrorEnvelope(await production.fetch('/diagnostics/error'), 404, 'NOT_FOUND');
  await expectErrorEnvelope(
    await production.fetch('/diagnostics/echo', { method: 'POST', body: '{}' }),
    404,
    'NOT_FOUND',
  );
});

it('leaves them out of the OpenAPI document', async () => {
  const response = await production.fetch('/openapi.json');
  expect(response.status).toBe(200);
  const document = (await response.json()) as { paths: Record<string, unknown> };
  expect(Object.keys(document.paths)).toContain('/health/ready');
  expect(Object.keys(document.paths).filter((path) => path.startsWith('/diagnostics'))).toEqual([]);
});
