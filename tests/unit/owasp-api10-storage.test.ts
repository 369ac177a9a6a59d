// OWASP API10:2023, unsafe consumption of APIs, for object storage: the S3 adapter against a fake
// S3 that floods or stalls. A ranged read (the first bytes a direct upload is judged by) gets no
// more than it asked for from a server that ignores the range and sends 50 MB, and fails within
// the deadline when the bytes stop coming; a whole object streams at its reader's pace, so a
// reader that stops early stops the transfer; a refusal's 50 MB body gives up only its error
// code; a server that never answers fails the call at the deadline. The Workers entry's R2
// binding is Cloudflare's own API, not a server the adapter could be pointed at.
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Storage } from '../../src/platform/storage-s3.ts';

const MiB = 1024 * 1024;
const floodBytes = 50 * MiB;
const deadlineMs = 500;

/** What the fake bucket wrote on each answer before the connection closed, by key. */
const taken = new Map<string, Promise<number>>();
const sockets = new Set<Socket>();
let endpoint: string;
let close: () => Promise<void>;

/**
 * Writes `start`, then bytes up to `total` as fast as the client takes them, and resolves with how
 * many the connection took before it closed or all were written.
 */
function flood(response: ServerResponse, total: number, start = ''): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((done) => {
    let written = start.length;
    response.write(start);
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

/** The fake bucket: what it does is named by the object's key. */
function answer(key: string, response: ServerResponse): void {
  switch (key) {
    case 'flood':
      // A server that ignores Range: 200 and the whole object.
      response.writeHead(200, {
        'content-type': 'application/pdf',
        'content-length': floodBytes,
      });
      taken.set(key, flood(response, floodBytes));
      return;
    case 'refusal-flood':
      response.writeHead(500, { 'content-type': 'application/xml' });
      taken.set(key, flood(response, floodBytes, '<Error><Code>InternalError</Code>'));
      return;
    case 'stall-before-answer':
      return;
    case 'stall-in-range':
      response.writeHead(206, {
        'content-type': 'application/pdf',
        'content-range': 'bytes 0-4099/1048576',
        'content-length': 4100,
      });
      response.write('%PDF-1.7\n');
      return;
    case 'stall-in-refusal':
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.write('<Error><Code>SlowDown');
      return;
    default:
      response.writeHead(404).end();
  }
}

beforeAll(async () => {
  const server = createServer((request, response) => {
    request.resume();
    answer((request.url ?? '').split('/').at(-1) ?? '', response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () =>
    new Promise<void>((closed) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => closed());
    });
});

afterAll(async () => {
  await close?.();
});

const storage = () =>
  s3Storage({
    endpoint,
    bucket: 'owasp',
    accessKeyId: 'fake',
    secretAccessKey: 'fake',
    region: 'us-east-1',
    transferTimeoutMs: deadlineMs,
    requestTimeoutMs: deadlineMs,
  });

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );

describe('a server that floods', () => {
  it('gives a ranged read no more than it asked for, and the object’s real size', async () => {
    const object = await storage().get('uploads/flood', { length: 4_100 });
    expect(object?.size).toBe(floodBytes);
    const bytes = new Uint8Array(await new Response(object?.body).arrayBuffer());
    expect(bytes.byteLength).toBe(4_100);
    // The rest was cancelled: what the connection took is what the sockets' buffers held.
    expect(await taken.get('flood')).toBeLessThan(floodBytes / 4);
  });

  it('streams a whole object at its reader’s pace: a reader that stops stops the transfer', async () => {
    const object = await storage().get('downloads/flood');
    const reader = object?.body.getReader();
    let read = 0;
    while (reader !== undefined && read < MiB) {
      const { done, value } = await reader.read();
      if (done) break;
      read += value.byteLength;
    }
    await reader?.cancel();
    expect(read).toBeGreaterThanOrEqual(MiB);
    expect(await taken.get('flood')).toBeLessThan(floodBytes / 4);
  });

  it('gives up only the error code of a refusal, whatever its length', async () => {
    const error = await failureOf(storage().get('errors/refusal-flood'));
    expect(error.message).toBe('S3 storage refused GET: 500 InternalError');
    expect(await taken.get('refusal-flood')).toBeLessThan(floodBytes / 4);
  });
});

describe('a server that stalls', () => {
  it.each([
    ['before its answer, a read', () => storage().get('objects/stall-before-answer')],
    ['before its answer, a head', () => storage().head('objects/stall-before-answer')],
    ['before its answer, a delete', () => storage().delete('objects/stall-before-answer')],
    [
      'in the bytes of a ranged read',
      () => storage().get('uploads/stall-in-range', { length: 4_100 }),
    ],
  ])('fails the call at the deadline: %s', async (_, call) => {
    const error = await failureOf(call());
    expect(error.message).toBe(`S3 storage request failed: no answer within ${deadlineMs} ms`);
  });

  it('fails the call at the deadline in the body of a refusal, naming its status', async () => {
    const error = await failureOf(storage().get('objects/stall-in-refusal'));
    expect(error.message).toBe('S3 storage refused GET: 503');
  });
});
