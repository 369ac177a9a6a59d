// Account emails are capped per account, whoever asks: many addresses asking to reset one account's
// password cannot flood its inbox (and still learn nothing: every answer is the same 202), and a
// signed-in user cannot have verification emails sent in a loop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually, holdsFor } from './harness/eventually.ts';
import {
  type Account,
  call,
  emailsTo,
  type IdentityWorker,
  newClientIp,
  register,
  startIdentityWorker,
} from './harness/identity.ts';

let worker: IdentityWorker;

beforeAll(async () => {
  worker = await startIdentityWorker();
});

afterAll(async () => {
  await worker?.close();
});

const emailCount = (type: string, to: string) => emailsTo(worker.jobs, type, to).length;

/** Exactly `count` emails of this type reach this address, and no more come for a second. */
async function expectEmailsSettleAt(type: string, to: string, count: number): Promise<void> {
  await eventually(`${count} ${type} emails delivered`, () =>
    emailCount(type, to) === count ? true : undefined,
  );
  await holdsFor(`no more ${type} emails`, () => emailCount(type, to) === count, 1_000);
}

describe('POST /v1/auth/password/forgot', () => {
  it('sends one account at most 3 reset emails, while 20 addresses each get a 202', async () => {
    const user = await register(worker, 'reset-flood');
    const statuses = [];
    for (let i = 0; i < 20; i++) {
      const response = await call(worker, 'POST', '/v1/auth/password/forgot', {
        body: { email: user.email },
        ip: newClientIp(),
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual(Array(20).fill(202));

    const skipped = () =>
      worker.logs.lines.filter(
        (line) =>
          line.msg === 'password reset email not sent: account over its email limit' &&
          line.userId === user.id,
      ).length;
    await eventually('17 reset emails held back', () => (skipped() === 17 ? true : undefined));
    await expectEmailsSettleAt('email.password-reset', user.email, 3);
  });
});

describe('POST /v1/auth/verify-email/request', () => {
  let user: Account & { session: { accessToken: string } };
  const request = () =>
    call(worker, 'POST', '/v1/auth/verify-email/request', {
      token: user.session.accessToken,
      ip: newClientIp(),
    });

  beforeAll(async () => {
    user = await register(worker, 'verify-flood');
  });

  it('sends 3 verification emails an hour on request, then answers 429 with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await request();
      expect(response.status, await response.clone().text()).toBe(202);
    }
    const refused = await request();
    const body = await expectErrorEnvelope(refused, 429, 'RATE_LIMITED');
    expect(body.error.details).toMatchObject({ policy: 'accountEmail' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    // The one sent at registration, and the three asked for.
    await expectEmailsSettleAt('email.verification', user.email, 4);
  });
});
