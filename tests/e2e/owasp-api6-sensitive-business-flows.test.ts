// OWASP API6:2023, unrestricted access to sensitive business flows: the flows a script would run
// in bulk against the accounts API. Sign-ups from one address (or one IPv6 /64) stop at
// RATE_LIMIT_SIGNUP; reset emails stop at RATE_LIMIT_PASSWORD_RESET per address and
// RATE_LIMIT_ACCOUNT_EMAIL per account, however many addresses ask; verification emails stop at
// the account's cap; password guesses stop per address and account (RATE_LIMIT_AUTH), and a
// password sprayed over many accounts from one address stops at the general limit. Whether an
// email has an account shows in none of these answers, limited or not. The abuse policies run at
// their production settings; the general one is made small enough to reach in a test.
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, expectErrorEnvelope } from './harness/envelope.ts';
import { eventually, holdsFor } from './harness/eventually.ts';
import {
  call,
  dataOf,
  emailsTo,
  type IdentityWorker,
  newAccount,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';

const generalLimit = 40;
let worker: IdentityWorker;

beforeAll(async () => {
  worker = await startIdentityWorker({
    RATE_LIMIT_GENERAL: `${generalLimit}/15m`,
    RATE_LIMIT_SIGNUP: '5/1h',
    RATE_LIMIT_PASSWORD_RESET: '5/1h',
    RATE_LIMIT_ACCOUNT_EMAIL: '3/1h',
    RATE_LIMIT_AUTH: '5/15m',
  });
});

afterAll(async () => {
  await worker?.close();
});

/** A 429 envelope with Retry-After, naming the policy that refused. */
async function expectLimited(response: Response, policy: string): Promise<ErrorBody> {
  const retryAfter = Number(response.headers.get('retry-after'));
  const body = await expectErrorEnvelope(response, 429, 'RATE_LIMITED');
  expect(body.error.details).toMatchObject({ policy });
  expect(retryAfter).toBeGreaterThan(0);
  return body;
}

/** What an answer tells a client, less what differs on every request (ids, times). */
async function disclosed(response: Response) {
  const { meta: _meta, ...body } = (await response.json()) as Record<string, unknown>;
  const headers = [...response.headers.keys()].filter(
    (name) => !['x-request-id', 'traceparent', 'ratelimit-reset', 'retry-after'].includes(name),
  );
  return {
    status: response.status,
    body,
    headers: headers.map((name) => [name, response.headers.get(name)]),
  };
}

const emailCount = (type: string, to: string) => emailsTo(worker.jobs, type, to).length;

/** Exactly `count` emails of this type reach this address, and no more come for a second. */
async function expectEmailsSettleAt(type: string, to: string, count: number): Promise<void> {
  await eventually(`${count} ${type} emails delivered`, () =>
    emailCount(type, to) === count ? true : undefined,
  );
  await holdsFor(`no more ${type} emails`, () => emailCount(type, to) === count, 1_000);
}

describe('registration in bulk', () => {
  const signUp = (ip: string, account = newAccount('flood')) =>
    call(worker, 'POST', '/v1/auth/register', { body: account, ip });

  it('takes five accounts an hour from one address, then refuses any email alike', async () => {
    const ip = newClientIp();
    const taken = newAccount('flood');
    await dataOf(await signUp(ip, taken), 201);
    for (let i = 1; i < 5; i += 1) await dataOf(await signUp(ip), 201);

    const fresh = await expectLimited(await signUp(ip), 'signup');
    // Over the limit, a taken email gets the same 429 as a new one, not the 409 that would say
    // the address has an account.
    const again = await expectLimited(await signUp(ip, taken), 'signup');
    expect(again.error).toEqual(fresh.error);

    await dataOf(await signUp(newClientIp()), 201);
  });

  it('counts an IPv6 client by its /64, so rotating addresses within it gains nothing', async () => {
    for (let host = 1; host <= 5; host += 1) {
      await dataOf(await signUp(`2001:db8:6:1::${host}`), 201);
    }
    await expectLimited(await signUp('2001:db8:6:1:ffff:ffff:ffff:ffff'), 'signup');
    await dataOf(await signUp('2001:db8:6:2::1'), 201);
  });
});

describe('password reset requests', () => {
  const forgot = (email: string, ip: string) =>
    call(worker, 'POST', '/v1/auth/password/forgot', { body: { email }, ip });

  it('answer an unknown email exactly as a known one', async () => {
    const known = await register(worker, 'reset-known');
    const unknown = newAccount('reset-unknown').email;
    const [forKnown, forUnknown] = await Promise.all([
      forgot(known.email, newClientIp()),
      forgot(unknown, newClientIp()),
    ]);
    expect(forKnown.status).toBe(202);
    expect(await disclosed(forUnknown)).toEqual(await disclosed(forKnown));
    await expectEmailsSettleAt('email.password-reset', known.email, 1);
  });

  it('stop at five an hour per address, for known and unknown emails alike', async () => {
    const known = await register(worker, 'reset-address');
    const unknown = newAccount('reset-address-unknown').email;
    const ip = newClientIp();
    for (let i = 0; i < 5; i += 1) {
      const response = await forgot(i % 2 === 0 ? known.email : unknown, ip);
      expect(response.status).toBe(202);
      await response.arrayBuffer();
    }
    const limitedKnown = await forgot(known.email, ip);
    const limitedUnknown = await forgot(unknown, ip);
    expect(limitedKnown.status).toBe(429);
    expect(await disclosed(limitedUnknown)).toEqual(await disclosed(limitedKnown));
    await expectLimited(await forgot(unknown, ip), 'passwordReset');
  });

  it('send one account three emails an hour, however many addresses ask and however written', async () => {
    const user = await register(worker, 'reset-account');
    const spellings = [
      user.email,
      user.email.toUpperCase(),
      `${user.email[0]?.toUpperCase()}${user.email.slice(1)}`,
    ];
    for (let i = 0; i < 8; i += 1) {
      const response = await forgot(spellings[i % spellings.length] ?? user.email, newClientIp());
      expect(response.status).toBe(202);
      await response.arrayBuffer();
    }
    await expectEmailsSettleAt('email.password-reset', user.email, 3);
  });
});

describe('verification email requests', () => {
  it('need a session: nobody can have one sent to an address they do not hold', async () => {
    const response = await call(worker, 'POST', '/v1/auth/verify-email/request', {
      ip: newClientIp(),
    });
    await expectErrorEnvelope(response, 401, 'UNAUTHORIZED');
  });

  it('stop at three an hour per account, from however many addresses', async () => {
    const user = await register(worker, 'verify-resend');
    const resend = () =>
      call(worker, 'POST', '/v1/auth/verify-email/request', {
        token: user.session.accessToken,
        ip: newClientIp(),
      });
    for (let i = 0; i < 3; i += 1) {
      const response = await resend();
      expect(response.status, await response.clone().text()).toBe(202);
      await response.arrayBuffer();
    }
    await expectLimited(await resend(), 'accountEmail');
    await expectLimited(await resend(), 'accountEmail');
    // The one sent at registration, and the three asked for.
    await expectEmailsSettleAt('email.verification', user.email, 4);
  });
});

describe('password guessing', () => {
  const attempt = (email: string, password: string, ip: string) =>
    call(worker, 'POST', '/v1/auth/login', { body: { email, password }, ip });

  it('stops one address at five wrong passwords for an account, even before the right one', async () => {
    const user = await register(worker, 'guessed');
    const ip = newClientIp();
    for (let i = 0; i < 5; i += 1) {
      await expectErrorEnvelope(
        await attempt(user.email, `Wrong#Guess${i}Pw`, ip),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    // The right password now gets the same 429: a guesser cannot tell it found it.
    await expectLimited(await attempt(user.email, user.password, ip), 'auth');
    await expectLimited(await attempt(user.email.toUpperCase(), `Wrong#Guess9Pw`, ip), 'auth');
    // The owner, elsewhere, still signs in.
    await dataOf(await attempt(user.email, user.password, newClientIp()), 200);
  });

  it('answers guesses at an unknown email as at a known one, before and at the limit', async () => {
    const known = await register(worker, 'guessed-known');
    const unknown = newAccount('guessed-unknown').email;
    const [knownIp, unknownIp] = [newClientIp(), newClientIp()];
    for (let i = 0; i < 6; i += 1) {
      const [forKnown, forUnknown] = await Promise.all([
        attempt(known.email, `Wrong#Guess${i}Pw`, knownIp),
        attempt(unknown, `Wrong#Guess${i}Pw`, unknownIp),
      ]);
      expect(forKnown.status).toBe(i < 5 ? 401 : 429);
      expect(await disclosed(forUnknown)).toEqual(await disclosed(forKnown));
    }
  });

  it('stops one address spraying a password over many accounts at the general limit', async () => {
    const ip = newClientIp();
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i <= generalLimit + 2 && refusal === undefined; i += 1) {
      const response = await attempt(newAccount('sprayed').email, 'Quartz#Meadow1Lantern', ip);
      statuses.push(response.status);
      if (response.status === 429) refusal = response;
      else await response.arrayBuffer();
    }
    if (refusal === undefined) throw new Error(`never refused: ${statuses.join(', ')}`);
    await expectLimited(refusal, 'general');
    // Every guess before the refusal was judged; a token comes back every 22.5 s, so a slow
    // machine may see one more than the limit.
    expect(statuses.slice(0, -1)).toEqual(statuses.slice(0, -1).map(() => 401));
    expect(statuses.length - 1).toBeGreaterThanOrEqual(generalLimit);
  });
});
