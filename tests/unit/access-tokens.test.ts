// Access tokens as createAccessTokens signs and verifies them, and the JWT settings as the config
// parses them. The refusals as a client sees them (401 envelopes) are in auth-middleware.test.ts.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { AccessTokenError, createAccessTokens } from '../../src/modules/auth/access-tokens.ts';
import type { Clock } from '../../src/platform/clock.ts';
import { offlineDeps, testJwtKeys } from '../support/offline-deps.ts';

const subject = {
  userId: '00000000-0000-4000-8000-0000000000a1',
  role: 'user' as const,
  emailVerified: true,
  sessionId: '00000000-0000-4000-8000-0000000000f1',
};

function tokensAt(now: Date, overrides: Record<string, string> = {}) {
  const { config } = offlineDeps(overrides).deps;
  const clock: Clock = { now: () => now };
  return createAccessTokens(config, clock);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AccessTokenError);
  return (error as AccessTokenError).reason;
}

describe('access tokens', () => {
  const issuedAt = new Date('2026-06-01T12:00:00Z');

  it('carry the required claims and the first key id, and verify back to their subject', async () => {
    const tokens = tokensAt(issuedAt);
    const signed = await tokens.sign(subject);
    expect(decodeProtectedHeader(signed.token)).toEqual({
      alg: 'HS256',
      typ: 'JWT',
      kid: testJwtKeys[0].kid,
    });
    expect(decodeJwt(signed.token)).toEqual({
      sub: subject.userId,
      role: 'user',
      ev: true,
      sid: subject.sessionId,
      iss: 'nexus-edge',
      aud: 'nexus-edge-api',
      jti: signed.tokenId,
      iat: issuedAt.getTime() / 1000,
      exp: issuedAt.getTime() / 1000 + 15 * 60,
    });
    expect(signed.expiresAt).toEqual(new Date(issuedAt.getTime() + 15 * 60_000));
    await expect(tokens.verify(signed.token)).resolves.toEqual({
      ...subject,
      tokenId: signed.tokenId,
      issuedAt: issuedAt.getTime() / 1000,
      expiresAt: issuedAt.getTime() / 1000 + 15 * 60,
    });
  });

  it('are accepted within 30 s of clock skew past their expiry, and refused as expired after', async () => {
    const { token } = await tokensAt(issuedAt).sign(subject);
    const at = (seconds: number) => tokensAt(new Date(issuedAt.getTime() + seconds * 1000));
    await expect(at(15 * 60 + 29).verify(token)).resolves.toMatchObject({ userId: subject.userId });
    expect(await refusal(at(15 * 60 + 31).verify(token))).toBe('expired');
  });

  it('are refused when issued in the future beyond the tolerance', async () => {
    const { token } = await tokensAt(new Date(issuedAt.getTime() + 120_000)).sign(subject);
    expect(await refusal(tokensAt(issuedAt).verify(token))).toBe('invalid');
  });

  it('signed before a rotation still verify once the new key signs', async () => {
    const oldKeyOnly = `${testJwtKeys[1].kid}:${testJwtKeys[1].secret}`;
    const { token } = await tokensAt(issuedAt, { JWT_SIGNING_KEYS: oldKeyOnly }).sign(subject);
    await expect(tokensAt(issuedAt).verify(token)).resolves.toMatchObject(subject);
  });

  it('of another issuer or audience configuration are refused', async () => {
    const { token } = await tokensAt(issuedAt, { JWT_AUDIENCE: 'other-api' }).sign(subject);
    expect(await refusal(tokensAt(issuedAt).verify(token))).toBe('invalid');
    const other = await tokensAt(issuedAt, { JWT_ISSUER: 'other-issuer' }).sign(subject);
    expect(await refusal(tokensAt(issuedAt).verify(other.token))).toBe('invalid');
  });

  it('are peeked at without verification, and garbage peeks as nothing', async () => {
    const tokens = tokensAt(issuedAt);
    const signed = await tokens.sign(subject);
    expect(tokens.peek(signed.token)).toEqual({
      tokenId: signed.tokenId,
      sessionId: subject.sessionId,
      userId: subject.userId,
    });
    expect(tokens.peek('not-a-jwt')).toBeUndefined();
    expect(tokens.peek('a.b.c')).toBeUndefined();
  });
});

describe('JWT configuration', () => {
  const base = {
    TURSO_DATABASE_URL: 'http://127.0.0.1:9',
    UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
    UPSTASH_REDIS_REST_TOKEN: 'x',
    QSTASH_TOKEN: 'x',
    QSTASH_CURRENT_SIGNING_KEY: 'x',
    QSTASH_NEXT_SIGNING_KEY: 'x',
    PARTNER_SECRETS_KEY: 'x'.repeat(43),
  };
  const secret = 'a'.repeat(32);

  it('parses kid:secret pairs in order, durations in seconds, and defaults', () => {
    const config = parseConfig({
      ...base,
      JWT_SIGNING_KEYS: `new:${secret}:with-colon, old:${secret}`,
    });
    expect(config.JWT_SIGNING_KEYS).toEqual([
      { kid: 'new', secret: `${secret}:with-colon` },
      { kid: 'old', secret },
    ]);
    expect(config.ACCESS_TOKEN_TTL).toBe(900);
    expect(config.REFRESH_TOKEN_TTL).toBe(30 * 86_400);
    expect(
      parseConfig({ ...base, JWT_SIGNING_KEYS: `k:${secret}`, ACCESS_TOKEN_TTL: '5m' }),
    ).toMatchObject({ ACCESS_TOKEN_TTL: 300 });
  });

  it.each([
    ['missing', undefined, 'JWT_SIGNING_KEYS'],
    ['a secret under 32 bytes', 'k:short-secret', 'shorter than 32 bytes'],
    ['no kid', `:${secret}`, 'kid:secret'],
    ['a duplicate kid', `k:${secret},k:${secret}`, 'listed twice'],
  ])('stops start-up with %s, naming the variable', (_case, value, message) => {
    const env = value === undefined ? base : { ...base, JWT_SIGNING_KEYS: value };
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('refuses a malformed token lifetime', () => {
    expect(() =>
      parseConfig({ ...base, JWT_SIGNING_KEYS: `k:${secret}`, ACCESS_TOKEN_TTL: '15 minutes' }),
    ).toThrow('ACCESS_TOKEN_TTL');
  });
});
