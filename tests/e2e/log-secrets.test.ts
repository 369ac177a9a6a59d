// No secret in any log line: a full flow through the jobs system, both apps logging at debug,
// every line of the Worker and of the Node worker kept, then searched for every secret the flow
// saw (passwords, access and refresh tokens, session cookies, the verification and reset tokens
// of the emails, an API key, partner secrets) and every secret the deployment holds (the JWT
// signing secret, the QStash token and signing keys, the Upstash and Turso tokens, the partner
// secrets' key). The URLs the Worker signs for the Node worker's avatar transfers are secrets too.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response } from 'miniflare';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { signPartnerHmac } from '../../src/lib/signatures/partner-hmac.ts';
import { eventually } from './harness/eventually.ts';
import {
  call,
  dataOf,
  newAccount,
  newClientIp,
  type Session,
  sessionOf,
} from './harness/identity.ts';
import { jobsSystemForFile, partnerSecretsKey, publicAppUrl } from './harness/jobs-system.ts';
import { multipartFiles } from './harness/multipart.ts';
import { defaultJwtKey } from './harness/worker.ts';

const system = jobsSystemForFile({
  nodeLogLevel: 'debug',
  vars: { LOG_LEVEL: 'debug', PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' },
});

/** Each secret seen, with what it is. */
const secrets = new Map<string, string>();

function keep(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 8) throw new Error(`no ${what} to keep`);
  secrets.set(value, what);
  return value;
}

function keepSession(who: string, session: Session): Session {
  keep(`${who}'s access token`, session.accessToken);
  keep(`${who}'s refresh token`, session.refreshToken);
  return session;
}

/** The token in the link of the latest email to `to` that links to `page`. */
async function tokenFromMail(to: string, page: string): Promise<string> {
  const link = new RegExp(`${publicAppUrl}/${page}\\?token=([A-Za-z0-9_-]+)`);
  const mail = await eventually(`an email to ${to} linking to /${page}`, () =>
    system()
      .smtp.to(to)
      .findLast((message) => link.test(message.text)),
  );
  return mail.text.match(link)?.[1] ?? '';
}

function cookieValues(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => {
    const pair = line.split(';')[0] ?? '';
    return pair.slice(pair.indexOf('=') + 1);
  });
}

async function login(email: string, password: string, ip: string): Promise<Session> {
  const response = await call(system(), 'POST', '/v1/auth/login', {
    body: { email, password },
    ip,
  });
  return sessionOf(await dataOf(response, 200));
}

describe('the logs of a full flow', () => {
  it('hold none of the secrets it saw, nor any the deployment holds', {
    timeout: 120_000,
  }, async () => {
    const received: IncomingHttpHeaders[] = [];
    const partnerEndpoint = createServer((request, response) => {
      received.push(request.headers);
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((listening) => partnerEndpoint.listen(0, '127.0.0.1', listening));
    try {
      const user = newAccount('secrets');
      const ip = newClientIp();
      keep('the password', user.password);
      // Register, verify the email with the link it brings.
      const registered = await call(system(), 'POST', '/v1/auth/register', { body: user, ip });
      keepSession('the registration', sessionOf(await dataOf(registered, 201)));
      const verification = keep(
        'the verification token',
        await tokenFromMail(user.email, 'verify-email'),
      );
      await dataOf(
        await call(system(), 'POST', '/v1/auth/verify-email/confirm', {
          body: { token: verification },
          ip,
        }),
        200,
      );

      // Sign in (bearer and cookie), refresh, and present the spent refresh token again.
      const signedIn = keepSession('the sign-in', await login(user.email, user.password, ip));
      const cookieLogin = await call(system(), 'POST', '/v1/auth/login?mode=cookie', {
        body: { email: user.email, password: user.password },
        ip,
      });
      for (const value of cookieValues(cookieLogin)) keep('a session cookie', value);
      await dataOf(cookieLogin, 200);
      const refreshed = await call(system(), 'POST', '/v1/auth/refresh', {
        body: { refreshToken: signedIn.refreshToken },
        ip,
      });
      keepSession('the refresh', sessionOf(await dataOf(refreshed, 200)));
      const reused = await call(system(), 'POST', '/v1/auth/refresh', {
        body: { refreshToken: signedIn.refreshToken },
        ip,
      });
      expect(reused.status).toBe(401);
      await reused.arrayBuffer();

      // A password reset, by the link of its email; then sign in with the new password.
      await call(system(), 'POST', '/v1/auth/password/forgot', { body: { email: user.email }, ip });
      const reset = keep('the reset token', await tokenFromMail(user.email, 'reset-password'));
      const newPassword = keep('the new password', 'Ember!Harbor42Violet');
      const resetDone = await call(system(), 'POST', '/v1/auth/password/reset', {
        body: { token: reset, password: newPassword },
        ip,
      });
      expect(resetDone.status).toBe(204);
      const session = keepSession('the new sign-in', await login(user.email, newPassword, ip));

      // An API key, created and used.
      const created = await dataOf<{ key: string }>(
        await call(system(), 'POST', '/v1/api-keys', {
          token: session.accessToken,
          ip,
          body: { name: 'log scan', scopes: ['profile:read'], expiresInDays: 30 },
        }),
        201,
      );
      const apiKey = keep('the API key', created.key);
      await dataOf(await call(system(), 'GET', '/v1/me', { apiKey, ip }), 200);

      // An avatar: the Worker signs two URLs for the Node worker, which reads and writes by them.
      const png = await sharp({
        create: { width: 64, height: 48, channels: 3, background: '#c0392b' },
      })
        .png()
        .toBuffer();
      const avatar = await multipartFiles(
        [{ name: 'me.png', bytes: new Uint8Array(png), type: 'image/png' }],
        'avatar',
      );
      await dataOf(
        await system().fetch('/v1/users/me/avatar', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${session.accessToken}`,
            'content-type': avatar.contentType,
          },
          body: avatar.body,
        }),
        202,
      );

      // An administrator: a partner with two secrets, subscribed to our product events.
      const operator = newAccount('secrets-admin');
      const adminIp = newClientIp();
      keep("the administrator's password", operator.password);
      const admin = await dataOf<{ user: { id: string } }>(
        await call(system(), 'POST', '/v1/auth/register', { body: operator, ip: adminIp }),
        201,
      );
      await system().db.execute({
        sql: "UPDATE users SET role = 'admin' WHERE id = ?",
        args: [admin.user.id],
      });
      const adminSession = keepSession(
        'the administrator',
        await login(operator.email, operator.password, adminIp),
      );
      const asAdmin = (method: string, path: string, body?: unknown) =>
        call(system(), method, path, { token: adminSession.accessToken, ip: adminIp, body });
      const partner = await dataOf<{ partner: { id: string }; secret: { secret: string } }>(
        await asAdmin('POST', '/v1/admin/partners', {
          name: `Log scan ${crypto.randomUUID()}`,
          scheme: 'hmac-sha256',
        }),
        201,
      );
      keep('the partner secret', partner.secret.secret);
      const rotated = await dataOf<{ secret: string }>(
        await asAdmin('POST', `/v1/admin/partners/${partner.partner.id}/secrets`, {
          graceHours: 24,
        }),
        201,
      );
      const newest = keep('the rotated partner secret', rotated.secret);
      const { port } = partnerEndpoint.address() as AddressInfo;
      await dataOf(
        await asAdmin('PUT', `/v1/admin/partners/${partner.partner.id}/subscription`, {
          webhookUrl: `http://127.0.0.1:${port}/hooks`,
          events: ['product.created'],
        }),
        200,
      );
      await dataOf(
        await asAdmin('POST', '/v1/products', {
          name: 'Log scan lamp',
          category: 'home',
          price: { amount: 4999, currency: 'EUR' },
          stock: 3,
        }),
        201,
      );

      // The partner calls us, signed; and someone without the secret tries to.
      const event = JSON.stringify({ id: `evt_${crypto.randomUUID()}`, type: 'order.paid' });
      const partnerCall = async (secret: string) => {
        const timestamp = Math.floor(Date.now() / 1000);
        return call(system(), 'POST', `/webhooks/partners/${partner.partner.id}`, {
          ip: newClientIp(),
          headers: {
            'content-type': 'application/json',
            'x-timestamp': String(timestamp),
            'x-signature': await signPartnerHmac(secret, timestamp, event),
          },
          body: JSON.parse(event),
        });
      };
      await dataOf(await partnerCall(newest), 202);
      expect((await partnerCall('not-the-partner-secret-at-all')).status).toBe(401);

      // Everything the flow queued has run: the emails, the avatar, the partner's notification.
      await eventually('the partner notified', () => received[0], 20_000);
      await eventually(
        'the avatar shown',
        async () => {
          const me = await dataOf<{ avatar: unknown }>(
            await call(system(), 'GET', '/v1/me', { token: session.accessToken, ip }),
            200,
          );
          return me.avatar ?? undefined;
        },
        20_000,
      );
      await system().logs.waitFor(
        (line) => line.msg === 'request' && line.job === 'partner.event',
        10_000,
      );

      const deployment = system().stackEnv;
      keep('the JWT signing secret', defaultJwtKey.secret);
      keep('the QStash token', deployment.QSTASH_TOKEN);
      keep('the current QStash signing key', deployment.QSTASH_CURRENT_SIGNING_KEY);
      keep('the next QStash signing key', deployment.QSTASH_NEXT_SIGNING_KEY);
      keep('the Upstash token', deployment.UPSTASH_REDIS_REST_TOKEN);
      keep('the Turso token', deployment.TURSO_AUTH_TOKEN);
      keep("the partner secrets' key", partnerSecretsKey);

      const edge = system().logs;
      const node = system().nodeLogs;
      const lines = [...edge.lines, ...node.lines].map((line) => JSON.stringify(line));
      lines.push(...edge.text, ...node.text);
      // The scan saw the flow: each step's request line, and the Node worker's jobs.
      const routes = new Set(
        edge.lines.filter((line) => line.msg === 'request').map((l) => l.route),
      );
      for (const route of [
        '/v1/auth/register',
        '/v1/auth/verify-email/confirm',
        '/v1/auth/login',
        '/v1/auth/refresh',
        '/v1/auth/password/forgot',
        '/v1/auth/password/reset',
        '/v1/api-keys',
        '/v1/me',
        '/v1/users/me/avatar',
        '/v1/admin/partners',
        '/webhooks/partners/:partnerId',
        '/jobs/:type',
      ]) {
        expect(routes, route).toContain(route);
      }
      expect(node.lines.map((line) => line.msg)).toEqual(
        expect.arrayContaining(['request', 'email sent']),
      );

      const leaks = [...secrets].flatMap(([secret, what]) =>
        lines.filter((line) => line.includes(secret)).map((line) => `${what}: ${line}`),
      );
      expect(leaks).toEqual([]);
      expect(lines.filter((line) => line.includes('signature='))).toEqual([]);
    } finally {
      partnerEndpoint.closeAllConnections();
      await new Promise((closed) => partnerEndpoint.close(closed));
    }
  });
});
