// A request that cannot finish in time still gets an answer and a log line: with its database
// accepting connections and never answering (and the database client told to wait longer than
// the request may take), the real Worker answers 503 at REQUEST_TIMEOUT_MS and logs the request,
// with its id, as timed out.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type HangingServer, startHangingServer } from '../support/dead-endpoints.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

let worker: E2eWorker;
let database: HangingServer;

beforeAll(async () => {
  database = await startHangingServer();
  worker = await startE2eWorker({
    vars: {
      TURSO_DATABASE_URL: database.url,
      DATABASE_TIMEOUT_MS: '60000',
      REQUEST_TIMEOUT_MS: '500',
    },
  });
});

afterAll(async () => {
  await worker?.close();
  await database?.close();
});

it('answers 503 once the deadline passes, and logs the request as timed out', async () => {
  const requestId = `e2e-deadline-${crypto.randomUUID()}`;
  const started = Date.now();
  const response = await worker.fetch(`/v1/users/${crypto.randomUUID()}`, {
    headers: { 'x-request-id': requestId },
  });
  const body = await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(body.error.message).toBe('The request did not complete within 500 ms; try again');
  expect(await worker.logs.requestLine(requestId)).toMatchObject({
    level: 'error',
    requestId,
    method: 'GET',
    status: 503,
    timedOut: { afterMs: 500 },
  });
});

it('keeps serving what needs no database meanwhile', async () => {
  const response = await worker.fetch('/no/such/route');
  await expectErrorEnvelope(response, 404, 'NOT_FOUND');
});
