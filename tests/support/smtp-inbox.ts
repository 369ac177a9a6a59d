// A real SMTP server (the smtp-server package) that keeps every message it accepts, the receiving
// side of the mail the Node worker sends. Tests read what a user would read: the text part,
// decoded from quoted-printable or base64 here since mailparser is not installable. A test can make
// it refuse given recipients, temporarily (451) or for good (550), as a real mail server would.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

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

interface MimePart {
  headers: Record<string, string>;
  body: string;
}

function splitHeaders(raw: string): MimePart {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function parameter(header: string | undefined, name: string): string | undefined {
  const match = header?.match(new RegExp(`${name}="?([^";]+)"?`, 'i'));
  return match?.[1];
}

function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < joined.length; index++) {
    const hex = joined.slice(index + 1, index + 3);
    if (joined[index] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(...Buffer.from(joined[index] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(part: MimePart): string {
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(part.body).toString('utf8');
  return part.body;
}

/** RFC 2047 encoded words, as nodemailer writes non-ASCII subjects. */
function decodeWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g,
    (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
  );
}

/** The leaf parts of a MIME message, multipart containers opened recursively. */
function leafParts(part: MimePart): MimePart[] {
  const type = part.headers['content-type'] ?? 'text/plain';
  const boundary = parameter(type, 'boundary');
  if (!type.toLowerCase().startsWith('multipart/') || boundary === undefined) return [part];
  const sections = part.body.split(`--${boundary}`).slice(1);
  return sections
    .filter((section) => !section.startsWith('--'))
    .flatMap((section) => leafParts(splitHeaders(section.replace(/^\r?\n/, ''))));
}

export function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const message = splitHeaders(raw);
  const parts = leafParts(message);
  const ofType = (type: string) =>
    parts.find((part) => (part.headers['content-type'] ?? 'text/plain').startsWith(type));
  const text = ofType('text/plain');
  const html = ofType('text/html');
  return {
    from,
    to,
    headers: message.headers,
    subject: decodeWords(message.headers.subject ?? ''),
    messageId: message.headers['message-id'] ?? '',
    text: text === undefined ? '' : decodeBody(text),
    ...(html !== undefined && { html: decodeBody(html) }),
    raw,
  };
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
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), from, to));
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
