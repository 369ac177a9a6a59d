// The first database-backed route on the real Worker: GET /v1/users/{id} reads the migrated,
// seeded local libSQL database (through the cache) and shows the public profile only.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedDatabase, seedUsers } from '../../src/entries/seed.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { type E2eWorker, startE2eWorker } from './harness/worker.ts';

let worker: E2eWorker;

beforeAll(async () => {
  worker = await startE2eWorker();
  await seedDatabase(worker.stackEnv.TURSO_DATABASE_URL, worker.stackEnv.TURSO_AUTH_TOKEN);
});

afterAll(async () => {
  await worker?.close();
});

function seeded(email: string) {
  const user = seedUsers.find((candidate) => candidate.email === email);
  if (user === undefined) throw new Error(`no seeded user ${email}`);
  return user;
}

it('answers a user with the public profile and nothing private', async () => {
  const grace = seeded('grace@example.com');
  const response = await worker.fetch(`/v1/users/${grace.id}`);
  expect(response.status).toBe(200);
  const raw = await response.text();
  const body = JSON.parse(raw);
  expect(body).toEqual({
    success: true,
    data: {
      id: grace.id,
      name: grace.name,
      avatar: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    },
    meta: expect.objectContaining({ requestId: response.headers.get('x-request-id') }),
  });
  expect(raw).not.toContain(grace.email);
  expect(raw).not.toContain('role');
});

it('serves a repeated read from the cache, as its log line shows', async () => {
  const alan = seeded('alan@example.com');
  const read = async (requestId: string) => {
    const response = await worker.fetch(`/v1/users/${alan.id}`, {
      headers: { 'x-request-id': requestId },
    });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: unknown };
    const { cache } = await worker.logs.requestLine(requestId);
    return { data, cache };
  };

  const first = await read('e2e-users-read-00');
  expect(first.cache).toBe('miss');
  // The cache is filled after the response (waitUntil), so the very next read may still miss;
  // within a few reads it must hit, and answer the same.
  let later = await read('e2e-users-read-01');
  for (let attempt = 2; later.cache !== 'hit' && attempt < 20; attempt += 1) {
    expect(later.cache).toBe('miss');
    later = await read(`e2e-users-read-${String(attempt).padStart(2, '0')}`);
  }
  expect(later).toEqual({ data: first.data, cache: 'hit' });
});

it('answers 404 for a soft-deleted user, as for one that never existed', async () => {
  const deleted = seeded('deleted@example.com');
  await expectErrorEnvelope(await worker.fetch(`/v1/users/${deleted.id}`), 404, 'NOT_FOUND');
  await expectErrorEnvelope(
    await worker.fetch('/v1/users/7d1f3a2e-9c4b-4e8a-b6d5-0f2e1c3a4b5d'),
    404,
    'NOT_FOUND',
  );
});

it('refuses an id that is not a UUID with 422 naming the field', async () => {
  const response = await worker.fetch('/v1/users/not-a-uuid');
  const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  expect(body.error.details).toMatchObject({
    target: 'param',
    fields: [expect.objectContaining({ path: 'id' })],
  });
});
