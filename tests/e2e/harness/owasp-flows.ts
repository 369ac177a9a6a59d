// What the OWASP API Security tests share: an administrator with partners subscribed to our events,
// a partner.notify job handed to the Worker as QStash hands it (signed for the Worker's public
// URL, so the delivery runs at once and its answer is the outcome), and servers that misbehave on
// purpose, as a hostile or broken partner would.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Response } from 'miniflare';
import { signDelivery } from '../../../local-stack/qstash/signing.ts';
import { prepareJob } from '../../../src/jobs/enqueue.ts';
import { systemClock } from '../../../src/platform/clock.ts';
import { call, dataOf, type IdentityWorker, login, promoteToAdmin, register } from './identity.ts';

export interface Admin {
  token: string;
  ip: string;
}

/** An account registered through the API, promoted as an operator would, signed in again. */
export async function adminOf(worker: IdentityWorker): Promise<Admin> {
  const account = await register(worker, 'owasp-admin');
  await promoteToAdmin(worker, account.id);
  const session = await login(worker, account);
  return { token: session.accessToken, ip: account.ip };
}

export function asAdmin(
  worker: IdentityWorker,
  admin: Admin,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return call(worker, method, path, { token: admin.token, ip: admin.ip, body });
}

/** A new partner's id. */
export async function createPartner(worker: IdentityWorker, admin: Admin): Promise<string> {
  const data = await dataOf<{ partner: { id: string } }>(
    await asAdmin(worker, admin, 'POST', '/v1/admin/partners', {
      name: `OWASP ${crypto.randomUUID()}`,
      scheme: 'hmac-sha256',
    }),
    201,
  );
  return data.partner.id;
}

/** PUT /v1/admin/partners/{id}/subscription to product.updated at `webhookUrl`, as answered. */
export function subscribe(
  worker: IdentityWorker,
  admin: Admin,
  partnerId: string,
  webhookUrl: string,
): Promise<Response> {
  return asAdmin(worker, admin, 'PUT', `/v1/admin/partners/${partnerId}/subscription`, {
    webhookUrl,
    events: ['product.updated'],
  });
}

export interface NotifyDelivery {
  /** The job's id: its key in the Worker's log lines and at GET /v1/jobs/{id}. */
  jobId: string;
  /** What the Worker answered QStash: 200 delivered, 503 retried later, 489 dead-lettered. */
  response: Response;
}

/**
 * One delivery of partner.notify to the Worker, signed as QStash signs it for the Worker's public
 * URL (the identity harness's API_PUBLIC_URL is its job receiver's). A retry is the same job id
 * delivered again.
 */
export async function deliverNotify(
  worker: IdentityWorker,
  partnerId: string,
  jobId: string = crypto.randomUUID(),
): Promise<NotifyDelivery> {
  const job = prepareJob(
    { clock: systemClock },
    'partner.notify',
    {
      partnerId,
      eventId: crypto.randomUUID(),
      event: 'product.updated',
      occurredAt: new Date().toISOString(),
      data: { id: crypto.randomUUID(), name: 'Walnut desk lamp' },
    },
    { id: jobId },
  );
  const body = JSON.stringify(job.message);
  const path = `/jobs/${job.type}`;
  const response = await worker.fetch(path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'upstash-message-id': `msg_owasp_${crypto.randomUUID()}`,
      'upstash-signature': signDelivery({
        url: `${worker.jobs.url}${path}`,
        body: new TextEncoder().encode(body),
        signingKey: worker.stackEnv.QSTASH_CURRENT_SIGNING_KEY,
        nowMs: Date.now(),
      }),
    },
    body,
  });
  return { jobId, response };
}

/** Why the Worker gave up on this attempt of the job, from its log line, for QStash to retry. */
export async function retryReason(worker: IdentityWorker, jobId: string): Promise<string> {
  const line = await worker.logs.waitFor(
    (entry) => entry.msg === 'job failed; QStash retries it' && entry.key === jobId,
  );
  return String(line.error);
}

export interface HostileServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Requests that reached it, by path. */
  paths: string[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1 answering every request as `answer` does; closing cuts its connections. */
export async function startHostileServer(
  answer: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<HostileServer> {
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    paths.push(request.url ?? '/');
    // A request body left unread would hold the connection on some answers.
    request.resume();
    answer(request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: () =>
      new Promise<void>((closed) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => closed());
      }),
  };
}
