// A database that cannot serve is the backend's fault, not the client's nor a bug of ours: the
// real Worker answers 503 SERVICE_UNAVAILABLE naming the backend, logs the cause, and accepts
// nothing it could not store. Two Workers on one local stack, each told the database is somewhere
// it cannot be served from: a port nothing listens on, and a server that answers every request 503.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPortUrl } from '../support/dead-endpoints.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { call, newAccount } from './harness/identity.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

let unreachable: E2eWorker;
let overloaded: E2eWorker;
const overloadedServer = createServer((_, response) => {
  response.writeHead(503, { 'content-type': 'text/plain' }).end('overloaded');
});

beforeAll(async () => {
  overloadedServer.listen(0, '127.0.0.1');
  await once(overloadedServer, 'listening');
  const { port } = overloadedServer.address() as AddressInfo;
  [unreachable, overloaded] = await Promise.all([
    startE2eWorker({ vars: { TURSO_DATABASE_URL: await closedPortUrl() } }),
    startE2eWorker({ vars: { TURSO_DATABASE_URL: `http://127.0.0.1:${port}` } }),
  ]);
});

afterAll(async () => {
  await Promise.all([unreachable?.close(), overloaded?.close()]);
  overloadedServer.close();
});

describe.each([
  ['unreachable', () => unreachable],
  ['answering 503', () => overloaded],
])('with the database %s', (_, worker) => {
  it('answers a read 503 SERVICE_UNAVAILABLE naming the database, and logs why', async () => {
    const requestId = `e2e-db-down-read-${crypto.randomUUID()}`;
    const response = await worker().fetch(`/v1/users/${crypto.randomUUID()}`, {
      headers: { 'x-request-id': requestId },
    });
    const raw = await response.clone().text();
    const body = await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
    expect(body.error.details).toEqual({ backend: 'database' });
    expect(raw).not.toMatch(/libsql|hrana|fetch failed|127\.0\.0\.1/i);
    expect(await worker().logs.requestLine(requestId)).toMatchObject({
      status: 503,
      error: { code: 'SERVICE_UNAVAILABLE', backend: 'database', cause: expect.any(String) },
    });
  });

  it('refuses a registration with 503 rather than accepting what it could not store', async () => {
    const response = await call(worker(), 'POST', '/v1/auth/register', {
      body: newAccount('db-down'),
    });
    const body = await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
    expect(body.error.details).toEqual({ backend: 'database' });
  });
});
