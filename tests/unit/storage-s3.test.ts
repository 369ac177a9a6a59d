// The S3 storage adapter against a real S3-compatible server, s3rver, which checks every SigV4
// signature (headers and presigned URLs, with their expiry) as S3 does. What it does not check is
// `x-amz-checksum-sha256`: it stores whatever bytes arrive. So the checksum is asserted here as it
// leaves the adapter (sent and signed), and its verification is left to S3, R2 and MinIO.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import {
  type S3StorageOptions,
  s3Storage,
  s3StorageFromConfig,
} from '../../src/platform/storage-s3.ts';
import { closedPortUrl, startHangingServer } from '../support/dead-endpoints.ts';
import { offlineDeps } from '../support/offline-deps.ts';

/** The part of s3rver's API used here: the package ships no types. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as S3rverConstructor;

let directory: string;
let server: S3rverServer;
let endpoint: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'nexus-s3rver-'));
  server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: 'test-bucket' }],
  });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

const storage = (options: Partial<S3StorageOptions> = {}, fetchImpl?: typeof fetch) =>
  s3Storage(
    {
      endpoint,
      bucket: 'test-bucket',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      region: 'us-east-1',
      ...options,
    },
    fetchImpl,
  );

const freshKey = (name = 'file.bin') => `tests/${randomUUID()}/${name}`;
const bytesOf = (text: string) => new TextEncoder().encode(text);
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function textOf(body: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(body).text();
}

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );

describe('put, get, head and delete', () => {
  it('stores bytes and gives them back with their content type and size', async () => {
    const key = freshKey('notes.txt');
    const body = bytesOf('hello, storage');
    await storage().put(key, body, { size: body.length, contentType: 'text/plain' });

    const object = await storage().get(key);
    expect(object).toMatchObject({ size: body.length, contentType: 'text/plain' });
    expect(await textOf(object?.body as ReadableStream<Uint8Array>)).toBe('hello, storage');
    expect(await storage().head(key)).toEqual({ size: body.length, contentType: 'text/plain' });
  });

  it('stores a stream of several chunks as one object', async () => {
    const key = freshKey();
    const chunks = [bytesOf('first '), bytesOf('second '), bytesOf('third')];
    await storage().put(key, streamOf(...chunks), { size: 18, contentType: 'image/png' });

    const object = await storage().get(key);
    expect(object).toMatchObject({ size: 18, contentType: 'image/png' });
    expect(await textOf(object?.body as ReadableStream<Uint8Array>)).toBe('first second third');
  });

  it('fails a put whose body is shorter or longer than announced', async () => {
    const announced = { size: 10, contentType: 'text/plain' };
    const failures = await Promise.all([
      failureOf(storage().put(freshKey(), streamOf(bytesOf('abc')), announced)),
      failureOf(
        storage().put(freshKey(), streamOf(bytesOf('abcdef'), bytesOf('ghijkl')), announced),
      ),
      failureOf(storage().put(freshKey(), bytesOf('abc'), announced)),
    ]);
    expect(failures.map((error) => error.message)).toEqual([
      'The body ended after 3 of the 10 bytes announced',
      'The body runs past the 10 bytes announced',
      'The body has 3 bytes, not the 10 announced',
    ]);
  });

  it("fails a put with the error the caller's stream failed with, as it is", async () => {
    class TooManyBytes extends Error {}
    const refusal = new TooManyBytes('More bytes arrived than allowed');
    let sent = false;
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) throw refusal;
        sent = true;
        controller.enqueue(bytesOf('first part'));
      },
    });
    const error = await failureOf(
      storage().put(freshKey(), failing, { size: 100, contentType: 'text/plain' }),
    );
    expect(error).toBe(refusal);
  });

  it("reads the first bytes of an object, reporting the whole object's size", async () => {
    const key = freshKey();
    const body = bytesOf('0123456789abcdef');
    await storage().put(key, body, { size: body.length, contentType: 'application/octet-stream' });

    const start = await storage().get(key, { length: 4 });
    expect(start).toMatchObject({ size: 16, contentType: 'application/octet-stream' });
    expect(await textOf(start?.body as ReadableStream<Uint8Array>)).toBe('0123');
  });

  it('deletes an object, after which it is gone; deleting it again succeeds', async () => {
    const key = freshKey();
    await storage().put(key, bytesOf('x'), { size: 1, contentType: 'text/plain' });

    await storage().delete(key);
    expect(await storage().get(key)).toBeUndefined();
    expect(await storage().head(key)).toBeUndefined();
    await expect(storage().delete(key)).resolves.toBeUndefined();
  });

  it('keeps keys with slashes, spaces, reserved characters and unicode apart and intact', async () => {
    const prefix = `tests/${randomUUID()}`;
    const keys = [
      `${prefix}/a/b/c.txt`,
      `${prefix}/a%2Fb/c.txt`,
      `${prefix}/ünï cødé/日本語 ファイル.txt`,
      `${prefix}/x+y=z&w?q#h/!'()*;,@$.txt`,
      `${prefix}/emoji 📦/file.txt`,
    ];
    for (const key of keys) {
      await storage().put(key, bytesOf(key), {
        size: bytesOf(key).length,
        contentType: 'text/plain',
      });
    }
    for (const key of keys) {
      const object = await storage().get(key);
      expect(await textOf(object?.body as ReadableStream<Uint8Array>)).toBe(key);
    }
  });

  it('answers undefined for a missing object, and fails for a missing bucket', async () => {
    expect(await storage().get(freshKey())).toBeUndefined();
    expect(await storage().head(freshKey())).toBeUndefined();

    const error = await failureOf(storage({ bucket: 'no-such-bucket' }).get(freshKey()));
    expect(error.message).toBe('S3 storage refused GET: 404 NoSuchBucket');
  });

  it('lets a download outlast the deadline: the deadline is on the answer, not the reading', async () => {
    const key = freshKey();
    const body = new Uint8Array(256 * 1024).fill(7);
    await storage().put(key, body, { size: body.length, contentType: 'application/octet-stream' });

    const object = await storage({ transferTimeoutMs: 200 }).get(key);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const read = new Uint8Array(await new Response(object?.body).arrayBuffer());
    expect(sha256Of(read)).toBe(sha256Of(body));
  });
});

describe('signatures and checksums', () => {
  it('is refused by the server when the secret key is wrong', async () => {
    const error = await failureOf(
      storage({ secretAccessKey: 'not-the-secret' }).put(freshKey(), bytesOf('x'), {
        size: 1,
        contentType: 'text/plain',
      }),
    );
    expect(error.message).toBe('S3 storage refused PUT: 403 SignatureDoesNotMatch');
  });

  it('sends the SHA-256 as a signed base64 checksum, and the server accepts the signature', async () => {
    const sent: Headers[] = [];
    const recording: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      sent.push(request.headers);
      return fetch(request);
    };
    const key = freshKey();
    const body = bytesOf('checked bytes');
    const sha256 = sha256Of(body);
    await storage({}, recording).put(key, body, {
      size: body.length,
      contentType: 'text/plain',
      sha256,
    });

    const [headers] = sent;
    expect(headers?.get('x-amz-checksum-sha256')).toBe(
      Buffer.from(sha256, 'hex').toString('base64'),
    );
    expect(headers?.get('authorization')).toMatch(/SignedHeaders=[^,]*x-amz-checksum-sha256/);
    expect(await storage().head(key)).toMatchObject({ size: body.length });
  });

  it('refuses a sha256 that is not 64 hex digits before sending anything', async () => {
    await expect(
      storage().put(freshKey(), bytesOf('x'), {
        size: 1,
        contentType: 'text/plain',
        sha256: 'xyz',
      }),
    ).rejects.toThrow('sha256 must be 64 hex digits');
  });
});

describe('presigned uploads', () => {
  const body = bytesOf('uploaded straight to the bucket');
  const options = {
    size: body.length,
    contentType: 'application/pdf',
    sha256: sha256Of(body),
    expiresInSeconds: 300,
  };

  it('gives a URL and the headers to send, which a plain fetch stores the object with', async () => {
    const key = freshKey('report 2026 – final.pdf');
    const signed = await storage().presignPut(key, options);
    if (signed === undefined) throw new Error('expected a presigned URL');

    expect(signed.headers).toEqual({
      'content-type': 'application/pdf',
      'content-length': String(body.length),
      'x-amz-checksum-sha256': Buffer.from(options.sha256, 'hex').toString('base64'),
    });
    expect(new URL(signed.url).searchParams.get('X-Amz-SignedHeaders')).toBe(
      'content-length;content-type;host;x-amz-checksum-sha256',
    );
    const response = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body });
    expect(response.status).toBe(200);

    const object = await storage().get(key);
    expect(object).toMatchObject({ size: body.length, contentType: 'application/pdf' });
    expect(await textOf(object?.body as ReadableStream<Uint8Array>)).toBe(
      'uploaded straight to the bucket',
    );
  });

  it('is refused with another content type, another length or without the checksum', async () => {
    const key = freshKey();
    const signed = await storage().presignPut(key, options);
    if (signed === undefined) throw new Error('expected a presigned URL');
    const { 'x-amz-checksum-sha256': _checksum, ...withoutChecksum } = signed.headers;
    const longer = bytesOf('uploaded straight to the bucket, and more');

    const attempts = [
      { headers: { ...signed.headers, 'content-type': 'text/html' }, body },
      { headers: { ...signed.headers, 'content-length': String(longer.length) }, body: longer },
      { headers: withoutChecksum, body },
    ];
    for (const attempt of attempts) {
      const response = await fetch(signed.url, { method: 'PUT', ...attempt });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect(await storage().head(key)).toBeUndefined();
  });

  it('is refused for another key or a longer lifetime written into the URL', async () => {
    const key = freshKey('mine.pdf');
    const signed = await storage().presignPut(key, options);
    if (signed === undefined) throw new Error('expected a presigned URL');
    const otherKey = new URL(signed.url);
    otherKey.pathname = otherKey.pathname.replace('mine.pdf', 'theirs.pdf');
    const longerLife = new URL(signed.url);
    longerLife.searchParams.set('X-Amz-Expires', '604800');

    for (const url of [otherKey, longerLife]) {
      const response = await fetch(url, { method: 'PUT', headers: signed.headers, body });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    expect(await storage().head(key)).toBeUndefined();
  });

  it('is refused once expired', async () => {
    const key = freshKey();
    // Signed two minutes ago for one minute: aws4fetch reads the signing time from Date.
    vi.useFakeTimers({ toFake: ['Date'] });
    let signed: Awaited<ReturnType<ReturnType<typeof storage>['presignPut']>>;
    try {
      vi.setSystemTime(Date.now() - 120_000);
      signed = await storage().presignPut(key, { ...options, expiresInSeconds: 60 });
    } finally {
      vi.useRealTimers();
    }
    if (signed === undefined) throw new Error('expected a presigned URL');

    const response = await fetch(signed.url, { method: 'PUT', headers: signed.headers, body });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
    expect(await storage().head(key)).toBeUndefined();
  });
});

describe('an unavailable server', () => {
  it('fails every call at once when nothing listens', async () => {
    const down = storage({ endpoint: await closedPortUrl() });
    const calls = [
      down.put(freshKey(), bytesOf('x'), { size: 1, contentType: 'text/plain' }),
      down.get(freshKey()),
      down.head(freshKey()),
      down.delete(freshKey()),
    ];
    for (const failure of await Promise.all(calls.map(failureOf))) {
      expect(failure.message).toMatch(
        /^S3 storage request failed: fetch failed \(connect ECONNREFUSED /,
      );
    }
  });

  it('fails a call the server never answers once its deadline passes', async () => {
    const hanging = await startHangingServer();
    try {
      const silent = storage({
        endpoint: hanging.url,
        transferTimeoutMs: 300,
        requestTimeoutMs: 200,
      });
      const started = performance.now();
      const [put, head] = await Promise.all([
        failureOf(silent.put(freshKey(), streamOf(bytesOf('x')), { size: 1, contentType: 'a/b' })),
        failureOf(silent.head(freshKey())),
      ]);
      expect(put.message).toBe('S3 storage request failed: no answer within 300 ms');
      expect(head.message).toBe('S3 storage request failed: no answer within 200 ms');
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await hanging.close();
    }
  });
});

describe('a redirect', () => {
  it('is a refusal, not followed to where it points', async () => {
    // What S3 answers for a bucket in another region, pointing here at the real server.
    const redirecting = createServer((request, response) => {
      response.writeHead(301, {
        location: `${endpoint}${request.url}`,
        'content-type': 'application/xml',
      });
      response.end(
        '<Error><Code>PermanentRedirect</Code><Message>Use the other one</Message></Error>',
      );
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = redirecting.address() as AddressInfo;
      const misdirected = storage({ endpoint: `http://127.0.0.1:${port}` });
      const key = freshKey();

      const error = await failureOf(
        misdirected.put(key, bytesOf('x'), { size: 1, contentType: 'text/plain' }),
      );
      expect(error.message).toBe('S3 storage refused PUT: 301 PermanentRedirect');
      expect(await storage().head(key)).toBeUndefined();
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });
});

describe('s3StorageFromConfig', () => {
  const all = {
    S3_ENDPOINT: 'https://account.r2.cloudflarestorage.com',
    S3_BUCKET: 'uploads',
    S3_ACCESS_KEY_ID: 'key-id',
    S3_SECRET_ACCESS_KEY: 'secret',
  };
  const configWith = (variables: Record<string, string>) => offlineDeps(variables).deps.config;

  it('builds the S3 storage when the bucket and its keys are set, and none when nothing is', () => {
    expect(s3StorageFromConfig(configWith(all))?.kind).toBe('s3');
    expect(s3StorageFromConfig(configWith({}))).toBeUndefined();
  });

  it('is a configuration error, naming the missing variables, when only some are set', () => {
    const { S3_SECRET_ACCESS_KEY: _secret, S3_BUCKET: _bucket, ...some } = all;
    const error = (() => {
      try {
        configWith(some);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(['S3_BUCKET', 'S3_SECRET_ACCESS_KEY']);
    expect((error as ConfigError).message).toContain(
      'S3_BUCKET: must be set along with S3_ENDPOINT, S3_ACCESS_KEY_ID',
    );
  });
});
