// Access and refresh tokens on the real Worker. The forged access tokens are made with jose from a
// real token's claims and the keys this deployment was given, so each one differs from a good
// token in exactly the way its name says.
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  type Account,
  call,
  dataOf,
  type IdentityWorker,
  jwtAudience,
  jwtIssuer,
  jwtKeys,
  login,
  register,
  type Session,
  sessionOf,
  signAccessToken,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;
let account: Account & { session: Session };

beforeAll(async () => {
  worker = await startIdentityWorker();
  account = await register(worker, 'tokens');
});

afterAll(async () => {
  await worker?.close();
});

const me = (token: string) => call(worker, 'GET', '/v1/me', { token });

async function expectRefused(token: string) {
  const response = await me(token);
  await expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
}

const [currentKey, previousKey] = jwtKeys;

describe('a forged or stale access token', () => {
  let claims: JWTPayload;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    const { accessToken } = await login(worker, account);
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'HS256', kid: currentKey.kid });
    claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({
      sub: account.id,
      iss: jwtIssuer,
      aud: jwtAudience,
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
    });
  });

  it('is accepted when it is re-signed unchanged, with either key of the rotation', async () => {
    // The control: the forgeries below fail for their one defect, not for the way they are made.
    for (const key of [currentKey, previousKey]) {
      const response = await me(await signAccessToken(claims, key));
      expect((await dataOf(response, 200)).id).toBe(account.id);
    }
  });

  it('is refused when expired, beyond the clock tolerance', async () => {
    const hourAgo = nowSeconds() - 3_600;
    await expectRefused(await signAccessToken({ ...claims, iat: hourAgo - 900, exp: hourAgo }));
  });

  it('is refused when its payload was changed after signing', async () => {
    const good = await signAccessToken(claims);
    const [header, , signature] = good.split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...claims, sub: crypto.randomUUID(), role: 'admin' }),
    ).toString('base64url');
    await expectRefused(`${header}.${payload}.${signature}`);
  });

  it('is refused when signed with another secret under a known kid', async () => {
    await expectRefused(
      await signAccessToken(claims, { secret: 'an-attacker-secret-that-is-long-enough-too' }),
    );
  });

  it('is refused with alg "none"', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT', kid: currentKey.kid })}.${encode(claims)}.`;
    await expectRefused(unsigned);
  });

  it('is refused for another audience', async () => {
    await expectRefused(await signAccessToken({ ...claims, aud: 'some-other-api' }));
  });

  it('is refused from another issuer', async () => {
    await expectRefused(await signAccessToken({ ...claims, iss: 'https://issuer.example.org' }));
  });

  it('is refused under an unknown kid, even with a known secret', async () => {
    await expectRefused(
      await signAccessToken(claims, { kid: 'retired-key', secret: currentKey.secret }),
    );
  });

  it('is refused without a jti', async () => {
    const { jti: _jti, ...withoutJti } = claims;
    await expectRefused(await signAccessToken(withoutJti));
  });
});

describe('logout', () => {
  it('refuses the same access token at once', async () => {
    const session = await login(worker, account);
    await dataOf(await me(session.accessToken), 200);

    const loggedOut = await call(worker, 'POST', '/v1/auth/logout', {
      token: session.accessToken,
      body: { refreshToken: session.refreshToken },
    });
    expect(loggedOut.status).toBeLessThan(300);
    await loggedOut.arrayBuffer();

    await expectRefused(session.accessToken);
    // The refresh token went with it.
    await expectErrorEnvelope(
      await call(worker, 'POST', '/v1/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      }),
      401,
      'UNAUTHORIZED',
    );
  });
});

describe('a refresh token', () => {
  const refresh = (refreshToken: string) =>
    call(worker, 'POST', '/v1/auth/refresh', { body: { refreshToken } });

  it('is rotated on use; used twice, its whole family is revoked', async () => {
    const first = await login(worker, account);

    const rotated = sessionOf(await dataOf(await refresh(first.refreshToken), 200));
    expect(rotated.refreshToken).not.toBe(first.refreshToken);
    await dataOf(await me(rotated.accessToken), 200);

    // The stolen copy comes back: refused, and the legitimate successor dies with it.
    await expectErrorEnvelope(await refresh(first.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    await expectErrorEnvelope(await refresh(rotated.refreshToken), 401, 'UNAUTHORIZED');
  });

  it('is refused when unknown', async () => {
    await expectErrorEnvelope(
      await refresh('bm90LWEtcmVhbC1yZWZyZXNoLXRva2VuLWF0LWFsbC0xMjM0'),
      401,
      'UNAUTHORIZED',
    );
  });
});
