// The local mailbox of `npm run dev`, as a developer meets it: mail sent to its SMTP port lands as
// an .eml file, and its page shows the message with the link clickable and any markup escaped;
// the links of the account emails open its stand-ins for the web app's pages.
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningMailbox, startMailbox } from '../../local-stack/mailbox/server.ts';

let root: string;
let mailbox: RunningMailbox;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'nexus-mailbox-'));
  mailbox = await startMailbox({ smtpPort: 0, webPort: 0, dir: join(root, 'mailbox') });
});

afterAll(async () => {
  await mailbox?.close();
  await rm(root, { recursive: true, force: true });
});

async function send(message: { to: string; subject: string; text: string; html?: string }) {
  const transport = createTransport(mailbox.smtpUrl);
  try {
    await transport.sendMail({ from: 'nexus-edge <no-reply@nexus-edge.local>', ...message });
  } finally {
    transport.close();
  }
}

async function page(): Promise<string> {
  const response = await fetch(mailbox.webUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/html');
  return response.text();
}

describe('local mailbox', () => {
  it('keeps a sent message as an .eml file and shows it with its link clickable', async () => {
    // Longer than a mail line: the sender quoted-printable-encodes it, `=` becoming `=3D`.
    const link = `http://127.0.0.1:8787/verify-email?token=abc_DEF-123&next=%2Fme&long=${'x'.repeat(80)}`;
    await send({
      to: 'ada@example.com',
      subject: 'Confirm your email address',
      text: `Hi Ada,\n\nopen this link:\n\n${link}\n\nThanks.`,
      html: `<p>Hi Ada, <a href="${link}">confirm</a></p>`,
    });

    const files = (await readdir(mailbox.dir)).filter((file) => file.endsWith('.eml'));
    expect(files).toHaveLength(1);
    const raw = await readFile(join(mailbox.dir, files[0] as string), 'utf8');
    expect(raw).toContain('Subject: Confirm your email address');
    // The decoded copy: the link as sent, whatever transfer encoding the .eml has.
    const readable = await readFile(
      join(mailbox.dir, (files[0] as string).replace(/\.eml$/, '.txt')),
      'utf8',
    );
    expect(readable).toContain('To: ada@example.com');
    expect(readable).toContain(`\n${link}\n`);

    const html = await page();
    expect(html).toContain('Confirm your email address');
    expect(html).toContain('ada@example.com');
    expect(html).toContain(`<a href="${link.replaceAll('&', '&amp;')}" rel="noopener noreferrer">`);
  });

  it('escapes markup in headers and body and links only http(s) URLs', async () => {
    await send({
      to: 'eve@example.com',
      subject: '<img src=x onerror=alert(1)> Grüße',
      text: '<script>alert("x")</script> javascript:alert(1) see https://example.com/a?b=1&c=2.',
    });

    const html = await page();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; Grüße');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain(
      '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">',
    );
    // Newest first.
    expect(html.indexOf('Grüße')).toBeLessThan(html.indexOf('Confirm your email address'));
  });

  it('serves each raw message and nothing outside the folder', async () => {
    const [file] = (await readdir(mailbox.dir)).filter((name) => name.endsWith('.eml'));
    const raw = await fetch(`${mailbox.webUrl}/messages/${file}`);
    expect(raw.status).toBe(200);
    expect(await raw.text()).toContain('Message-ID:');
    const outside = await fetch(`${mailbox.webUrl}/messages/..%2F..%2Fetc%2Fpasswd`);
    expect(outside.status).toBe(404);
  });
});

describe("the mailbox's stand-ins for the web app's pages", () => {
  // A recording API: the pages under test are the mailbox's, so the API only has to answer.
  const calls: { path: string; body: unknown }[] = [];
  let api: Server;
  let linked: RunningMailbox;

  beforeAll(async () => {
    api = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      request.on('end', () => {
        const body = JSON.parse(text) as { token?: string };
        calls.push({ path: request.url ?? '', body });
        const refused = body.token === 'used';
        response
          .writeHead(refused ? 400 : 200, { 'content-type': 'application/json' })
          .end(
            JSON.stringify(
              refused
                ? { success: false, error: { code: 'TOKEN_INVALID', message: 'used <b>up</b>' } }
                : { success: true, data: {} },
            ),
          );
      });
    });
    api.listen(0, '127.0.0.1');
    await once(api, 'listening');
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    linked = await startMailbox({ smtpPort: 0, webPort: 0, dir: join(root, 'linked'), apiUrl });
  });

  afterAll(async () => {
    await linked?.close();
    api?.close();
  });

  it('verifies the email when its link is opened, and shows a refusal escaped', async () => {
    const done = await (await fetch(`${linked.webUrl}/verify-email?token=fresh`)).text();
    expect(done).toContain('Your email is verified.');
    expect(calls.at(-1)).toEqual({
      path: '/v1/auth/verify-email/confirm',
      body: { token: 'fresh' },
    });

    const refused = await (await fetch(`${linked.webUrl}/verify-email?token=used`)).text();
    expect(refused).toContain('400 TOKEN_INVALID: used &lt;b&gt;up&lt;/b&gt;');
  });

  it('asks for a new password and sends it with the token', async () => {
    const form = await (await fetch(`${linked.webUrl}/reset-password?token=t%22x`)).text();
    expect(form).toContain('name="token" value="t&quot;x"');

    const done = await fetch(`${linked.webUrl}/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'reset-token', password: 'A new long passphrase 7!' }),
    });
    expect(await done.text()).toContain('Your password is changed.');
    expect(calls.at(-1)).toEqual({
      path: '/v1/auth/password/reset',
      body: { token: 'reset-token', password: 'A new long passphrase 7!' },
    });
  });
});
