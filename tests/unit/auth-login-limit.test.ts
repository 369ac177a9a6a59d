// The failed-login limit under load, as a client sees it: the guess is counted before the password
// is checked, so parallel guesses cannot outrun the count, and a successful login gives its unit
// back, so only wrong passwords use up the allowance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthApp,
  type AuthStack,
  authApp,
  dataOf,
  errorOf,
  newIp,
  registerAccount,
  startAuthStack,
} from '../support/auth-flows.ts';
import { breakRedisRequests, type RedisRequest } from '../support/redis-faults.ts';

let auth: AuthStack;

beforeAll(async () => {
  auth = await startAuthStack();
});

afterAll(async () => {
  await auth?.close();
});

const attempter = (api: AuthApp, email: string, ip: string) => (password: string) =>
  api.call('POST', '/v1/auth/login', { body: { email, password }, ip });

describe('POST /v1/auth/login, failed-attempt limit (5 per 15 min per address and email)', () => {
  it('lets exactly 5 of 20 parallel wrong guesses be checked; the rest get 429', async () => {
    const api = authApp(auth, { RATE_LIMIT_AUTH: '5/15m' });
    const account = await registerAccount(api, 'parallel');
    const attempt = attempter(api, account.email, newIp());

    const responses = await Promise.all(Array.from({ length: 20 }, () => attempt('Wrong#Guess1x')));
    const codes = await Promise.all(
      responses.map(async (response) => {
        const body = (await response.json()) as { error: { code: string } };
        return `${response.status} ${body.error.code}`;
      }),
    );
    const tally = Object.fromEntries(
      [...new Set(codes)].map((code) => [code, codes.filter((c) => c === code).length]),
    );
    expect(tally).toEqual({ '401 INVALID_CREDENTIALS': 5, '429 RATE_LIMITED': 15 });
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The right password now waits too: the guesser cannot tell it found it.
    await errorOf(await attempt(account.password), 429, 'RATE_LIMITED');
  });

  it('does not count a success: after 4 failures and a success the 5th failure is still a 401', async () => {
    const api = authApp(auth, { RATE_LIMIT_AUTH: '5/15m' });
    const account = await registerAccount(api, 'refund');
    const attempt = attempter(api, account.email, newIp());

    for (let n = 0; n < 4; n += 1) {
      await errorOf(await attempt('Wrong#Guess1x'), 401, 'INVALID_CREDENTIALS');
    }
    await dataOf(await attempt(account.password), 200);
    await errorOf(await attempt('Wrong#Guess1x'), 401, 'INVALID_CREDENTIALS');
    await errorOf(await attempt('Wrong#Guess1x'), 429, 'RATE_LIMITED');
  });

  it('signs in even when the refund cannot reach Redis, and logs it', async () => {
    const api = authApp(auth, { RATE_LIMIT_AUTH: '5/15m' });
    const account = await registerAccount(api, 'lost-refund');
    failAuthCounts((rate) => rate < 0);
    await dataOf(await attempter(api, account.email, newIp())(account.password), 200);
    expect(api.logLines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'failed-attempt refund lost' }),
    );
  });

  it('answers 503 when the attempt cannot be counted: the policy fails closed', async () => {
    const api = authApp(auth, { RATE_LIMIT_AUTH: '5/15m' });
    const account = await registerAccount(api, 'closed');
    failAuthCounts(() => true);
    const body = await errorOf(
      await attempter(api, account.email, newIp())(account.password),
      503,
      'SERVICE_UNAVAILABLE',
    );
    expect(body.error.details).toMatchObject({ policy: 'auth' });
  });
});

/**
 * Redis cannot be reached by the requests that carry the auth policy's counting script when
 * `fails(rate)` says so (its last argument is the rate; a negative one is a refund); every other
 * request goes through. The spy is restored after the test.
 */
function failAuthCounts(fails: (rate: number) => boolean): void {
  const countsAuth = ({ commands }: RedisRequest) =>
    commands.some(
      (command) =>
        /^eval/i.test(String(command[0])) &&
        command.some((part) => String(part).startsWith('ratelimit:auth:')) &&
        fails(Number(command.at(-1))),
    );
  breakRedisRequests(countsAuth, () => Promise.reject(new TypeError('fetch failed')));
}
