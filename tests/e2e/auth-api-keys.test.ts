// API keys on the real Worker: created by a verified user, shown once, stored only as a hash, and
// refused when used beyond their scopes, after revocation or after expiry.
import { createHash } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  login,
  register,
  type Session,
  startIdentityWorker,
  tokenFromEmail,
} from './harness/identity.ts';

// Small, so the per-key limit is reached in a few requests; no other test uses a key this often.
const perKeyLimit = 3;
let worker: IdentityWorker;
let owner: Account & { session: Session };
let session: Session;

beforeAll(async () => {
  worker = await startIdentityWorker({ RATE_LIMIT_API_KEY: `${perKeyLimit}/1h` });
  owner = await register(worker, 'keys');
});

afterAll(async () => {
  await worker?.close();
});

interface CreatedKey {
  id: string;
  key: string;
  scopes: string[];
}

const createKey = (token: string, body: Record<string, unknown>) =>
  call(worker, 'POST', '/v1/api-keys', { token, body });

describe('creating a key', () => {
  it('needs a verified email: 403 EMAIL_NOT_VERIFIED until the link is followed, no refresh after', async () => {
    await expectErrorEnvelope(
      await createKey(owner.session.accessToken, { name: 'too early', scopes: ['profile:read'] }),
      403,
      'EMAIL_NOT_VERIFIED',
    );

    const token = await tokenFromEmail(worker.jobs, 'email.verification', owner.email);
    const confirmed = await call(worker, 'POST', '/v1/auth/verify-email/confirm', {
      body: { token },
    });
    expect(confirmed.status, await confirmed.clone().text()).toBeLessThan(300);
    await confirmed.arrayBuffer();

    // The access token from before the verification still says "not verified"; the key is made
    // all the same, without a refresh.
    const early = await createKey(owner.session.accessToken, {
      name: 'right after verifying',
      scopes: ['profile:read'],
    });
    expect((await dataOf<CreatedKey>(early, 201)).scopes).toEqual(['profile:read']);

    session = await login(worker, owner);
    expect(
      (await dataOf(await call(worker, 'GET', '/v1/me', { token: session.accessToken }), 200))
        .emailVerified,
    ).toBe(true);
  });

  it('returns the key once and stores only its SHA-256', async () => {
    const created = await dataOf<CreatedKey>(
      await createKey(session.accessToken, { name: 'reporting', scopes: ['profile:read'] }),
      201,
    );
    expect(created.key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);

    const { rows } = await worker.db.execute({
      sql: 'SELECT * FROM api_keys WHERE id = ?',
      args: [created.id],
    });
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(created.key);
    expect(stored).not.toContain(created.key.slice(3));
    expect(rows[0]?.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));

    // Neither the listing, nor Redis, nor the log has it either.
    const listing = await call(worker, 'GET', '/v1/api-keys', { token: session.accessToken });
    const listed = await listing.text();
    expect(listing.status).toBe(200);
    expect(listed).toContain(created.id);
    expect(listed).not.toContain(created.key);
    expect(listed).not.toMatch(/hash/i);

    await dataOf(await call(worker, 'GET', '/v1/me', { apiKey: created.key }), 200);
    const redis = new Redis({
      url: worker.stackEnv.UPSTASH_REDIS_REST_URL,
      token: worker.stackEnv.UPSTASH_REDIS_REST_TOKEN,
      automaticDeserialization: false,
    });
    for (const name of await redis.keys('*')) {
      expect(name).not.toContain(created.key);
      if ((await redis.type(name)) === 'string') {
        expect(String(await redis.get(name))).not.toContain(created.key);
      }
    }
    expect(JSON.stringify(worker.logs.lines)).not.toContain(created.key);
  });
});

describe('using a key', () => {
  it('authenticates within its scopes and is refused beyond them with 403', async () => {
    const { key } = await dataOf<CreatedKey>(
      await createKey(session.accessToken, { name: 'read only', scopes: ['profile:read'] }),
      201,
    );
    expect((await dataOf(await call(worker, 'GET', '/v1/me', { apiKey: key }), 200)).id).toBe(
      owner.id,
    );
    const write = await call(worker, 'PATCH', '/v1/me', {
      apiKey: key,
      body: { name: 'Renamed By Key' },
    });
    await expectErrorEnvelope(write, 403, 'SCOPE_MISSING');
  });

  it('is refused with 401 once revoked', async () => {
    const { id, key } = await dataOf<CreatedKey>(
      await createKey(session.accessToken, { name: 'to revoke', scopes: ['profile:read'] }),
      201,
    );
    await dataOf(await call(worker, 'GET', '/v1/me', { apiKey: key }), 200);

    const revoked = await call(worker, 'DELETE', `/v1/api-keys/${id}`, {
      token: session.accessToken,
    });
    expect(revoked.status).toBeLessThan(300);
    await revoked.arrayBuffer();
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { apiKey: key }),
      401,
      'API_KEY_INVALID',
    );
  });

  it('is refused with 401 once expired', async () => {
    const { id, key } = await dataOf<CreatedKey>(
      await createKey(session.accessToken, { name: 'short lived', scopes: ['profile:read'] }),
      201,
    );
    await worker.db.execute({
      sql: 'UPDATE api_keys SET expires_at = ? WHERE id = ?',
      args: [Date.now() - 60_000, id],
    });
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { apiKey: key }),
      401,
      'API_KEY_INVALID',
    );
  });

  it('is limited per key: over its allowance, 429 with Retry-After, whatever the address', async () => {
    const { key } = await dataOf<CreatedKey>(
      await createKey(session.accessToken, { name: 'busy', scopes: ['profile:read'] }),
      201,
    );
    for (let used = 1; used <= perKeyLimit; used += 1) {
      await dataOf(
        await call(worker, 'GET', '/v1/me', { apiKey: key, ip: `192.0.2.${used}` }),
        200,
      );
    }
    const refused = await call(worker, 'GET', '/v1/me', { apiKey: key, ip: '192.0.2.99' });
    const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ policy: 'apiKey' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner's session is not that key.
    await dataOf(await call(worker, 'GET', '/v1/me', { token: session.accessToken }), 200);
  });

  it('is refused with 401 when unknown', async () => {
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { apiKey: `sk_${'A'.repeat(43)}` }),
      401,
      'API_KEY_INVALID',
    );
  });
});
