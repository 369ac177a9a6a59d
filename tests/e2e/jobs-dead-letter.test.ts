// A job that keeps failing goes to the dead-letter queue after its retries, where QStash's failure
// callback records it for the admins; once the cause is gone, requeueing it delivers it once.
import { describe, expect, it } from 'vitest';
import { eventually, holdsFor } from './harness/eventually.ts';
import { call, dataOf, newAccount, newClientIp } from './harness/identity.ts';
import { adminSession, jobsSystemForFile, publicAppUrl } from './harness/jobs-system.ts';

const system = jobsSystemForFile();

interface DeadJob {
  id: string;
  type: string;
  message: { payload?: { to?: string } };
  retried: number;
}

describe('the dead-letter queue', () => {
  it('records a verification email the mail server keeps refusing; requeue delivers it', {
    timeout: 60_000,
  }, async () => {
    const admin = await adminSession(system());
    const account = newAccount('dead-letter');
    // 451: "try again later", for every attempt QStash makes.
    system().smtp.refuse(account.email, 451);
    await dataOf(
      await call(system(), 'POST', '/v1/auth/register', { body: account, ip: newClientIp() }),
      201,
    );

    const listDead = async () =>
      dataOf<DeadJob[]>(
        await call(system(), 'GET', '/v1/admin/jobs/dead', { token: admin.token, ip: admin.ip }),
        200,
      );
    const dead = await eventually(
      'the verification job is in the dead-job list',
      async () =>
        (await listDead()).find(
          (job) => job.type === 'email.verification' && job.message.payload?.to === account.email,
        ),
      30_000,
    );
    // The first attempt and every retry reached the mail server, and none got through.
    expect(system().smtp.refusals(account.email)).toBeGreaterThanOrEqual(6);
    expect(dead.retried).toBe(5);
    expect(system().smtp.to(account.email)).toEqual([]);

    const inspected = await dataOf<DeadJob>(
      await call(system(), 'GET', `/v1/admin/jobs/dead/${encodeURIComponent(dead.id)}`, {
        token: admin.token,
        ip: admin.ip,
      }),
      200,
    );
    expect(inspected).toMatchObject({ id: dead.id, type: 'email.verification' });

    system().smtp.accept(account.email);
    await dataOf(
      await call(system(), 'POST', `/v1/admin/jobs/dead/${encodeURIComponent(dead.id)}/requeue`, {
        token: admin.token,
        ip: admin.ip,
      }),
      202,
    );
    const verifications = () =>
      system()
        .smtp.to(account.email)
        .filter((mail) => mail.text.includes(`${publicAppUrl}/verify-email?token=`));
    await system().smtp.waitFor(() => verifications().length > 0, 15_000);
    await holdsFor('exactly one verification email', () => verifications().length === 1, 1_500);
  });
});
