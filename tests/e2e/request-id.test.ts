// One id per request, on the response and in the request's log line: a caller's well-formed id is
// kept so a call can be followed across services; anything else is replaced.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker();
});

afterAll(async () => {
  await worker?.close();
});

const echo = (headers: Record<string, string> = {}) =>
  worker.fetch('/diagnostics/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"message":"ping","count":1}',
  });

it('keeps a well-formed incoming X-Request-Id on the response, in meta and in the log line', async () => {
  const id = 'client-trace:0a1b2c3d.e4';
  const response = await echo({ 'x-request-id': id });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-request-id')).toBe(id);
  expect(await response.json()).toMatchObject({ meta: { requestId: id } });

  const line = await worker.logs.requestLine(id);
  expect(line).toEqual(
    expect.objectContaining({
      level: 'info',
      msg: 'request',
      requestId: id,
      method: 'POST',
      path: '/diagnostics/echo',
      status: 200,
      durationMs: expect.any(Number),
    }),
  );
  expect(line.durationMs).toBeGreaterThanOrEqual(0);
});

it.each([
  // Not hex: a generated id in another log line cannot contain it by chance.
  ['too short', 'zq7'],
  ['with spaces', 'spaces are not allowed here'],
  ['with markup', '<script>alert(1)</script>'],
  ['too long', 'a'.repeat(129)],
])('replaces a malformed incoming id (%s) with a fresh one everywhere', async (_, malformed) => {
  const response = await echo({ 'x-request-id': malformed });
  const id = response.headers.get('x-request-id');
  expect(id).toMatch(uuid);
  expect(await response.json()).toMatchObject({ meta: { requestId: id } });
  const line = await worker.logs.requestLine(id ?? '');
  expect(line).toMatchObject({ method: 'POST', path: '/diagnostics/echo', status: 200 });
  expect(JSON.stringify(worker.logs.lines)).not.toContain(malformed);
});

it('generates an id when none is sent, and gives each request its own', async () => {
  const first = await worker.fetch('/no/such/route');
  const second = await worker.fetch('/no/such/route');
  const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
  expect(ids[0]).toMatch(uuid);
  expect(ids[1]).toMatch(uuid);
  expect(ids[0]).not.toBe(ids[1]);
  for (const [index, response] of [first, second].entries()) {
    expect(await response.json()).toMatchObject({ meta: { requestId: ids[index] } });
    expect(await worker.logs.requestLine(ids[index] ?? '')).toMatchObject({
      method: 'GET',
      path: '/no/such/route',
      status: 404,
    });
  }
});
