// The Node worker as QStash meets it: signed deliveries to POST /jobs/<type> on the app built by
// createWorkerApp, its job state in the real Redis (database 6) behind the local Upstash REST
// server, its mail going to a real SMTP server, and its avatars fetched from and PUT to real HTTP
// servers. What is checked is what QStash and a user see: statuses, envelopes, mail received.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { summarise } from '../../local-stack/mailbox/mime.ts';
import { signDelivery } from '../../local-stack/qstash/signing.ts';
import { ConfigError } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { createWorkerApp } from '../../worker-jobs/app.ts';
import { parseWorkerConfig } from '../../worker-jobs/config.ts';
import { createWorkerDeps } from '../../worker-jobs/deps.ts';
import { startTestRedisRest } from '../support/test-stack.ts';

const token = 'worker-jobs-test-token';
const currentKey = 'sig_worker_jobs_current_key';
const nextKey = 'sig_worker_jobs_next_key';
const jobsBaseUrl = 'http://jobs.nexus-edge.test';

interface ReceivedMail {
  to: string[];
  raw: string;
}

let redis: RunningHttpServer;
let smtp: SMTPServer;
let smtpUrl: string;
const inbox: ReceivedMail[] = [];

/** Recipients that make the SMTP server refuse: for a while (451) or for good (550). */
const busyRecipient = 'busy@example.com';
const refusedRecipient = 'nobody@example.com';

beforeAll(async () => {
  redis = await startTestRedisRest({ redisDb: 6, token, flush: true });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    closeTimeout: 500,
    logger: false,
    onRcptTo(address, _session, callback) {
      const refuse = (responseCode: number, message: string) =>
        callback(Object.assign(new Error(message), { responseCode }));
      if (address.address === busyRecipient) return refuse(451, 'Try again later');
      if (address.address === refusedRecipient) return refuse(550, 'No such user');
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        inbox.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => (smtp ? smtp.close(() => done()) : done()));
  await redis?.close();
});

function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    JOBS_BASE_URL: jobsBaseUrl,
    QSTASH_CURRENT_SIGNING_KEY: currentKey,
    QSTASH_NEXT_SIGNING_KEY: nextKey,
    UPSTASH_REDIS_REST_URL: redis.url,
    UPSTASH_REDIS_REST_TOKEN: token,
    SMTP_URL: smtpUrl,
    PUBLIC_APP_URL: 'http://app.nexus-edge.test',
    API_VERSION: '9.9.9',
    ...overrides,
  };
}

const logLines: string[] = [];

function worker(overrides: Record<string, string> = {}) {
  const deps = createWorkerDeps(
    parseWorkerConfig(workerEnv(overrides)),
    createLogger('debug', (line) => logLines.push(line)),
  );
  return { app: createWorkerApp(deps), deps };
}

let current: ReturnType<typeof worker>;

beforeEach(() => {
  inbox.length = 0;
  logLines.length = 0;
});

beforeAll(() => {
  current = worker();
});

afterAll(() => {
  current?.deps.mailer.close();
});

interface Envelope {
  success: boolean;
  data: { key: string; duplicate: boolean; result?: unknown };
  error: { code: string; details?: unknown };
}

/** The text/plain part as a mail client shows it, decoded from quoted-printable. */
function textOf(mail: ReceivedMail | undefined): string {
  return summarise(Buffer.from(mail?.raw ?? '')).text;
}

interface Delivery {
  type: string;
  body: unknown;
  signingKey?: string;
  messageId?: string;
  /** The URL the signature names, if not the endpoint's own. */
  signedUrl?: string;
}

async function deliver(delivery: Delivery, app = current.app) {
  const path = `/jobs/${delivery.type}`;
  const body = new TextEncoder().encode(JSON.stringify(delivery.body));
  const signature = signDelivery({
    url: delivery.signedUrl ?? `${jobsBaseUrl}${path}`,
    body,
    signingKey: delivery.signingKey ?? currentKey,
    nowMs: Date.now(),
  });
  // A proxy forwards to the worker's own address; the signature names the public one.
  const response = await app.fetch(
    new Request(`http://127.0.0.1:8789${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'upstash-signature': signature,
        'upstash-message-id': delivery.messageId ?? `msg_${crypto.randomUUID()}`,
      },
      body,
    }),
  );
  return { response, json: (await response.json()) as Envelope };
}

function verificationJob(id: string, to = 'ada@example.com') {
  return {
    id,
    type: 'email.verification',
    payload: {
      to,
      name: 'Ada <Lovelace>',
      link: `http://app.nexus-edge.test/verify-email?token=${id}-token`,
    },
  };
}

describe('email jobs', () => {
  it('sends exactly one email for a delivery signed with the current key, and none for its repeat', async () => {
    const job = verificationJob('job-verify-1');
    const first = await deliver({ type: 'email.verification', body: job });
    expect(first.response.status).toBe(200);
    expect(first.json).toMatchObject({
      success: true,
      data: { key: 'job-verify-1', type: 'email.verification', duplicate: false },
      meta: { version: '9.9.9' },
    });
    expect(inbox).toHaveLength(1);
    const [mail] = inbox;
    expect(mail?.to).toEqual(['ada@example.com']);
    expect(mail?.raw).toContain('Message-ID: <job-verify-1@nexus-edge>');
    expect(mail?.raw).toContain('Subject: Confirm your email address');
    expect(textOf(mail)).toContain(job.payload.link);
    expect(textOf(mail)).toContain('Hi Ada <Lovelace>,');
    // In the HTML part the name is text, never markup.
    expect(mail?.raw).toContain('Ada &lt;Lovelace&gt;');
    expect(mail?.raw.split('Content-Type: text/html')[1]).not.toContain('<Lovelace>');

    const again = await deliver({ type: 'email.verification', body: job });
    expect(again.response.status).toBe(200);
    expect(again.json.data).toMatchObject({ key: 'job-verify-1', duplicate: true });
    expect(inbox).toHaveLength(1);

    const record = await current.deps.jobState.read('job-verify-1');
    expect(record?.state.status).toBe('completed');
  });

  it('accepts a delivery signed with the next key', async () => {
    const { response } = await deliver({
      type: 'email.verification',
      body: verificationJob('job-verify-next'),
      signingKey: nextKey,
    });
    expect(response.status).toBe(200);
    expect(inbox).toHaveLength(1);
  });

  it('sends the other account emails with their templates', async () => {
    const deliveries = [
      {
        type: 'email.password-reset',
        payload: { to: 'ada@example.com', name: 'Ada', link: 'http://app.test/reset?token=r1' },
        expected: 'http://app.test/reset?token=r1',
      },
      {
        type: 'email.welcome',
        payload: { to: 'ada@example.com', name: 'Ada' },
        expected: 'http://app.nexus-edge.test',
      },
      {
        type: 'email.password-changed',
        payload: { to: 'ada@example.com', name: 'Ada' },
        expected: 'password of your nexus-edge account was just changed',
      },
      {
        type: 'email.weekly-digest',
        payload: {
          to: 'ada@example.com',
          name: 'Ada',
          weekOf: '2026-11-16',
          stats: { newUsers: 42, activeApiKeys: 7 },
        },
        expected: 'New users:        42',
      },
    ];
    for (const [index, { type, payload, expected }] of deliveries.entries()) {
      const { response } = await deliver({
        type,
        body: { id: `job-mail-${index}`, type, payload },
      });
      expect(response.status, type).toBe(200);
      expect(textOf(inbox[index]), type).toContain(expected);
    }
    expect(inbox).toHaveLength(4);
    // The welcome is sent at registration: it must not claim the address is already confirmed.
    const welcome = textOf(inbox[1]);
    expect(welcome).toContain('confirm your email address with the link in the separate email');
    expect(welcome).not.toMatch(/address is confirmed|is verified/i);
  });

  it('refuses a bad signature with 401 and sends nothing', async () => {
    const job = verificationJob('job-forged');
    const wrongKey = await deliver({
      type: 'email.verification',
      body: job,
      signingKey: 'sig_someone_elses_key',
    });
    expect(wrongKey.response.status).toBe(401);
    expect(wrongKey.json.error.code).toBe('SIGNATURE_INVALID');

    const wrongUrl = await deliver({
      type: 'email.verification',
      body: job,
      signedUrl: `http://127.0.0.1:8789/jobs/email.verification`,
    });
    expect(wrongUrl.response.status).toBe(401);
    expect(wrongUrl.json.error.code).toBe('SIGNATURE_WRONG_URL');
    // The operator sees which check failed: a wrong JOBS_BASE_URL shows as such.
    const refusals = logLines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'request')
      .map((line) => [line.status, line.errorCode]);
    expect(refusals).toEqual([
      [401, 'SIGNATURE_INVALID'],
      [401, 'SIGNATURE_WRONG_URL'],
    ]);

    const unsigned = await current.app.fetch(
      new Request(`${jobsBaseUrl}/jobs/email.verification`, {
        method: 'POST',
        body: JSON.stringify(job),
      }),
    );
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as Envelope).error.code).toBe('SIGNATURE_MISSING');
    expect(inbox).toHaveLength(0);
    expect(await current.deps.jobState.read('job-forged')).toBeNull();
  });

  it('takes a signature once: a captured delivery sent again under a new message id is refused', async () => {
    const path = '/jobs/email.welcome';
    const body = new TextEncoder().encode(
      JSON.stringify({ type: 'email.welcome', payload: { to: 'ada@example.com', name: 'Ada' } }),
    );
    const signature = signDelivery({
      url: `${jobsBaseUrl}${path}`,
      body,
      signingKey: currentKey,
      nowMs: Date.now(),
    });
    const send = (messageId: string) =>
      current.app.fetch(
        new Request(`http://127.0.0.1:8789${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'upstash-signature': signature,
            'upstash-message-id': messageId,
          },
          body,
        }),
      );

    expect((await send('msg_scheduled_1')).status).toBe(200);
    const replayed = await send('msg_scheduled_2');
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as Envelope).error.code).toBe('SIGNATURE_REPLAYED');
    expect(inbox).toHaveLength(1);
  });

  it('answers 489 with Upstash-NonRetryable-Error to a payload that can never succeed', async () => {
    const { response, json } = await deliver({
      type: 'email.verification',
      body: { id: 'job-invalid', type: 'email.verification', payload: { to: 'not-an-email' } },
    });
    expect(response.status).toBe(489);
    expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
    expect(json.error.code).toBe('JOB_PAYLOAD_INVALID');
    expect(inbox).toHaveLength(0);
  });

  it('answers 503 when the SMTP server refuses for now (451), so QStash retries', async () => {
    const { response, json } = await deliver({
      type: 'email.verification',
      body: verificationJob('job-smtp-busy', busyRecipient),
    });
    expect(response.status).toBe(503);
    expect(json.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(response.headers.get('upstash-nonretryable-error')).toBeNull();
    expect(JSON.stringify(json)).not.toContain('Try again later');
    const record = await current.deps.jobState.read('job-smtp-busy');
    expect(record?.state.status).toBe('pending');
  });

  it('answers 489 when the SMTP server refuses for good (550), so QStash dead-letters it', async () => {
    const { response, json } = await deliver({
      type: 'email.verification',
      body: verificationJob('job-smtp-refused', refusedRecipient),
    });
    expect(response.status).toBe(489);
    expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
    expect(json.error.code).toBe('JOB_FAILED');
    const record = await current.deps.jobState.read('job-smtp-refused');
    expect(record?.state).toMatchObject({ status: 'failed' });
  });
});

interface ImageServer {
  url: string;
  uploads: { contentType: string | undefined; body: Buffer }[];
  close(): Promise<void>;
}

/** Serves GET /source.png and /not-an-image.txt, and keeps every PUT /avatar. */
async function startImageServer(png: Buffer): Promise<ImageServer> {
  const uploads: ImageServer['uploads'] = [];
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/source.png') {
      response.writeHead(200, { 'content-type': 'image/png' }).end(png);
      return;
    }
    if (request.method === 'GET' && request.url === '/not-an-image.txt') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('hello, not an image');
      return;
    }
    if (request.method === 'PUT' && request.url === '/avatar') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        uploads.push({ contentType: request.headers['content-type'], body: Buffer.concat(chunks) });
        response.writeHead(200).end();
      });
      return;
    }
    response.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

describe('image.avatar', () => {
  let images: ImageServer;

  beforeAll(async () => {
    const png = await sharp({
      create: { width: 900, height: 600, channels: 3, background: { r: 200, g: 40, b: 90 } },
    })
      .png()
      .toBuffer();
    images = await startImageServer(png);
  });

  afterAll(async () => {
    await images?.close();
  });

  it('turns the source image into a 400x400 JPEG and PUTs it to the target', async () => {
    const id = 'job-avatar-1';
    const { response, json } = await deliver({
      type: 'image.avatar',
      body: {
        id,
        type: 'image.avatar',
        payload: {
          userId: crypto.randomUUID(),
          sourceUrl: `${images.url}/source.png`,
          targetUrl: `${images.url}/avatar`,
        },
      },
    });
    expect(response.status).toBe(200);
    expect(images.uploads).toHaveLength(1);
    const [upload] = images.uploads;
    expect(upload?.contentType).toBe('image/jpeg');
    const metadata = await sharp(upload?.body).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 400, height: 400 });
    expect(metadata.exif).toBeUndefined();
    expect(json.data.result).toEqual({ bytes: upload?.body.length, width: 400, height: 400 });
    const record = await current.deps.jobState.read(id);
    expect(record?.state).toEqual({ status: 'completed', result: json.data.result });
  });

  it('dead-letters an input that is not an image', async () => {
    const { response, json } = await deliver({
      type: 'image.avatar',
      body: {
        id: 'job-avatar-text',
        type: 'image.avatar',
        payload: {
          userId: crypto.randomUUID(),
          sourceUrl: `${images.url}/not-an-image.txt`,
          targetUrl: `${images.url}/avatar`,
        },
      },
    });
    expect(response.status).toBe(489);
    expect(response.headers.get('upstash-nonretryable-error')).toBe('true');
    expect(json.error.code).toBe('JOB_FAILED');
  });
});

describe('routes', () => {
  it('answers 404 in the envelope for edge-only and unknown job types', async () => {
    for (const type of ['audit.record', 'no.such-job']) {
      const { response, json } = await deliver({ type, body: { type, payload: {} } });
      expect(response.status, type).toBe(404);
      expect(json).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
    }
  });

  it('refuses a body over MAX_BODY_BYTES with 413 before reading it', async () => {
    const small = worker({ MAX_BODY_BYTES: '1024' });
    try {
      const { response, json } = await deliver(
        {
          type: 'email.verification',
          body: { ...verificationJob('job-too-big'), padding: 'x'.repeat(2_000) },
        },
        small.app,
      );
      expect(response.status).toBe(413);
      expect(json.error).toEqual({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'Request body exceeds 1024 bytes',
        details: { maxBytes: 1024 },
      });
      expect(inbox).toHaveLength(0);
      expect(await small.deps.jobState.read('job-too-big')).toBeNull();
    } finally {
      small.deps.mailer.close();
    }
  });

  it('answers health probes in the envelope, with a request id and one log line each', async () => {
    const live = await current.app.fetch(
      new Request('http://127.0.0.1:8789/health', {
        headers: { 'x-request-id': 'probe-12345678' },
      }),
    );
    expect(live.status).toBe(200);
    expect(live.headers.get('x-request-id')).toBe('probe-12345678');
    expect(await live.json()).toMatchObject({
      success: true,
      data: { status: 'ok' },
      meta: { requestId: 'probe-12345678', version: '9.9.9' },
    });

    const ready = await current.app.fetch(new Request('http://127.0.0.1:8789/health/ready'));
    expect(ready.status).toBe(200);

    const lines = logLines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');
    expect(lines).toEqual([
      expect.objectContaining({ path: '/health', status: 200, requestId: 'probe-12345678' }),
      expect.objectContaining({ path: '/health/ready', status: 200 }),
    ]);
  });

  it('is not ready, naming smtp, when the SMTP server cannot be reached', async () => {
    const down = worker({ SMTP_URL: 'smtp://127.0.0.1:1', HEALTH_TIMEOUT_MS: '2000' });
    try {
      const response = await down.app.fetch(new Request('http://127.0.0.1:8789/health/ready'));
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        success: false,
        error: { code: 'SERVICE_UNAVAILABLE', details: { failing: ['smtp'] } },
      });
    } finally {
      down.deps.mailer.close();
    }
  });
});

describe('configuration and entry', () => {
  it('names the variable that is wrong', () => {
    expect(() => parseWorkerConfig(workerEnv({ SMTP_URL: 'http://mail.example.com' }))).toThrow(
      ConfigError,
    );
    try {
      parseWorkerConfig(workerEnv({ SMTP_URL: 'http://mail.example.com', PORT: 'eighty' }));
    } catch (error) {
      expect((error as ConfigError).variables.sort()).toEqual(['PORT', 'SMTP_URL']);
    }
  });

  // Two Node processes start here; on a loaded machine each takes seconds.
  it('`node worker-jobs/main.ts` exits 1 naming a bad variable, and serves until SIGTERM', async () => {
    const run = (env: Record<string, string>) =>
      spawn(process.execPath, ['worker-jobs/main.ts'], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    const bad = run(workerEnv({ SMTP_URL: '' }));
    let stderr = '';
    bad.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const [badCode] = await once(bad, 'exit');
    expect(badCode).toBe(1);
    expect(stderr).toContain('SMTP_URL');

    const good = run(workerEnv({ PORT: '0', LOG_LEVEL: 'info' }));
    const exited = once(good, 'exit');
    try {
      let stdout = '';
      good.stdout?.on('data', (chunk) => {
        stdout += chunk;
      });
      while (!stdout.includes('"listening"')) await new Promise((done) => setTimeout(done, 50));
      const url = (JSON.parse(stdout.split('\n')[0] as string) as { url: string }).url;
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      good.kill('SIGTERM');
      const [goodCode] = await exited;
      expect(goodCode).toBe(0);
    } finally {
      if (good.exitCode === null && good.signalCode === null) good.kill('SIGKILL');
    }
  }, 90_000);
});
