// Registering delivers the verification email over real SMTP exactly once, although the Node
// worker's first two deliveries fail: QStash retries, and the job runs once.
import { describe, expect, it } from 'vitest';
import { holdsFor } from './harness/eventually.ts';
import { call, register } from './harness/identity.ts';
import { jobsSystemForFile, publicAppUrl } from './harness/jobs-system.ts';

const system = jobsSystemForFile();

const verificationLink = new RegExp(`${publicAppUrl}/verify-email\\?token=[A-Za-z0-9_-]+`);

describe('the verification email', () => {
  it('arrives once over SMTP when the worker answers 500 to the first two deliveries', {
    timeout: 60_000,
  }, async () => {
    system().workerProxy.setRules([
      { kind: 'fail-before', path: '/jobs/email.verification', first: 2 },
    ]);
    const account = await register(system(), 'smtp');
    const verifications = () =>
      system()
        .smtp.to(account.email)
        .filter((mail) => verificationLink.test(mail.text));

    await system().smtp.waitFor(() => verifications().length > 0, 15_000);
    expect(system().workerProxy.counts['fail-before']).toBe(2);
    const deliveries = system().workerProxy.paths.filter(
      (path) => path === '/jobs/email.verification',
    );
    expect(deliveries).toHaveLength(3);

    const [mail] = verifications();
    expect(mail?.to).toEqual([account.email]);
    expect(mail?.text).toContain(account.name);
    // A late retry or a duplicate would show as a second message.
    await holdsFor('exactly one verification email', () => verifications().length === 1, 2_000);

    // The link in the email is the one the user clicks: it verifies the account.
    const link = new URL(mail?.text.match(verificationLink)?.[0] ?? '');
    const token = link.searchParams.get('token');
    const confirmed = await call(system(), 'POST', '/v1/auth/verify-email/confirm', {
      body: { token },
      ip: account.ip,
    });
    expect(confirmed.status).toBeLessThan(300);
    const { rows } = await system().db.execute({
      sql: 'SELECT email_verified_at FROM users WHERE id = ?',
      args: [account.id],
    });
    expect(rows[0]?.email_verified_at).not.toBeNull();
  });
});
