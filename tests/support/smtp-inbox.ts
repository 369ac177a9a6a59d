// A real SMTP server (the smtp-server package) that keeps every message it accepts, the receiving
// side of the mail the Node worker sends. Tests read what a user would read: the text part, decoded
// by the local mailbox's MIME reader since mailparser is not installable. A test can make it refuse
// given recipients, temporarily (451) or for good (550), as a real mail server would.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { decodeEncodedWords, parseMessage } from '../../local-stack/mailbox/mime.ts';

export interface ReceivedMail {
  /** The envelope: MAIL FROM and RCPT TO, as the server saw them. */
  from: string;
  to: string[];
  /** Header names in lower case; folded lines unfolded. */
  headers: Record<string, string>;
  subject: string;
  messageId: string;
  /** The decoded text/plain part. */
  text: string;
  /** The decoded text/html part, when there is one. */
  html?: string;
  raw: string;
}

export interface SmtpInbox {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  readonly url: string;
  readonly messages: ReceivedMail[];
  /** Answers RCPT TO for this address with the code (451: try later; 550: never) until accepted. */
  refuse(address: string, code: 451 | 550): void;
  accept(address: string): void;
  /** How many RCPT TO the server refused, per address. */
  refusals(address: string): number;
  /** Resolves once `matches` holds for the messages received so far, within `timeoutMs`. */
  waitFor(matches: (messages: ReceivedMail[]) => boolean, timeoutMs?: number): Promise<void>;
  /** The messages whose envelope includes this recipient. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

type ErrorWithCode = Error & { responseCode: number };

export async function startSmtpInbox(): Promise<SmtpInbox> {
  const messages: ReceivedMail[] = [];
  const refused = new Map<string, 451 | 550>();
  const refusalCounts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const normal = (address: string) => address.trim().toLowerCase();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = refused.get(normal(address.address));
      if (code === undefined) return callback();
      refusalCounts.set(normal(address.address), refusals(address.address) + 1);
      const error = new Error(
        code === 451 ? 'Mailbox busy, try again later' : 'No such mailbox here',
      ) as ErrorWithCode;
      error.responseCode = code;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const { headers, text, html } = parseMessage(raw);
        messages.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          headers,
          subject: decodeEncodedWords(headers.subject ?? ''),
          messageId: headers['message-id'] ?? '',
          text: text ?? '',
          ...(html !== undefined && { html }),
          raw: raw.toString('utf8'),
        });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  const refusals = (address: string) => refusalCounts.get(normal(address)) ?? 0;
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuse: (address, code) => refused.set(normal(address), code),
    accept: (address) => refused.delete(normal(address)),
    refusals,
    to: (address) =>
      messages.filter((mail) => mail.to.some((rcpt) => normal(rcpt) === normal(address))),
    waitFor(matches, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!matches(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching mail within ${timeoutMs} ms; received ${messages.length}:\n${messages
                .slice(-20)
                .map((mail) => `${mail.to.join(',')}: ${mail.subject}`)
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
