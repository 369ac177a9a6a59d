// At-least-once delivery, exactly-once effects: 1,000 welcome emails published to the broker and
// delivered to the Node worker through a proxy that fails 30% of the deliveries (half before the
// worker sees them, half after it sent the email) and duplicates 10% more. Every recipient gets
// exactly one email.
import { describe, expect, it } from 'vitest';
import { prepareJob, publishRequest } from '../../src/jobs/enqueue.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { createQueue } from '../../src/platform/queue.ts';
import { eventually, holdsFor } from './harness/eventually.ts';
import { jobsSystemForFile } from './harness/jobs-system.ts';

const system = jobsSystemForFile();

const jobCount = 1_000;
const waveSize = 100;

describe('1,000 jobs through injected failures and duplicates', () => {
  it('give exactly 1,000 emails, none twice', { timeout: 300_000 }, async () => {
    system().workerProxy.setRules([
      // Faults on the first three attempts of each message; email jobs get five retries.
      { kind: 'fail-before', path: '/jobs/email.welcome', rate: 0.15, maxRetried: 2 },
      { kind: 'fail-after', path: '/jobs/email.welcome', rate: 0.15, maxRetried: 2 },
      { kind: 'duplicate', path: '/jobs/email.welcome', rate: 0.1, maxRetried: 2 },
    ]);
    const queue = createQueue({
      QSTASH_URL: system().broker.url,
      QSTASH_TOKEN: system().broker.token,
    });
    const config = { JOBS_BASE_URL: system().workerUrl, API_PUBLIC_URL: system().edgeUrl };
    const run = crypto.randomUUID().slice(0, 8);
    const recipients = Array.from(
      { length: jobCount },
      (_, index) => `bulk-${run}-${index}@e2e.test`,
    );

    const wanted = new Set(recipients);
    const delivered = () =>
      system().smtp.messages.filter((mail) => mail.to.some((to) => wanted.has(to)));

    // Published in waves of 100, each after the last one's emails are out: the local broker
    // rescans its whole pending list at every delivery, which a thousand at once makes quadratic.
    const messageIds: string[] = [];
    for (let start = 0; start < jobCount; start += waveSize) {
      const published = await Promise.all(
        recipients.slice(start, start + waveSize).map((to, offset) => {
          const job = prepareJob(
            { clock: systemClock },
            'email.welcome',
            { to, name: `Bulk Reader ${start + offset}` },
            { id: `bulk-${run}-${start + offset}` },
          );
          return queue.publish(publishRequest(config, job));
        }),
      );
      messageIds.push(...published.map(({ messageId }) => messageId));
      await system().smtp.waitFor(() => delivered().length >= messageIds.length, 60_000);
    }

    // Every message settles at the broker (delivered, so gone from it); none went to the DLQ.
    await eventually(
      'the broker holds none of the messages',
      async () => {
        for (const id of messageIds) {
          const response = await system().broker.api(`/v2/messages/${id}`);
          await response.arrayBuffer();
          if (response.status !== 404) return undefined;
        }
        return true;
      },
      30_000,
    );
    const dlq = (await (await system().broker.api('/v2/dlq')).json()) as { messages: unknown[] };
    expect(dlq.messages).toEqual([]);
    await holdsFor('no email beyond one per job', () => delivered().length === jobCount, 1_000);

    const mails = delivered();
    expect(mails).toHaveLength(jobCount);
    expect(new Set(mails.flatMap((mail) => mail.to)).size).toBe(jobCount);
    expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(jobCount);

    // The faults did happen, in about the shares asked for.
    const { counts } = system().workerProxy;
    expect(counts['fail-before']).toBeGreaterThan(jobCount * 0.1);
    expect(counts['fail-after']).toBeGreaterThan(jobCount * 0.1);
    expect(counts.duplicate).toBeGreaterThan(jobCount * 0.05);
  });
});
