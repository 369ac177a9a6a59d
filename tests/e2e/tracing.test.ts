// One trace from a request to every job it caused: a client's traceparent is continued by the
// Worker, kept in the jobs the request stages, forwarded by QStash to their deliveries on the edge
// and on the Node worker (and on to jobs those jobs cause, and to a partner's webhook), so
// grepping one trace id finds every line of all of it, the mailer's included. A job published much
// later by the outbox sweep still continues the trace of the request that staged it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../src/lib/trace-context.ts';
import { eventually } from './harness/eventually.ts';
import { call, dataOf, newAccount, newClientIp, sessionOf } from './harness/identity.ts';
import { adminSession, jobsSystemForFile, publicAppUrl } from './harness/jobs-system.ts';
import type { LogLine } from './harness/worker-logs.ts';

const system = jobsSystemForFile({
  nodeLogLevel: 'info',
  vars: { PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' },
});

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

/** A caller's trace: a fresh trace id, and the caller's span as the parent. */
function callerTrace() {
  const traceId = randomHex(16);
  const parentId = randomHex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

/** Registers with the caller's traceparent; answers the account and the response's headers. */
async function registerTraced(traceparent: string) {
  const account = newAccount('traced');
  const ip = newClientIp();
  const response = await call(system(), 'POST', '/v1/auth/register', {
    body: account,
    ip,
    headers: { traceparent },
  });
  const headers = response.headers;
  const data = await dataOf(response, 201);
  return { ...account, ip, session: sessionOf(data), headers };
}

/** Every line, of the Worker and of the Node worker, that carries this trace id. */
function linesOf(traceId: string): { edge: LogLine[]; node: LogLine[] } {
  const inTrace = (line: LogLine) => line.traceId === traceId;
  return {
    edge: system().logs.lines.filter(inTrace),
    node: system().nodeLogs.lines.filter(inTrace),
  };
}

const jobOf = (line: LogLine) => {
  const job = line.job as string | { type?: string } | undefined;
  return typeof job === 'string' ? job : job?.type;
};

describe('one trace id', () => {
  it('finds a request and every job it caused, the mailer’s line included', {
    timeout: 60_000,
  }, async () => {
    const { traceId, parentId, traceparent } = callerTrace();
    const account = await registerTraced(traceparent);

    // The answer continues the caller's trace, as a span of its own.
    const answered = parseTraceparent(account.headers.get('traceparent') ?? undefined);
    expect(answered).toMatchObject({ traceId, flags: '01' });
    expect(answered?.parentId).not.toBe(parentId);
    const requestId = account.headers.get('x-request-id') ?? '';
    expect(await system().logs.requestLine(requestId)).toMatchObject({
      traceId,
      route: '/v1/auth/register',
      path: '/v1/auth/register',
      status: 201,
    });

    await system().smtp.waitFor(() => system().smtp.to(account.email).length >= 2, 15_000);
    const mailed = await eventually('both emails logged as sent in the trace', () => {
      const sent = linesOf(traceId).node.filter((line) => line.msg === 'email sent');
      return sent.length >= 2 ? sent : undefined;
    });
    expect(mailed.map((line) => line.type).toSorted()).toEqual([
      'email.verification',
      'email.welcome',
    ]);
    // The edge's own job (the audit record) is in it too.
    await system().logs.waitFor(
      (line) => line.msg === 'request' && line.traceId === traceId && line.job === 'audit.record',
      10_000,
    );

    const { edge, node } = linesOf(traceId);
    expect(edge).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'request', route: '/v1/auth/register', requestId }),
        expect.objectContaining({ msg: 'session issued', requestId }),
        expect.objectContaining({ msg: 'request', route: '/jobs/:type', status: 200 }),
      ]),
    );
    expect(
      node
        .filter((line) => line.msg === 'request')
        .map(jobOf)
        .toSorted(),
    ).toEqual(['email.verification', 'email.welcome']);
    // Each line of the Node worker names its own request: the mailer's is its delivery's.
    for (const sent of mailed) {
      const delivery = node.find(
        (line) => line.msg === 'request' && line.requestId === sent.requestId,
      );
      expect(delivery).toMatchObject({ route: '/jobs/:type', status: 200 });
      expect(jobOf(delivery ?? {})).toBe(sent.type);
    }
  });

  it('starts a trace of its own for a request that brings none, or an invalid one', async () => {
    const invalid = `00-${'0'.repeat(32)}-${randomHex(8)}-01`;
    const account = await registerTraced(invalid);
    const started = parseTraceparent(account.headers.get('traceparent') ?? undefined);
    expect(started?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(started?.traceId).not.toBe('0'.repeat(32));
    const line = await system().logs.requestLine(account.headers.get('x-request-id') ?? '');
    expect(line.traceId).toBe(started?.traceId);
  });

  it('follows jobs caused by jobs to partners’ webhooks, and a dead job’s callback', {
    timeout: 60_000,
  }, async () => {
    // One partner takes the event; the other's endpoint is gone for good (410: a dead job).
    const received: IncomingHttpHeaders[] = [];
    const receiver = createServer((request, response) => {
      if (request.url === '/hooks') received.push(request.headers);
      request.resume();
      request.on('end', () => response.writeHead(request.url === '/hooks' ? 204 : 410).end());
    });
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    try {
      const { port } = receiver.address() as AddressInfo;
      const admin = await adminSession(system());
      const asAdmin = (method: string, path: string, body: unknown) =>
        call(system(), method, path, { token: admin.token, ip: admin.ip, body });
      for (const path of ['/hooks', '/gone']) {
        const partner = await dataOf<{ partner: { id: string } }>(
          await asAdmin('POST', '/v1/admin/partners', {
            name: `Traced ${crypto.randomUUID()}`,
            scheme: 'standard-webhooks',
          }),
          201,
        );
        await dataOf(
          await asAdmin('PUT', `/v1/admin/partners/${partner.partner.id}/subscription`, {
            webhookUrl: `http://127.0.0.1:${port}${path}`,
            events: ['product.created'],
          }),
          200,
        );
      }

      const { traceId, traceparent } = callerTrace();
      const created = await call(system(), 'POST', '/v1/products', {
        token: admin.token,
        ip: admin.ip,
        headers: { traceparent },
        body: {
          name: 'Traced walnut lamp',
          category: 'home',
          price: { amount: 4999, currency: 'EUR' },
          stock: 3,
        },
      });
      await dataOf(created, 201);

      const hook = await eventually('the partner receives the event', () => received[0], 20_000);
      expect(parseTraceparent(String(hook.traceparent))?.traceId).toBe(traceId);

      // product.created → product.cache-warm and partner.broadcast → partner.notify (twice),
      // every delivery in the trace; QStash's failure callback for the dead one as well.
      await eventually(
        'every delivery logged in the trace',
        () => {
          const jobs = linesOf(traceId)
            .edge.filter((line) => line.msg === 'request' && line.route === '/jobs/:type')
            .map(jobOf);
          const all = ['product.cache-warm', 'partner.broadcast', 'partner.notify'];
          return all.every((job) => jobs.includes(job)) ? jobs : undefined;
        },
        20_000,
      );
      await system().logs.waitFor(
        (line) => line.msg === 'job dead: QStash gave up on it' && line.traceId === traceId,
        20_000,
      );
    } finally {
      receiver.closeAllConnections();
      await new Promise((closed) => receiver.close(closed));
    }
  });

  it('survives the outbox: a job the sweep publishes later still continues the trace', {
    timeout: 60_000,
  }, async () => {
    await system().broker.stop();
    const { traceId, traceparent } = callerTrace();
    const account = await registerTraced(traceparent);
    await eventually('the failed publish is recorded on the outbox rows', async () => {
      const { rows } = await system().db.execute('SELECT attempts FROM outbox');
      return rows.length > 0 && rows.every((row) => Number(row.attempts) > 0) ? rows : undefined;
    });
    await system().broker.start();
    await system().db.execute('UPDATE outbox SET created_at = created_at - 60000');

    // Housekeeping as its schedule delivers it: a trace of its own.
    const url = `${system().edgeUrl}/jobs/maintenance.housekeeping`;
    const delivery = system().signedDelivery(
      url,
      JSON.stringify({ type: 'maintenance.housekeeping', payload: {} }),
    );
    const swept = await fetch(url, { method: 'POST', ...delivery });
    expect(swept.status, await swept.clone().text()).toBe(200);
    const sweepTrace = parseTraceparent(swept.headers.get('traceparent') ?? undefined);
    expect(sweepTrace?.traceId).not.toBe(traceId);

    await system().smtp.waitFor(
      () =>
        system()
          .smtp.to(account.email)
          .some((mail) => mail.text.includes(`${publicAppUrl}/verify-email?token=`)),
      15_000,
    );
    await eventually('the verification email logged as sent in the registration’s trace', () =>
      linesOf(traceId).node.find(
        (line) => line.msg === 'email sent' && line.type === 'email.verification',
      ),
    );
  });
});
