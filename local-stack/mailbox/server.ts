// The local mailbox of `npm run dev`: an SMTP sink that accepts any message on loopback (no TLS,
// any or no login) and keeps each one as a .eml file, plus a page that lists them, so a developer
// can read the verification email and click its link. Beside each .eml lies a .txt of its headers
// and decoded text: a link copied from the raw file would carry quoted-printable escapes (`=3D`).
// Nothing is ever relayed.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { serveHttp } from '../http-server.ts';
import { appPage } from './app-pages.ts';
import { summarise } from './mime.ts';
import { mailboxPage, type StoredMail } from './page.ts';

export interface MailboxOptions {
  /** 0 picks a free port. */
  smtpPort: number;
  webPort: number;
  /** The folder the .eml files go to. */
  dir: string;
  host?: string;
  /**
   * The API the emails' links act on: given, the mailbox also serves the web app's
   * /verify-email and /reset-password pages (give the API PUBLIC_APP_URL = the mailbox's URL).
   */
  apiUrl?: string;
}

/** A message as a person reads it: the headers that matter, then the decoded text. */
function readable(raw: Buffer): string {
  const { from, to, subject, date, text } = summarise(raw);
  return `From: ${from}\nTo: ${to}\nSubject: ${subject}\nDate: ${date}\n\n${text}\n`;
}

export interface RunningMailbox {
  /** What to give the sender as SMTP_URL. */
  smtpUrl: string;
  webUrl: string;
  dir: string;
  close(): Promise<void>;
}

export const mailboxDefaults = { smtpPort: 1025, webPort: 8025 } as const;

const maxMessageBytes = 25 * 1024 * 1024;
const emlName = /^[A-Za-z0-9._-]+\.eml$/;

/** Sorts by name = by arrival: the name starts with the time the message came in. */
function newFileName(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`;
}

async function storedMails(dir: string): Promise<StoredMail[]> {
  const files = (await readdir(dir))
    .filter((file) => emlName.test(file))
    .sort()
    .reverse();
  return Promise.all(
    files.map(async (file) => ({ file, ...summarise(await readFile(join(dir, file))) })),
  );
}

function startSmtp(dir: string, port: number, host: string): Promise<SMTPServer> {
  const server = new SMTPServer({
    banner: 'nexus-edge local mailbox',
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    size: maxMessageBytes,
    logger: false,
    // Pooled senders keep connections open; closing the mailbox should not wait for them.
    closeTimeout: 1_000,
    // Loopback only: a reverse lookup of 127.0.0.1 would only add a DNS wait to every message.
    disableReverseLookup: true,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anyone' });
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          callback(Object.assign(new Error('Message too large'), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const name = newFileName();
        Promise.all([
          writeFile(join(dir, name), raw),
          writeFile(join(dir, name.replace(/\.eml$/, '.txt')), readable(raw)),
        ]).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      });
    },
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done(server));
  });
}

export async function startMailbox(options: MailboxOptions): Promise<RunningMailbox> {
  const host = options.host ?? '127.0.0.1';
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const smtp = await startSmtp(dir, options.smtpPort, host);
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const closeSmtp = () => new Promise<void>((done) => smtp.close(() => done()));

  const securityHeaders = {
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  };
  const web = await serveHttp(
    async (request) => {
      const { pathname } = new URL(request.url);
      const answer =
        options.apiUrl === undefined ? undefined : await appPage(request, options.apiUrl);
      if (answer !== undefined) return answer;
      if (request.method !== 'GET') return new Response('method not allowed', { status: 405 });
      if (pathname === '/') {
        return new Response(mailboxPage(await storedMails(dir), dir), {
          headers: { 'content-type': 'text/html; charset=utf-8', ...securityHeaders },
        });
      }
      const file = pathname.replace(/^\/messages\//, '');
      if (pathname.startsWith('/messages/') && emlName.test(file)) {
        const raw = await readFile(join(dir, file)).catch(() => undefined);
        if (raw !== undefined) {
          return new Response(new Uint8Array(raw), {
            headers: { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders },
          });
        }
      }
      return new Response('not found', { status: 404 });
    },
    {
      port: options.webPort,
      host,
      // Only the password form has a body.
      maxBodyBytes: 4096,
      onTooLarge: () => new Response('body too large', { status: 413 }),
    },
  ).catch(async (error: unknown) => {
    await closeSmtp();
    throw error;
  });

  return {
    smtpUrl: `smtp://${host}:${smtpPort}`,
    webUrl: web.url,
    dir,
    close: async () => {
      await Promise.all([closeSmtp(), web.close()]);
    },
  };
}
