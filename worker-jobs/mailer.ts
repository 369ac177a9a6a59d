// Sends mail over SMTP_URL through one pooled nodemailer transporter per process, and sorts its
// failures the way QStash acts on them: a 5xx reply rejects this message for good (no retry helps,
// the job goes to the DLQ), while a 4xx reply or a lost connection is worth retrying later.
import { createTransport } from 'nodemailer';
import { PermanentJobError } from '../src/jobs/job-delivery.ts';
import type { WorkerConfig } from './config.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic per job, so a message sent twice is recognisable as one. */
  messageId: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  /** Connects and greets the server, for the readiness probe. */
  verify(): Promise<void>;
  close(): void;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
}

/**
 * A 5xx reply refuses the message itself, except during login: wrong credentials are this
 * worker's fault, fixed by its operator, after which the retried job goes through.
 */
function isPermanent(error: SmtpFailure): boolean {
  const status = error.responseCode ?? 0;
  return status >= 500 && status < 600 && error.code !== 'EAUTH';
}

/** `<key@nexus-edge>` with whatever a Message-ID may not hold (":" of "msg:…") replaced. */
export function messageIdOf(jobKey: string): string {
  return `<${jobKey.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/g, '-')}@nexus-edge>`;
}

export function createMailer(config: Pick<WorkerConfig, 'SMTP_URL' | 'MAIL_FROM'>): Mailer {
  const transporter = createTransport({
    url: config.SMTP_URL,
    pool: true,
    maxConnections: 5,
    // Well inside a job's lease: a hung server fails the delivery, and QStash retries it.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      try {
        await transporter.sendMail({ from: config.MAIL_FROM, ...mail });
      } catch (error) {
        const failure = error as SmtpFailure;
        if (isPermanent(failure)) {
          throw new PermanentJobError(
            `SMTP refused the message: ${failure.response ?? failure.responseCode}`,
          );
        }
        throw error;
      }
    },
    async verify() {
      await transporter.verify();
    },
    close() {
      transporter.close();
    },
  };
}
