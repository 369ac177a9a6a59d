// The login rate limit on the real Worker, at its production setting (5 failed attempts per 15
// minutes per address and email): the 6th failure is refused with 429 and Retry-After, and
// successful logins in between do not use up the allowance.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import {
  call,
  dataOf,
  type IdentityWorker,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';

const windowSeconds = 15 * 60;
let worker: IdentityWorker;

beforeAll(async () => {
  worker = await startIdentityWorker({ RATE_LIMIT_AUTH: '5/15m' });
});

afterAll(async () => {
  await worker?.close();
});

const attempt = (email: string, password: string, ip: string) =>
  call(worker, 'POST', '/v1/auth/login', { body: { email, password }, ip });

it('refuses the 6th failed login in the window with 429 and Retry-After; successes do not count', async () => {
  const { email, password } = await register(worker, 'limit');
  const ip = newClientIp();
  const wrong = `${password}-wrong`;

  for (let failure = 1; failure <= 4; failure += 1) {
    await expectErrorEnvelope(await attempt(email, wrong, ip), 401, 'INVALID_CREDENTIALS');
  }
  // Were these counted, the allowance would be gone before the 5th failure.
  for (let success = 1; success <= 3; success += 1) {
    await dataOf(await attempt(email, password, ip), 200);
  }
  await expectErrorEnvelope(await attempt(email, wrong, ip), 401, 'INVALID_CREDENTIALS');

  const refused = await attempt(email, wrong, ip);
  const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
  const retryAfter = Number(refused.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(body.error.details).toMatchObject({ policy: 'auth', retryAfterSeconds: retryAfter });
});

it('counts each address and email on its own', async () => {
  const { email, password } = await register(worker, 'limit-other');
  const guesser = newClientIp();
  for (let failure = 1; failure <= 5; failure += 1) {
    await expectErrorEnvelope(
      await attempt(email, 'Wrong#Guess99x', guesser),
      401,
      'INVALID_CREDENTIALS',
    );
  }
  await expectErrorEnvelope(await attempt(email, 'Wrong#Guess99x', guesser), 429, 'RATE_LIMITED');
  // The owner, from elsewhere, is not locked out by someone guessing their password.
  await dataOf(await attempt(email, password, newClientIp()), 200);
});

it('answers an unknown email exactly like a wrong password', async () => {
  const response = await attempt('nobody-here@e2e.test', 'Quartz#Meadow1Lantern', newClientIp());
  const body = await expectErrorEnvelope(response, 401, 'INVALID_CREDENTIALS');
  const known = await register(worker, 'limit-known');
  const wrongPassword = await expectErrorEnvelope(
    await attempt(known.email, 'Quartz#Meadow1Lantern-no', newClientIp()),
    401,
    'INVALID_CREDENTIALS',
  );
  expect(body.error.message).toBe(wrongPassword.error.message);
});
