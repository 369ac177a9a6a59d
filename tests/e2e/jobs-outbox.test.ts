// With QStash unreachable, registering still succeeds: the email job waits in the outbox, and the
// sweep that hourly housekeeping runs publishes it once QStash is back. The email arrives once.
import { describe, expect, it } from 'vitest';
import { eventually, holdsFor } from './harness/eventually.ts';
import { register } from './harness/identity.ts';
import { jobsSystemForFile, publicAppUrl } from './harness/jobs-system.ts';

const system = jobsSystemForFile();

async function outboxRows(): Promise<{ type: string; attempts: number }[]> {
  const { rows } = await system().db.execute('SELECT type, attempts FROM outbox');
  return rows.map((row) => ({ type: String(row.type), attempts: Number(row.attempts) }));
}

describe('the outbox', () => {
  it('delivers the verification email once after the broker comes back', {
    timeout: 60_000,
  }, async () => {
    await system().broker.stop();
    const account = await register(system(), 'outbox');

    // The request's own publish after the commit failed and said so on the rows.
    const left = await eventually('the failed publish is recorded on the outbox rows', async () => {
      const rows = await outboxRows();
      return rows.length > 0 && rows.every((row) => row.attempts > 0) ? rows : undefined;
    });
    expect(left.map((row) => row.type)).toContain('email.verification');

    await system().broker.start();
    // The sweep leaves rows younger than 30 s to the request still publishing them; age them as
    // the half hour until the next housekeeping run would.
    await system().db.execute('UPDATE outbox SET created_at = created_at - 60000');

    // Housekeeping as its schedule delivers it: a signed QStash delivery to the edge.
    const url = `${system().edgeUrl}/jobs/maintenance.housekeeping`;
    const delivery = system().signedDelivery(
      url,
      JSON.stringify({ type: 'maintenance.housekeeping', payload: {} }),
    );
    const swept = await fetch(url, { method: 'POST', ...delivery });
    expect(swept.status, await swept.clone().text()).toBe(200);

    const verifications = () =>
      system()
        .smtp.to(account.email)
        .filter((mail) => mail.text.includes(`${publicAppUrl}/verify-email?token=`));
    await system().smtp.waitFor(() => verifications().length > 0, 15_000);
    expect(await outboxRows()).toEqual([]);

    // A second sweep finds nothing left to publish, and no second email comes.
    const again = system().signedDelivery(
      url,
      JSON.stringify({ type: 'maintenance.housekeeping', payload: {} }),
    );
    expect((await fetch(url, { method: 'POST', ...again })).status).toBe(200);
    await holdsFor('exactly one verification email', () => verifications().length === 1, 1_500);
  });
});
