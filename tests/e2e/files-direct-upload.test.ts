// Direct uploads on the real Worker with Miniflare's R2: R2's binding cannot sign a URL, so the
// Worker answers one of its own under /v1/files/uploads/{id}/content, signed for one PUT until the
// upload expires. The bytes are taken only as announced (size by Content-Length and by what
// arrives, SHA-256 checked by R2), the completion types them by their first bytes, and an upload
// not completed in time answers 410 and is cleaned away by files.expire-uploads. The whole jobs
// system runs (a refused type's bytes are removed by file.delete-object); a second Worker whose
// uploads live 2 s shows the expiry.
import { createHash } from 'node:crypto';
import type { Response } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import { call, dataOf, register } from './harness/identity.ts';
import { type JobsSystem, startJobsSystem } from './harness/jobs-system.ts';
import { rawHttp } from './harness/multipart.ts';
import type { E2eWorker } from './harness/worker.ts';

const MiB = 1024 * 1024;

let system: JobsSystem;
/** A second deployment whose direct uploads expire after 2 s. */
let shortLived: JobsSystem;

beforeAll(async () => {
  [system, shortLived] = await Promise.all([
    startJobsSystem(),
    startJobsSystem({ vars: { DIRECT_UPLOAD_TTL: '2s' } }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([system?.close(), shortLived?.close()]);
}, 60_000);

interface FileView {
  id: string;
  kind: string;
  status: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  url: string;
}

interface DirectUpload {
  file: FileView;
  upload: { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string };
}

type User = Awaited<ReturnType<typeof register>>;

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A PDF of `size` bytes, its content told apart by `fill`. */
function pdfBytes(size: number, fill = 0x20): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size).fill(fill);
  bytes.set(new TextEncoder().encode('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'));
  return bytes;
}

async function announce(
  worker: E2eWorker,
  user: User,
  body: { name: string; size: number; sha256: string },
): Promise<Response> {
  return call(worker, 'POST', '/v1/files/uploads', { token: user.session.accessToken, body });
}

async function startUpload(
  user: User,
  name: string,
  bytes: Uint8Array,
  worker: E2eWorker = system,
): Promise<DirectUpload> {
  const announced = { name, size: bytes.byteLength, sha256: sha256Hex(bytes) };
  return dataOf<DirectUpload>(await announce(worker, user, announced), 201);
}

/** The upload URL's path and query, for a request sent to the Worker itself. */
const pathOf = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

/** PUTs to the upload URL through dispatchFetch, with the headers given. */
function putBytes(
  upload: DirectUpload,
  body: Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = upload.upload.headers,
  worker: E2eWorker = system,
): Promise<Response> {
  return worker.fetch(pathOf(upload.upload.url), {
    method: 'PUT',
    headers,
    body,
    ...(body instanceof ReadableStream && { duplex: 'half' as const }),
  });
}

const complete = (user: User, id: string, worker: E2eWorker = system) =>
  call(worker, 'POST', `/v1/files/uploads/${id}/complete`, { token: user.session.accessToken });

async function storedFor(worker: E2eWorker, user: User): Promise<string[]> {
  return (await worker.storedKeys()).filter((key) => key.startsWith(`users/${user.id}/`));
}

async function listedTotal(worker: E2eWorker, user: User): Promise<number> {
  const response = await call(worker, 'GET', '/v1/files', { token: user.session.accessToken });
  const body = (await response.json()) as { pagination: { total: number } };
  return body.pagination.total;
}

describe('a direct upload', () => {
  it('announces, takes the bytes at the signed URL, completes as the type they are, and serves them', async () => {
    const user = await register(system, 'direct-happy');
    // Larger than a multipart upload may carry: what direct uploads are for.
    const bytes = pdfBytes(6 * MiB);
    const started = Date.now();
    const created = await startUpload(user, 'site-survey.pdf', bytes);

    const { file, upload } = created;
    expect(file).toMatchObject({
      kind: 'document',
      status: 'uploading',
      name: 'site-survey.pdf',
      contentType: 'application/octet-stream',
      size: bytes.byteLength,
      sha256: sha256Hex(bytes),
      url: `/v1/files/${file.id}/content`,
    });
    expect(upload.method).toBe('PUT');
    expect(upload.headers).toEqual({
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.byteLength),
    });
    const url = new URL(upload.url);
    expect(url.origin).toBe(system.edgeUrl);
    expect(url.pathname).toBe(`/v1/files/uploads/${file.id}/content`);
    expect([...url.searchParams.keys()].sort()).toEqual(['expires', 'signature']);
    const expiresAt = Date.parse(upload.expiresAt);
    expect(expiresAt - started).toBeGreaterThan(14 * 60_000);
    expect(expiresAt - started).toBeLessThanOrEqual(15 * 60_000 + 5_000);
    expect(Number(url.searchParams.get('expires'))).toBe(Math.floor(expiresAt / 1000));

    // Listed while uploading, but there is nothing to download yet.
    expect(await listedTotal(system, user)).toBe(1);
    const token = user.session.accessToken;
    await expectErrorEnvelope(await call(system, 'GET', file.url, { token }), 404, 'NOT_FOUND');

    // As a client sends it: over HTTP to the public URL, with the headers answered.
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: bytes });
    expect(put.status, await put.clone().text()).toBe(204);
    expect(await put.text()).toBe('');

    const ready = await dataOf<FileView>(await complete(user, file.id), 200);
    expect(ready).toEqual({ ...file, status: 'ready', contentType: 'application/pdf' });
    expect(await dataOf<FileView>(await complete(user, file.id), 200)).toEqual(ready);

    const content = await call(system, 'GET', file.url, { token });
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('application/pdf');
    expect(content.headers.get('etag')).toBe(`"${sha256Hex(bytes)}"`);
    expect(content.headers.get('content-disposition')).toMatch(/^attachment; /);
    // Compared whole by Buffer: an element-wise toEqual over 6 MiB takes seconds.
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
    expect(await storedFor(system, user)).toHaveLength(1);

    // The URL was for one upload in progress: a completed file takes no new bytes.
    await expectErrorEnvelope(
      await putBytes(created, pdfBytes(bytes.byteLength, 0x21)),
      404,
      'NOT_FOUND',
    );
  });

  it('refuses to complete before the bytes arrived: 409 UPLOAD_INCOMPLETE', async () => {
    const user = await register(system, 'direct-early');
    const bytes = pdfBytes(10_000);
    const { file } = await startUpload(user, 'early.pdf', bytes);
    const refused = await expectErrorEnvelope(
      await complete(user, file.id),
      409,
      'UPLOAD_INCOMPLETE',
    );
    expect(refused.error.details).toEqual({ expectedBytes: 10_000, receivedBytes: 0 });
  });

  it('refuses bytes whose SHA-256 is not the one announced, and keeps none of them', async () => {
    const user = await register(system, 'direct-checksum');
    const announced = pdfBytes(50_000);
    const created = await startUpload(user, 'swapped.pdf', announced);
    await expectErrorEnvelope(
      await putBytes(created, pdfBytes(50_000, 0x2e)),
      422,
      'UPLOAD_CHECKSUM_MISMATCH',
    );
    expect(await storedFor(system, user)).toEqual([]);
    await expectErrorEnvelope(await complete(user, created.file.id), 409, 'UPLOAD_INCOMPLETE');
  });

  describe('bytes that are not the size announced', () => {
    let user: User;
    let bytes: Uint8Array<ArrayBuffer>;
    let created: DirectUpload;

    beforeAll(async () => {
      user = await register(system, 'direct-size');
      bytes = pdfBytes(100_000);
      created = await startUpload(user, 'sized.pdf', bytes);
    });

    const octets = { 'content-type': 'application/octet-stream' };
    const longer = () => {
      const more = new Uint8Array(bytes.byteLength + 5_000);
      more.set(bytes);
      return more;
    };

    it('refuses a Content-Length over or under the size announced: 409', async () => {
      for (const body of [longer(), bytes.slice(0, 60_000)]) {
        const refused = await expectErrorEnvelope(
          await putBytes(created, body, { ...octets, 'content-length': String(body.byteLength) }),
          409,
          'UPLOAD_INCOMPLETE',
        );
        expect(refused.error.details).toEqual({ expectedBytes: 100_000 });
      }
    });

    it('refuses a body without Content-Length: 409', async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      });
      await expectErrorEnvelope(await putBytes(created, stream, octets), 409, 'UPLOAD_INCOMPLETE');
    });

    it('refuses more bytes than its Content-Length says (chunked beside it): 413', async () => {
      // HTTP/1.1 frames this body by its chunks (Transfer-Encoding wins over Content-Length), and
      // workerd still hands the Worker the Content-Length as sent: the way a body can run past
      // the length it announces, so the bytes are counted as they pass.
      const more = longer();
      const chunked = Buffer.concat([
        Buffer.from(`${more.byteLength.toString(16)}\r\n`),
        more,
        Buffer.from('\r\n0\r\n\r\n'),
      ]);
      const answer = await rawHttp(system.url, {
        method: 'PUT',
        path: pathOf(created.upload.url),
        headers: {
          ...octets,
          'content-length': String(bytes.byteLength),
          'transfer-encoding': 'chunked',
        },
        body: chunked,
      });
      expect(answer.status, answer.body).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    });

    it('refuses a body that ends before its Content-Length: 409', async () => {
      const answer = await rawHttp(system.url, {
        method: 'PUT',
        path: pathOf(created.upload.url),
        headers: { ...octets, 'content-length': String(bytes.byteLength) },
        body: bytes.slice(0, 50_000),
      });
      expect(answer.status, answer.body).toBe(409);
      expect(JSON.parse(answer.body)).toMatchObject({
        error: {
          code: 'UPLOAD_INCOMPLETE',
          details: { expectedBytes: 100_000, receivedBytes: 50_000 },
        },
      });
    });

    it('stores nothing of them, and still takes the bytes announced', async () => {
      expect(await storedFor(system, user)).toEqual([]);
      await expectErrorEnvelope(await complete(user, created.file.id), 409, 'UPLOAD_INCOMPLETE');
      expect((await putBytes(created, bytes)).status).toBe(204);
      const ready = await dataOf<FileView>(await complete(user, created.file.id), 200);
      expect(ready).toMatchObject({ status: 'ready', size: 100_000, sha256: sha256Hex(bytes) });
    });
  });

  it('refuses bytes of a disallowed type at completion, and the file and its bytes are gone', async () => {
    const user = await register(system, 'direct-type');
    const exe = new Uint8Array(20_000);
    exe.set([0x4d, 0x5a, 0x90, 0x00]);
    const created = await startUpload(user, 'report.pdf', exe);
    expect((await putBytes(created, exe)).status).toBe(204);
    expect(await storedFor(system, user)).toHaveLength(1);

    const refused = await expectErrorEnvelope(
      await complete(user, created.file.id),
      415,
      'FILE_TYPE_NOT_ALLOWED',
    );
    expect(refused.error.details).toMatchObject({
      filename: 'report.pdf',
      detected: 'application/x-msdownload',
    });
    const token = user.session.accessToken;
    const { id } = created.file;
    await expectErrorEnvelope(
      await call(system, 'GET', `/v1/files/${id}`, { token }),
      404,
      'NOT_FOUND',
    );
    await expectErrorEnvelope(await complete(user, id), 404, 'NOT_FOUND');
    expect(await listedTotal(system, user)).toBe(0);
    await eventually('the refused bytes removed from the bucket', async () =>
      (await storedFor(system, user)).length === 0 ? true : undefined,
    );
  });

  it('refuses a size over DIRECT_UPLOAD_MAX_BYTES, and one past the quota: 413', async () => {
    const user = await register(system, 'direct-limits');
    const sha256 = sha256Hex(new Uint8Array());
    const over = await expectErrorEnvelope(
      await announce(system, user, { name: 'huge.pdf', size: 50 * MiB + 1, sha256 }),
      413,
      'FILE_TOO_LARGE',
    );
    expect(over.error.details).toEqual({ maxBytes: 50 * MiB });

    // Announced sizes count towards the 100 MiB quota before a byte is sent.
    for (const name of ['half-1.pdf', 'half-2.pdf']) {
      await dataOf(await announce(system, user, { name, size: 50 * MiB, sha256 }), 201);
    }
    const full = await expectErrorEnvelope(
      await announce(system, user, { name: 'one-more.pdf', size: 1, sha256 }),
      413,
      'STORAGE_QUOTA_EXCEEDED',
    );
    expect(full.error.details).toEqual({ quotaBytes: 100 * MiB, usedBytes: 100 * MiB });
  });

  it.each([
    ['an upper-case SHA-256', { name: 'a.pdf', size: 10, sha256: 'A'.repeat(64) }],
    ['a size of zero', { name: 'a.pdf', size: 0, sha256: 'a'.repeat(64) }],
    ['no name', { size: 10, sha256: 'a'.repeat(64) }],
    ['an unknown field', { name: 'a.pdf', size: 10, sha256: 'a'.repeat(64), type: 'x' }],
  ])('refuses %s: 422', async (_what, body) => {
    const user = await register(system, 'direct-invalid');
    const response = await call(system, 'POST', '/v1/files/uploads', {
      token: user.session.accessToken,
      body,
    });
    await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  });

  it('is completed by its owner only, and its URL works only as signed', async () => {
    const owner = await register(system, 'direct-owner');
    const stranger = await register(system, 'direct-stranger');
    const bytes = pdfBytes(1_000);
    const created = await startUpload(owner, 'mine.pdf', bytes);
    await expectErrorEnvelope(await complete(stranger, created.file.id), 404, 'NOT_FOUND');

    const url = new URL(created.upload.url);
    const unsigned = await system.fetch(url.pathname, {
      method: 'PUT',
      headers: created.upload.headers,
      body: bytes,
    });
    await expectErrorEnvelope(unsigned, 401, 'SIGNATURE_MISSING');
    url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 60));
    const extended = await system.fetch(pathOf(url.toString()), {
      method: 'PUT',
      headers: created.upload.headers,
      body: bytes,
    });
    await expectErrorEnvelope(extended, 401, 'SIGNATURE_INVALID');
    expect(await storedFor(system, owner)).toEqual([]);
  });
});

describe('an upload not completed in time', () => {
  it('answers 410 at completion, and files.expire-uploads removes its row and its bytes', async () => {
    const user = await register(shortLived, 'direct-expired');
    const bytes = pdfBytes(20_000);
    const created = await startUpload(user, 'late.pdf', bytes, shortLived);
    expect(created.upload.url.startsWith(`${shortLived.edgeUrl}/v1/files/uploads/`)).toBe(true);
    expect((await putBytes(created, bytes, created.upload.headers, shortLived)).status).toBe(204);
    expect(await storedFor(shortLived, user)).toHaveLength(1);

    const expiresAt = Date.parse(created.upload.expiresAt);
    await eventually('the upload’s time to run out', () =>
      Date.now() > expiresAt ? true : undefined,
    );
    await expectErrorEnvelope(
      await complete(user, created.file.id, shortLived),
      410,
      'UPLOAD_EXPIRED',
    );
    await expectErrorEnvelope(
      await putBytes(created, bytes, created.upload.headers, shortLived),
      401,
      'SIGNATURE_EXPIRED',
    );
    // Until the clean-up runs, the upload is still listed, and holds its quota.
    expect(await listedTotal(shortLived, user)).toBe(1);

    // The schedule's job, as QStash delivers it: signed for the Worker's public URL. The row goes
    // at once; the bytes go with the file.delete-object job staged beside its removal.
    const jobUrl = `${shortLived.edgeUrl}/jobs/files.expire-uploads`;
    const delivery = shortLived.signedDelivery(
      jobUrl,
      JSON.stringify({ type: 'files.expire-uploads', payload: {} }),
    );
    const delivered = await fetch(jobUrl, { method: 'POST', ...delivery });
    expect(delivered.status, await delivered.clone().text()).toBe(200);

    await eventually('the expired upload’s bytes to be removed', async () =>
      (await storedFor(shortLived, user)).length === 0 ? true : undefined,
    );
    expect(await listedTotal(shortLived, user)).toBe(0);
    const token = user.session.accessToken;
    await expectErrorEnvelope(
      await call(shortLived, 'GET', `/v1/files/${created.file.id}`, { token }),
      404,
      'NOT_FOUND',
    );
    await expectErrorEnvelope(await complete(user, created.file.id, shortLived), 404, 'NOT_FOUND');
  });
});
