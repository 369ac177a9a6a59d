// OWASP API2:2023, broken authentication, on the real Worker: access tokens forged in each way an
// attacker would try (no signature, another algorithm, another key, stale or foreign claims), and
// real ones after the session they belong to has ended; a stolen refresh token used twice; a
// password guessed until the login limiter locks; API keys malformed or revoked. Each forgery is
// sent to an administrator's route with the role raised to admin, so a token that got through
// would show as a 200, not as a subtle difference.
import { decodeJwt, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  jwtKeys,
  login,
  newClientIp,
  type Session,
  sessionOf,
  signAccessToken,
  startIdentityWorker,
} from './harness/identity.ts';
import { type Actor, createApiKey, newActor, serverFailures } from './harness/owasp.ts';

let worker: IdentityWorker;
let user: Actor;

beforeAll(async () => {
  worker = await startIdentityWorker();
  user = await newActor(worker, 'authn');
});

afterAll(async () => {
  await worker?.close();
});

const [currentKey] = jwtKeys;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

const adminList = (token: string) => call(worker, 'GET', '/v1/admin/users', { token, ip: user.ip });

async function expectRefusedToken(response: Awaited<ReturnType<typeof adminList>>) {
  await expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="nexus-edge"/);
}

describe('a forged access token, its role raised to admin', () => {
  let claims: JWTPayload;

  beforeAll(async () => {
    claims = { ...decodeJwt((await login(worker, user)).accessToken), role: 'admin' };
  });

  it('is taken when signed with the deployment’s own key: the control', async () => {
    // What every forgery below lacks is the key or a claim, nothing else.
    expect((await adminList(await signAccessToken(claims))).status).toBe(200);
  });

  it('is refused with alg "none" and no signature', async () => {
    const header = { alg: 'none', typ: 'JWT', kid: currentKey.kid };
    await expectRefusedToken(await adminList(`${base64url(header)}.${base64url(claims)}.`));
  });

  it('is refused signed RS256 with a key pair of the attacker’s, under a configured kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: currentKey.kid })
      .sign(privateKey);
    await expectRefusedToken(await adminList(token));
  });

  it('is refused signed HS256 with a public key as the secret', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const token = await signAccessToken(claims, { secret: await exportSPKI(publicKey) });
    await expectRefusedToken(await adminList(token));
  });

  it('is refused signed HS512 with the deployment’s own secret: one algorithm is allowed', async () => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: currentKey.kid })
      .sign(new TextEncoder().encode(currentKey.secret));
    await expectRefusedToken(await adminList(token));
  });

  it('is refused once expired', async () => {
    const hourAgo = nowSeconds() - 3_600;
    await expectRefusedToken(
      await adminList(await signAccessToken({ ...claims, iat: hourAgo - 900, exp: hourAgo })),
    );
  });

  it('is refused for another audience and from another issuer', async () => {
    await expectRefusedToken(
      await adminList(await signAccessToken({ ...claims, aud: 'other-api' })),
    );
    await expectRefusedToken(
      await adminList(await signAccessToken({ ...claims, iss: 'https://issuer.example.org' })),
    );
  });

  it('is refused under a kid that is not configured, whatever its secret', async () => {
    for (const secret of [currentKey.secret, 'an-attacker-secret-that-is-long-enough-too']) {
      await expectRefusedToken(
        await adminList(await signAccessToken(claims, { kid: 'e2e-2025-unknown', secret })),
      );
    }
  });

  it('is refused with its payload swapped after signing', async () => {
    const [header, , signature] = (await signAccessToken({ ...claims, role: 'user' })).split('.');
    await expectRefusedToken(await adminList(`${header}.${base64url(claims)}.${signature}`));
  });
});

describe('a real session after it ended', () => {
  const me = (token: string) => call(worker, 'GET', '/v1/me', { token, ip: user.ip });
  const refresh = (refreshToken: string) =>
    call(worker, 'POST', '/v1/auth/refresh', { body: { refreshToken }, ip: user.ip });

  it('is refused after logout: the access token and the refresh token', async () => {
    const session = await login(worker, user);
    await dataOf(await me(session.accessToken), 200);
    const loggedOut = await call(worker, 'POST', '/v1/auth/logout', {
      token: session.accessToken,
      body: { refreshToken: session.refreshToken },
      ip: user.ip,
    });
    expect(loggedOut.status).toBe(204);
    const refused = await expectErrorEnvelope(await me(session.accessToken), 401, 'UNAUTHORIZED');
    expect(refused.error.details).toEqual({ reason: 'revoked' });
    await expectErrorEnvelope(await refresh(session.refreshToken), 401, 'UNAUTHORIZED');
  });

  it('is refused after a password change: every earlier session, on every device', async () => {
    const changer = await newActor(worker, 'authn-change');
    const otherDevice = await login(worker, changer);
    const newPassword = 'Harbor!Violet42Compass';
    const changed = await call(worker, 'POST', '/v1/auth/password/change', {
      token: changer.token,
      body: { currentPassword: changer.password, newPassword },
      ip: changer.ip,
    });
    const fresh = sessionOf(await dataOf(changed, 200));

    for (const token of [changer.token, otherDevice.accessToken]) {
      await expectErrorEnvelope(await me(token), 401, 'UNAUTHORIZED');
    }
    for (const refreshToken of [changer.refreshToken, otherDevice.refreshToken]) {
      await expectErrorEnvelope(await refresh(refreshToken), 401, 'UNAUTHORIZED');
    }
    await expectErrorEnvelope(
      await call(worker, 'POST', '/v1/auth/login', {
        body: { email: changer.email, password: changer.password },
        ip: newClientIp(),
      }),
      401,
      'INVALID_CREDENTIALS',
    );
    expect((await dataOf<{ id: string }>(await me(fresh.accessToken), 200)).id).toBe(changer.id);
  });

  it('ends its whole family when a used refresh token comes back, and no other session', async () => {
    const stolen = await login(worker, user);
    const otherSession = await login(worker, user);
    const rotated: Session = sessionOf(await dataOf(await refresh(stolen.refreshToken), 200));

    await expectErrorEnvelope(await refresh(stolen.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    await expectErrorEnvelope(await refresh(rotated.refreshToken), 401, 'UNAUTHORIZED');
    // The family's access tokens may be in the thief's hands too.
    for (const token of [stolen.accessToken, rotated.accessToken]) {
      await expectErrorEnvelope(await me(token), 401, 'UNAUTHORIZED');
    }
    await dataOf(await me(otherSession.accessToken), 200);
    await dataOf(await refresh(otherSession.refreshToken), 200);
  });
});

describe('a password guessed from one address', () => {
  it('locks after five wrong guesses with 429 and Retry-After, the right password included', async () => {
    const target = await newActor(worker, 'authn-guessed');
    const guesser = newClientIp();
    const guess = (password: string) =>
      call(worker, 'POST', '/v1/auth/login', {
        body: { email: target.email, password },
        ip: guesser,
      });

    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await expectErrorEnvelope(await guess(`Wrong#Guess${attempt}x`), 401, 'INVALID_CREDENTIALS');
    }
    for (const password of ['Wrong#Guess6x', target.password]) {
      const locked = await guess(password);
      const body = await expectErrorEnvelope(locked, 429, 'RATE_LIMITED');
      expect(body.error.details).toMatchObject({ policy: 'auth' });
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // Nothing was issued to the guesser, and the account holder elsewhere is not locked out.
    const { rows } = await worker.db.execute({
      sql: 'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?',
      args: [target.id],
    });
    expect(Number(rows[0]?.n)).toBe(1);
    await login(worker, { ...target, ip: newClientIp() });
  });
});

describe('an API key', () => {
  const me = (apiKey: string) => call(worker, 'GET', '/v1/me', { apiKey, ip: user.ip });

  it.each([
    ['without its prefix', 'A'.repeat(46)],
    ['too short', 'sk_abc'],
    ['with a character outside base64url', `sk_${'A'.repeat(42)}=`],
    ['well formed but unknown', `sk_${'A'.repeat(43)}`],
    ['an access token instead', () => user.token],
  ])('is refused with 401 API_KEY_INVALID when %s', async (_what, apiKey) => {
    const key = typeof apiKey === 'string' ? apiKey : apiKey();
    await expectErrorEnvelope(await me(key), 401, 'API_KEY_INVALID');
  });

  it('is refused with 401 API_KEY_INVALID once revoked, exactly as an unknown key', async () => {
    const created = await createApiKey(worker, user, ['profile:read']);
    await dataOf(await me(created.key), 200);
    await dataOf(
      await call(worker, 'DELETE', `/v1/api-keys/${created.id}`, {
        token: user.token,
        ip: user.ip,
      }),
      200,
    );
    const revoked = await expectErrorEnvelope(await me(created.key), 401, 'API_KEY_INVALID');
    const unknown = await expectErrorEnvelope(
      await me(`sk_${'B'.repeat(43)}`),
      401,
      'API_KEY_INVALID',
    );
    expect(revoked.error).toEqual(unknown.error);
  });

  it('is not taken as a bearer token', async () => {
    const created = await createApiKey(worker, user, ['profile:read']);
    await expectErrorEnvelope(
      await call(worker, 'GET', '/v1/me', { token: created.key, ip: user.ip }),
      401,
      'UNAUTHORIZED',
    );
  });
});

it('answered none of it with a 5xx, and logged no error', () => {
  expect(serverFailures(worker)).toEqual([]);
});
