// OWASP API10:2023, unsafe consumption of APIs: what the other side answers is read within bounds,
// however large or slow it is. A partner's webhook endpoint answering 50 MB has only the first
// 64 KB read, and one that never answers (or never finishes its answer) lets the delivery go
// after 10 s, for QStash to retry; the Node worker's avatar job reads at most 10 MiB of an image,
// refuses one that says it is larger before reading it, and gives up on a source that stalls
// after 20 s, to be retried. The partner deliveries run on the real Worker (its receivers on
// 127.0.0.1, so PARTNER_WEBHOOK_ALLOW_PRIVATE is on), the avatar job in Node as worker-jobs runs
// it. Object storage's answers are bounded in tests/unit/owasp-api10-storage.test.ts.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobContext } from '../../src/jobs/job-delivery.ts';
import { PermanentJobError } from '../../src/jobs/job-delivery.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { avatarJob } from '../../worker-jobs/jobs/avatar.ts';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { dataOf, type IdentityWorker, startIdentityWorker } from './harness/identity.ts';
import {
  type Admin,
  adminOf,
  createPartner,
  deliverNotify,
  type HostileServer,
  retryReason,
  startHostileServer,
  subscribe,
} from './harness/owasp-flows.ts';

const MiB = 1024 * 1024;
const floodBytes = 50 * MiB;
/** What the Node worker reads of an image at most. */
const avatarSourceCap = 10 * MiB;

let worker: IdentityWorker;
let admin: Admin;
const servers: HostileServer[] = [];

beforeAll(async () => {
  worker = await startIdentityWorker({ PARTNER_WEBHOOK_ALLOW_PRIVATE: 'true' });
  admin = await adminOf(worker);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await worker?.close();
});

async function hostile(answer: Parameters<typeof startHostileServer>[0]): Promise<HostileServer> {
  const server = await startHostileServer(answer);
  servers.push(server);
  return server;
}

/**
 * Writes `total` bytes as fast as the client takes them (waiting for each drain, so nothing piles
 * up here) and resolves with how many the connection took before it closed or all were written.
 */
function flood(response: ServerResponse, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((done) => {
    let written = 0;
    response.once('close', () => done(written));
    const pump = () => {
      while (written < total) {
        written += chunk.byteLength;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
    };
    pump();
  });
}

/** A partner subscribed at `url`. */
async function partnerAt(url: string): Promise<string> {
  const partnerId = await createPartner(worker, admin);
  await dataOf(await subscribe(worker, admin, partnerId, `${url}/hook`), 200);
  return partnerId;
}

describe('a partner answering 50 MB', () => {
  it('has its answer read no further than the cap, and counts as delivered', async () => {
    const sent: Promise<number>[] = [];
    const endpoint = await hostile((_, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      sent.push(flood(response, floodBytes));
    });
    const { response } = await deliverNotify(worker, await partnerAt(endpoint.url));
    const data = await dataOf<{ result: unknown }>(response, 200);
    expect(data.result).toEqual({ delivered: true, status: 200 });

    const [taken = floodBytes] = await Promise.all(sent);
    // The cap, then what the sockets' buffers on both sides held when the Worker hung up.
    expect(taken).toBeLessThan(floodBytes / 4);
  });

  it('keeps only an excerpt of a failed answer, and has the attempt retried', async () => {
    const sent: Promise<number>[] = [];
    const endpoint = await hostile((_, response) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      sent.push(flood(response, floodBytes));
    });
    const { jobId, response } = await deliverNotify(worker, await partnerAt(endpoint.url));
    await expectErrorEnvelope(response, 503, 'SERVICE_UNAVAILABLE');
    const reason = await retryReason(worker, jobId);
    expect(reason).toMatch(new RegExp(`^${new URL(endpoint.url).host} answered 500: a+$`));
    expect(reason.length).toBeLessThan(300);
    const [taken = floodBytes] = await Promise.all(sent);
    expect(taken).toBeLessThan(floodBytes / 4);
  });
});

/** An avatar job's context, for a source and a target URL. */
function avatarContext(sourceUrl: string, targetUrl: string): JobContext<'image.avatar'> {
  const payload = { userId: crypto.randomUUID(), sourceUrl, targetUrl };
  return {
    key: `${crypto.randomUUID()}:image.avatar`,
    type: 'image.avatar',
    payload,
    message: { type: 'image.avatar', payload },
    messageId: `msg_owasp_${crypto.randomUUID()}`,
    attempt: 1,
    progress: async () => {},
    logger: createLogger('error', () => {}),
  };
}

describe('an avatar source serving 50 MB', () => {
  let target: HostileServer;

  beforeAll(async () => {
    target = await hostile((_, response) => {
      response.writeHead(204).end();
    });
  });

  it('is read only up to 10 MiB when it sends no length, then refused for good', async () => {
    const sent: Promise<number>[] = [];
    const source = await hostile((_, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      sent.push(flood(response, floodBytes));
    });
    const failure = await avatarJob(avatarContext(`${source.url}/source`, target.url)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PermanentJobError);
    expect((failure as Error).message).toBe(`the image is larger than ${avatarSourceCap} bytes`);
    const [taken = floodBytes] = await Promise.all(sent);
    expect(taken).toBeGreaterThan(avatarSourceCap);
    expect(taken).toBeLessThan(floodBytes / 2);
    expect(target.paths).toEqual([]);
  });

  it('is refused for good before a byte is read when it says how large it is', async () => {
    const sent: Promise<number>[] = [];
    const source = await hostile((_, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': floodBytes });
      sent.push(flood(response, floodBytes));
    });
    const failure = await avatarJob(avatarContext(`${source.url}/source`, target.url)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PermanentJobError);
    // Only what the sockets' buffers took before the job hung up.
    const [taken = floodBytes] = await Promise.all(sent);
    expect(taken).toBeLessThan(floodBytes / 4);
    expect(target.paths).toEqual([]);
  });
});

// Each of these waits for a real timeout (the Worker's 10 s, the Node worker's 20 s): they run at
// the same time, so the file waits for the longest once.
describe.concurrent('a party that stalls', () => {
  it('a partner that never answers: the delivery gives up and is retried', {
    timeout: 60_000,
  }, async () => {
    let requests = 0;
    const endpoint = await hostile((_, response) => {
      requests += 1;
      // The first request is held without a byte of answer; the retry is answered at once.
      if (requests > 1) response.writeHead(204).end();
    });
    const partnerId = await partnerAt(endpoint.url);
    const first = await deliverNotify(worker, partnerId);
    await expectErrorEnvelope(first.response, 503, 'SERVICE_UNAVAILABLE');
    expect(await retryReason(worker, first.jobId)).toBe(
      `${new URL(endpoint.url).host} could not be reached: no answer within 10000 ms`,
    );

    const retry = await deliverNotify(worker, partnerId, first.jobId);
    const data = await dataOf<{ result: unknown }>(retry.response, 200);
    expect(data.result).toEqual({ delivered: true, status: 204 });
    expect(requests).toBe(2);
  });

  it('a partner that never finishes its answer: the delivery takes the status and goes', {
    timeout: 60_000,
  }, async () => {
    const endpoint = await hostile((_, response) => {
      response.writeHead(202, { 'content-type': 'text/plain' });
      response.write('accepted, and then nothing more');
    });
    const { response } = await deliverNotify(worker, await partnerAt(endpoint.url));
    const data = await dataOf<{ result: unknown }>(response, 200);
    expect(data.result).toEqual({ delivered: true, status: 202 });
  });

  it('an avatar source that never finishes: the job gives up, to be retried', {
    timeout: 60_000,
  }, async () => {
    const target = await hostile((_, response) => {
      response.writeHead(204).end();
    });
    const source = await hostile((_, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.write(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    });
    const failure = await avatarJob(avatarContext(`${source.url}/source`, target.url)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(PermanentJobError);
    expect((failure as Error).name).toBe('TimeoutError');
    expect(target.paths).toEqual([]);
  });
});
