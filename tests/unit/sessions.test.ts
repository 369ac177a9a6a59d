// Sessions on a local stack (libSQL migrated, Redis database 12): refresh tokens stored hashed,
// rotated on every use, a reused one revoking its family, rotation safe under concurrent use.
import { createHash, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local-stack/stack.ts';
import { refreshTokens, users } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { AppError } from '../../src/lib/errors.ts';
import {
  issueSession,
  revokeAllSessions,
  revokeSession,
  rotateRefreshToken,
  type Session,
  sessionPrincipal,
} from '../../src/modules/auth/sessions.ts';
import { createDatabase, type Database } from '../../src/platform/database.ts';
import { appOnStack, startTestStack, testDatabase } from '../support/test-stack.ts';

let stack: LocalStack;
let db: Database;
let deps: Deps;

function newUser() {
  return {
    id: randomUUID(),
    email: `session-${randomUUID()}@example.com`,
    name: 'Session User',
    role: 'user' as const,
    emailVerifiedAt: null,
  };
}

async function createUser() {
  const user = newUser();
  await db.insert(users).values(user);
  return user;
}

beforeAll(async () => {
  stack = await startTestStack({ redisDb: 12, migrate: true });
  db = createDatabase(stack.env.TURSO_DATABASE_URL, stack.env.TURSO_AUTH_TOKEN, testDatabase);
  ({ deps } = appOnStack(stack.env));
});

afterAll(async () => {
  await stack?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function refusalOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function rowsOfUser(userId: string) {
  return db.select().from(refreshTokens).where(eq(refreshTokens.userId, userId));
}

describe('issueSession', () => {
  it('returns an access token and a 256-bit refresh token, storing only its SHA-256', async () => {
    const user = await createUser();
    const before = Date.now();
    const session = await issueSession(deps, user, { ip: '203.0.113.9' });
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.accessTokenExpiresAt.getTime()).toBeGreaterThanOrEqual(before + 899_000);
    expect(session.refreshTokenExpiresAt.getTime()).toBeGreaterThanOrEqual(
      before + 30 * 86_400_000,
    );
    const [row] = await rowsOfUser(user.id);
    expect(row).toMatchObject({
      tokenHash: sha256(session.refreshToken),
      usedAt: null,
      revokedAt: null,
    });
    expect(JSON.stringify(await rowsOfUser(user.id))).not.toContain(session.refreshToken);
    await expect(deps.tokens.verify(session.accessToken)).resolves.toMatchObject({
      userId: user.id,
      sessionId: row?.familyId,
      emailVerified: false,
    });
  });
});

describe('rotateRefreshToken', () => {
  it('exchanges a refresh token for a new session of the same family, once', async () => {
    const user = await createUser();
    const first = await issueSession(deps, user);
    const second = await rotateRefreshToken(deps, first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const verified = await deps.tokens.verify(second.accessToken);
    expect(verified.userId).toBe(user.id);

    const rows = await rowsOfUser(user.id);
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((row) => row.familyId))).toEqual(new Set([verified.sessionId]));
    expect(rows.find((row) => row.tokenHash === sha256(first.refreshToken))?.usedAt).toBeInstanceOf(
      Date,
    );

    const third = await rotateRefreshToken(deps, second.refreshToken);
    expect((await deps.tokens.verify(third.accessToken)).sessionId).toBe(verified.sessionId);
  });

  it('revokes the whole family when a used token comes back: 401 REFRESH_TOKEN_REUSED', async () => {
    const user = await createUser();
    const stolen = await issueSession(deps, user);
    const rotated = await rotateRefreshToken(deps, stolen.refreshToken);
    const unrelated = await issueSession(deps, user);

    const reuse = await refusalOf(rotateRefreshToken(deps, stolen.refreshToken));
    expect(reuse).toMatchObject({ code: 'REFRESH_TOKEN_REUSED', status: 401 });
    // The legitimate holder's newer token went with the family...
    expect(await refusalOf(rotateRefreshToken(deps, rotated.refreshToken))).toMatchObject({
      code: 'UNAUTHORIZED',
      details: { reason: 'revoked' },
    });
    // ...but another sign-in of the same user is another family.
    await expect(rotateRefreshToken(deps, unrelated.refreshToken)).resolves.toMatchObject({
      refreshToken: expect.any(String),
    });
  });

  it('lets exactly one of two concurrent uses of one token succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const session = await issueSession(deps, await createUser());
      const results = await Promise.allSettled([
        rotateRefreshToken(deps, session.refreshToken),
        rotateRefreshToken(deps, session.refreshToken),
      ]);
      const succeeded = results.filter((result) => result.status === 'fulfilled');
      const failed = results.filter((result) => result.status === 'rejected');
      expect(succeeded).toHaveLength(1);
      expect(failed).toHaveLength(1);
      expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ status: 401 });
    }
  });

  it('refuses an unknown token with 401 UNAUTHORIZED', async () => {
    expect(await refusalOf(rotateRefreshToken(deps, 'x'.repeat(43)))).toMatchObject({
      code: 'UNAUTHORIZED',
      details: { reason: 'unknown' },
    });
  });

  it('refuses an expired token with 401 UNAUTHORIZED', async () => {
    const session = await issueSession(deps, await createUser());
    const later = { ...deps, clock: { now: () => new Date(Date.now() + 31 * 86_400_000) } };
    expect(await refusalOf(rotateRefreshToken(later, session.refreshToken))).toMatchObject({
      code: 'UNAUTHORIZED',
      details: { reason: 'expired' },
    });
  });

  it('refuses the tokens of a deleted user', async () => {
    const user = await createUser();
    const session = await issueSession(deps, user);
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, user.id));
    expect(await refusalOf(rotateRefreshToken(deps, session.refreshToken))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });
});

describe('revoking sessions', () => {
  const principalOf = async (session: Session) =>
    sessionPrincipal(await deps.tokens.verify(session.accessToken));

  it("logout revokes the access token's family and the given refresh token's", async () => {
    const user = await createUser();
    const current = await issueSession(deps, user);
    const presented = await issueSession(deps, user);
    const kept = await issueSession(deps, user);
    await revokeSession(deps, await principalOf(current), presented.refreshToken);

    for (const session of [current, presented]) {
      expect(await refusalOf(rotateRefreshToken(deps, session.refreshToken))).toMatchObject({
        code: 'UNAUTHORIZED',
        details: { reason: 'revoked' },
      });
    }
    await expect(rotateRefreshToken(deps, kept.refreshToken)).resolves.toBeDefined();
  });

  it("ignores a refresh token of another user's at logout", async () => {
    const [user, other] = [await createUser(), await createUser()];
    const session = await issueSession(deps, user);
    const othersSession = await issueSession(deps, other);
    await revokeSession(deps, await principalOf(session), othersSession.refreshToken);
    await expect(rotateRefreshToken(deps, othersSession.refreshToken)).resolves.toBeDefined();
  });

  it('revokeAllSessions ends every refresh token of the user', async () => {
    const user = await createUser();
    const sessions = [await issueSession(deps, user), await issueSession(deps, user)];
    await revokeAllSessions(deps, user.id);
    for (const session of sessions) {
      expect(await refusalOf(rotateRefreshToken(deps, session.refreshToken))).toMatchObject({
        code: 'UNAUTHORIZED',
      });
    }
  });
});
