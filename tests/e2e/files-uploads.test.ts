// POST /v1/files on the real Worker, with Miniflare's R2 bound as FILES: files are typed by their
// bytes whatever their name and Content-Type say, served back byte for byte with headers that keep
// a browser from running them, refused with their 4xx at the first thing wrong (and then nothing
// is kept, in the database or in the bucket), hidden from everyone but their owner and an
// administrator, removed from the bucket by a job after DELETE, and held to the storage quota
// under concurrent uploads. The whole jobs system runs, since file.delete-object is an edge job.
import { createHash } from 'node:crypto';
import type { Response } from 'miniflare';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectErrorEnvelope } from './harness/envelope.ts';
import { eventually } from './harness/eventually.ts';
import { call, dataOf, register } from './harness/identity.ts';
import { adminSession, type JobsSystem, startJobsSystem } from './harness/jobs-system.ts';
import {
  type MultipartBody,
  multipartFiles,
  rawHttp,
  rawMultipart,
  type UploadFile,
} from './harness/multipart.ts';

const MiB = 1024 * 1024;
const quotaBytes = 3 * MiB;

let system: JobsSystem;

beforeAll(async () => {
  system = await startJobsSystem({ vars: { STORAGE_QUOTA_BYTES: String(quotaBytes) } });
}, 60_000);

afterAll(async () => {
  await system?.close();
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
  createdAt: string;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A PDF as small as file type detection takes it, padded to `size` bytes when asked. */
function pdfBytes(size = 0): Uint8Array<ArrayBuffer> {
  const text = '%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n';
  const head = new TextEncoder().encode(text);
  const bytes = new Uint8Array(Math.max(size, head.byteLength + 6)).fill(0x20);
  bytes.set(head);
  bytes.set(new TextEncoder().encode('%%EOF\n'), bytes.byteLength - 6);
  return bytes;
}

/** A Windows executable's first bytes ("MZ"), which file type detection names as one. */
const exeBytes = () => Uint8Array.from({ length: 2048 }, (_, i) => [0x4d, 0x5a, 0x90][i] ?? 0);

/** Bytes that start with no signature file type detection knows. */
const noiseBytes = () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256);

const image = (format: 'png' | 'jpeg' | 'webp') =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7bd5' } })
    .toFormat(format)
    .toBuffer()
    .then((buffer) => new Uint8Array(buffer));

function upload(token: string, body: MultipartBody, path = '/v1/files'): Promise<Response> {
  return system.fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': body.contentType },
    body: body.body,
  });
}

async function uploadFiles(token: string, files: UploadFile[]): Promise<FileView[]> {
  return dataOf<FileView[]>(await upload(token, await multipartFiles(files)), 201);
}

const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
  call(system, 'GET', path, { ...(token !== undefined && { token }), headers });

async function listed(token: string, query = ''): Promise<{ data: FileView[]; total: number }> {
  const response = await get(`/v1/files${query}`, token);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: FileView[]; pagination: { total: number } };
  return { data: body.data, total: body.pagination.total };
}

/** The owner's objects in the bucket: every key lives under `users/<owner id>/`. */
async function storedFor(ownerId: string): Promise<string[]> {
  return (await system.storedKeys()).filter((key) => key.startsWith(`users/${ownerId}/`));
}

/** Waits until the bucket holds exactly `count` objects of the owner's. */
function storedCount(ownerId: string, count: number): Promise<string[]> {
  return eventually(`${count} objects of the owner in the bucket`, async () => {
    const keys = await storedFor(ownerId);
    return keys.length === count ? keys : undefined;
  });
}

describe('an upload of four files', () => {
  let owner: Awaited<ReturnType<typeof register>>;
  const sent: { name: string; bytes: Uint8Array; type: string; disposition: string }[] = [];
  let files: FileView[];

  beforeAll(async () => {
    owner = await register(system, 'files-owner');
    // Names and declared types that say nothing: the types must come from the bytes.
    sent.push(
      { name: 'scan-1', bytes: await image('png'), type: 'image/png', disposition: 'inline' },
      { name: 'scan-2', bytes: await image('jpeg'), type: 'image/jpeg', disposition: 'inline' },
      { name: 'scan-3', bytes: await image('webp'), type: 'image/webp', disposition: 'inline' },
      { name: 'scan-4', bytes: pdfBytes(), type: 'application/pdf', disposition: 'attachment' },
    );
    files = await uploadFiles(
      owner.session.accessToken,
      sent.map(({ name, bytes }) => ({ name, bytes, type: 'application/octet-stream' })),
    );
  });

  it('answers 201 with each file, typed by its bytes, sized and hashed, in the order sent', async () => {
    expect(files).toEqual(
      sent.map(({ name, bytes, type }) => ({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        kind: 'document',
        status: 'ready',
        name,
        contentType: type,
        size: bytes.byteLength,
        sha256: sha256Hex(bytes),
        url: expect.stringMatching(/^\/v1\/files\/[0-9a-f-]{36}\/content$/),
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      })),
    );
    for (const file of files) expect(file.url).toBe(`/v1/files/${file.id}/content`);
    expect(await storedFor(owner.id)).toHaveLength(4);
  });

  it('lists them a page at a time, and sorted as asked', async () => {
    const token = owner.session.accessToken;
    const byName = files.map((file) => file.id);
    const first = await listed(token, '?limit=3&sortBy=name&sortOrder=asc');
    expect(first.total).toBe(4);
    expect(first.data.map((file) => file.id)).toEqual(byName.slice(0, 3));
    const response = await get('/v1/files?limit=3&page=2&sortBy=name&sortOrder=asc', token);
    const second = (await response.json()) as { data: FileView[]; pagination: unknown };
    expect(second.data).toEqual([files[3]]);
    expect(second.pagination).toEqual({
      page: 2,
      limit: 3,
      total: 4,
      totalPages: 2,
      hasNext: false,
      hasPrev: true,
    });
    const bySize = await listed(token, '?sortBy=size&sortOrder=desc');
    const sizes = bySize.data.map((file) => file.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it('answers each file’s metadata as the upload did', async () => {
    for (const file of files) {
      expect(
        await dataOf(await get(`/v1/files/${file.id}`, owner.session.accessToken), 200),
      ).toEqual(file);
    }
  });

  it('serves the exact bytes with the detected type, nosniff, and inline only for images', async () => {
    for (const [i, file] of files.entries()) {
      const expected = sent[i];
      if (expected === undefined) throw new Error(`no file ${i} was sent`);
      const response = await get(file.url, owner.session.accessToken);
      expect(response.status).toBe(200);
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(expected.bytes);
      expect(Object.fromEntries(response.headers)).toMatchObject({
        'content-type': expected.type,
        'content-length': String(expected.bytes.byteLength),
        'x-content-type-options': 'nosniff',
        'content-disposition': `${expected.disposition}; filename="${expected.name}"; filename*=UTF-8''${expected.name}`,
        'cache-control': 'private, no-cache',
        etag: `"${sha256Hex(expected.bytes)}"`,
      });
    }
  });

  it('answers 304 with no body to an If-None-Match of the current ETag', async () => {
    const [file] = files;
    if (file === undefined) throw new Error('no file was uploaded');
    const etag = `"${file.sha256}"`;
    const response = await get(file.url, owner.session.accessToken, { 'if-none-match': etag });
    expect(response.status).toBe(304);
    expect(response.headers.get('etag')).toBe(etag);
    expect(await response.text()).toBe('');
    const stale = await get(file.url, owner.session.accessToken, { 'if-none-match': '"other"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });
});

describe('bytes that are not what they claim', () => {
  it('refuses a PDF named photo.png and sent as image/png as an avatar, naming application/pdf', async () => {
    const user = await register(system, 'files-disguised');
    const body = await multipartFiles(
      [{ name: 'photo.png', bytes: pdfBytes(), type: 'image/png' }],
      'avatar',
    );
    const refused = await expectErrorEnvelope(
      await upload(user.session.accessToken, body, '/v1/users/me/avatar'),
      415,
      'FILE_TYPE_NOT_ALLOWED',
    );
    expect(refused.error.message).toContain('application/pdf');
    expect(refused.error.details).toMatchObject({
      filename: 'photo.png',
      detected: 'application/pdf',
    });
  });

  it.each([
    ['an executable', 'setup.exe', exeBytes(), 'application/x-msdownload'],
    ['bytes of no known type', 'notes.pdf', noiseBytes(), null],
  ])('refuses %s as a document with 415', async (_what, name, bytes, detected) => {
    const user = await register(system, 'files-refused-type');
    const body = await multipartFiles([{ name, bytes, type: 'application/pdf' }]);
    const refused = await expectErrorEnvelope(
      await upload(user.session.accessToken, body),
      415,
      'FILE_TYPE_NOT_ALLOWED',
    );
    expect(refused.error.details).toEqual({
      filename: name,
      detected,
      allowed: ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'],
    });
    expect((await listed(user.session.accessToken)).total).toBe(0);
  });
});

describe('uploads refused by their body', () => {
  let user: Awaited<ReturnType<typeof register>>;

  beforeAll(async () => {
    user = await register(system, 'files-hostile');
  });

  const pdf = (name: string, bytes = pdfBytes()): UploadFile => ({ name, bytes });
  const tooBig = () => pdfBytes(6 * 1000 * 1000);

  it.each<[string, () => Promise<MultipartBody> | MultipartBody, number, string, unknown]>([
    [
      'a 6 MB file',
      () => multipartFiles([pdf('big.pdf', tooBig())]),
      413,
      'FILE_TOO_LARGE',
      { maxBytes: 5 * MiB, field: 'files', position: 1 },
    ],
    [
      'six files',
      () => multipartFiles(['1', '2', '3', '4', '5', '6'].map((n) => pdf(`${n}.pdf`))),
      400,
      'TOO_MANY_FILES',
      { maxFiles: 5 },
    ],
    [
      'an empty file',
      () => multipartFiles([pdf('empty.pdf', new Uint8Array())]),
      400,
      'FILE_EMPTY',
      { field: 'files', filename: 'empty.pdf' },
    ],
    [
      'a file in another field',
      () => rawMultipart([{ field: 'file', filename: 'a.pdf', content: pdfBytes() }]),
      400,
      'UPLOAD_FIELD_INVALID',
      { expected: 'files', got: 'file' },
    ],
    [
      'a text field',
      () => rawMultipart([{ field: 'files', content: 'not a file' }]),
      400,
      'UPLOAD_FIELD_INVALID',
      { expected: 'files', got: 'files' },
    ],
    [
      'a body cut off inside a file',
      () =>
        rawMultipart([{ field: 'files', filename: 'a.pdf', content: pdfBytes(4096) }], {
          cutAt: 2048,
        }),
      400,
      'MULTIPART_INVALID',
      undefined,
    ],
    [
      'a body without its closing boundary',
      () =>
        rawMultipart([{ field: 'files', filename: 'a.pdf', content: pdfBytes() }], {
          unclosed: true,
        }),
      400,
      'MULTIPART_INVALID',
      undefined,
    ],
  ])('refuses %s: %i %s', async (_what, build, status, code, details) => {
    const refused = await expectErrorEnvelope(
      await upload(user.session.accessToken, await build()),
      status,
      code,
    );
    expect(refused.error.details).toEqual(details);
  });

  it('refuses a JSON body with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const response = await call(system, 'POST', '/v1/files', {
      token: user.session.accessToken,
      body: { files: ['a.pdf'] },
    });
    const refused = await expectErrorEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(refused.error.details).toEqual({ accepted: ['multipart/form-data'] });
  });

  it('counts a chunked body without Content-Length as it arrives: 413 past 5 MiB', async () => {
    const { body, contentType } = await multipartFiles([pdf('streamed.pdf', tooBig())]);
    const chunk = 64 * 1024;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < body.byteLength; offset += chunk) {
          controller.enqueue(body.slice(offset, offset + chunk));
        }
        controller.close();
      },
    });
    const response = await system.fetch('/v1/files', {
      method: 'POST',
      headers: { authorization: `Bearer ${user.session.accessToken}`, 'content-type': contentType },
      body: stream,
      duplex: 'half',
    });
    await expectErrorEnvelope(response, 413, 'FILE_TOO_LARGE');
  });

  it('takes no more than a false small Content-Length announces: the file never passes', async () => {
    const { body, contentType } = await multipartFiles([pdf('smuggled.pdf', tooBig())]);
    const answer = await rawHttp(system.url, {
      method: 'POST',
      path: '/v1/files',
      headers: {
        authorization: `Bearer ${user.session.accessToken}`,
        'content-type': contentType,
        'content-length': '1000',
      },
      body,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'MULTIPART_INVALID' } });
  });

  it('kept nothing of any of them', async () => {
    expect(await listed(user.session.accessToken)).toEqual({ data: [], total: 0 });
    await storedCount(user.id, 0);
  });
});

describe('all or nothing', () => {
  it('keeps none of the files when a later one is refused, in the table or the bucket', async () => {
    const user = await register(system, 'files-partial');
    const token = user.session.accessToken;
    const good = [
      { name: 'one.png', bytes: await image('png') },
      { name: 'two.pdf', bytes: pdfBytes(64 * 1024) },
    ];
    await expectErrorEnvelope(
      await upload(token, await multipartFiles([...good, { name: 'x.exe', bytes: exeBytes() }])),
      415,
      'FILE_TYPE_NOT_ALLOWED',
    );
    await expectErrorEnvelope(
      await upload(
        token,
        await multipartFiles([...good, { name: 'big.pdf', bytes: pdfBytes(6 * 1000 * 1000) }]),
      ),
      413,
      'FILE_TOO_LARGE',
    );
    const whole = await multipartFiles([...good, { name: 'three.pdf', bytes: pdfBytes(8192) }]);
    await expectErrorEnvelope(
      await upload(token, { ...whole, body: whole.body.slice(0, whole.body.byteLength - 4000) }),
      400,
      'MULTIPART_INVALID',
    );
    expect(await listed(token)).toEqual({ data: [], total: 0 });
    // The files stored before the refusal are removed after the answer.
    await storedCount(user.id, 0);
  });
});

describe('whose files', () => {
  it('answers 404 to anyone but the owner, as for a file that does not exist', async () => {
    const owner = await register(system, 'files-private');
    const stranger = await register(system, 'files-stranger');
    const bytes = pdfBytes();
    const [file] = await uploadFiles(owner.session.accessToken, [{ name: 'private.pdf', bytes }]);
    if (file === undefined) throw new Error('no file was uploaded');
    const token = stranger.session.accessToken;

    await expectErrorEnvelope(await get(`/v1/files/${file.id}`, token), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await get(file.url, token), 404, 'NOT_FOUND');
    await expectErrorEnvelope(
      await call(system, 'DELETE', `/v1/files/${file.id}`, { token }),
      404,
      'NOT_FOUND',
    );
    // Without credentials, too: only a shown avatar is public.
    await expectErrorEnvelope(await get(file.url), 404, 'NOT_FOUND');
    const unknown = `/v1/files/${crypto.randomUUID()}`;
    await expectErrorEnvelope(await get(unknown, token), 404, 'NOT_FOUND');
    expect((await listed(token)).total).toBe(0);

    // The stranger's DELETE changed nothing.
    expect(await dataOf(await get(`/v1/files/${file.id}`, owner.session.accessToken), 200)).toEqual(
      file,
    );

    const admin = await adminSession(system);
    expect(await dataOf(await get(`/v1/files/${file.id}`, admin.token), 200)).toEqual(file);
    const content = await get(file.url, admin.token);
    expect(content.status).toBe(200);
    expect(new Uint8Array(await content.arrayBuffer())).toEqual(bytes);
  });
});

describe('DELETE /v1/files/{id}', () => {
  it('answers 204, then 404 everywhere, and the job removes the bytes from the bucket', async () => {
    const owner = await register(system, 'files-delete');
    const token = owner.session.accessToken;
    const [file] = await uploadFiles(token, [{ name: 'gone.pdf', bytes: pdfBytes() }]);
    if (file === undefined) throw new Error('no file was uploaded');
    await storedCount(owner.id, 1);
    const deletionJobs = () =>
      system.edgeProxy.paths.filter((path) => path === '/jobs/file.delete-object').length;
    const jobsBefore = deletionJobs();

    const deleted = await call(system, 'DELETE', `/v1/files/${file.id}`, { token });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    await expectErrorEnvelope(await get(`/v1/files/${file.id}`, token), 404, 'NOT_FOUND');
    await expectErrorEnvelope(await get(file.url, token), 404, 'NOT_FOUND');
    await expectErrorEnvelope(
      await call(system, 'DELETE', `/v1/files/${file.id}`, { token }),
      404,
      'NOT_FOUND',
    );
    expect(await listed(token)).toEqual({ data: [], total: 0 });
    await eventually('file.delete-object delivered to the edge', () =>
      deletionJobs() > jobsBefore ? true : undefined,
    );
    await storedCount(owner.id, 0);
  });
});

describe('file names', () => {
  it.each([
    ['../../etc/passwd', 'passwd', `attachment; filename="passwd"; filename*=UTF-8''passwd`],
    [
      '..\\..\\boot.ini.pdf',
      'boot.ini.pdf',
      `attachment; filename="boot.ini.pdf"; filename*=UTF-8''boot.ini.pdf`,
    ],
    [
      'in\u0007voice\u001b[31m\tQ3.pdf',
      'in voice [31m Q3.pdf',
      `attachment; filename="in voice [31m Q3.pdf"; filename*=UTF-8''in%20voice%20%5B31m%20Q3.pdf`,
    ],
    [
      'invoice\u202Efdp.exe',
      'invoicefdp.exe',
      `attachment; filename="invoicefdp.exe"; filename*=UTF-8''invoicefdp.exe`,
    ],
    [
      'résumé.pdf',
      'résumé.pdf',
      `attachment; filename="resume.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
    ],
    ['...', 'file', `attachment; filename="file"; filename*=UTF-8''file`],
  ])('keeps %j as %j, and sends it back safely', async (sentName, kept, disposition) => {
    const owner = await register(system, 'files-names');
    const token = owner.session.accessToken;
    const [file] = await uploadFiles(token, [{ name: sentName, bytes: pdfBytes() }]);
    expect(file?.name).toBe(kept);
    expect(await dataOf(await get(`/v1/files/${file?.id}`, token), 200)).toMatchObject({
      name: kept,
    });
    const content = await get(`/v1/files/${file?.id}/content`, token);
    expect(content.headers.get('content-disposition')).toBe(disposition);
    await content.arrayBuffer();
  });
});

describe('the storage quota', () => {
  it('admits exactly as many concurrent uploads as fit, and refuses the rest with 413', async () => {
    const owner = await register(system, 'files-quota');
    const token = owner.session.accessToken;
    const oneMiB = await multipartFiles([{ name: 'chunk.pdf', bytes: pdfBytes(MiB) }]);
    const answers = await Promise.all(Array.from({ length: 10 }, () => upload(token, oneMiB)));
    const bodies = await Promise.all(
      answers.map(async (response) => ({
        status: response.status,
        body: (await response.json()) as { error?: { code: string; details: unknown } },
      })),
    );
    const admitted = bodies.filter((answer) => answer.status === 201);
    const refused = bodies.filter((answer) => answer.status !== 201);
    expect(admitted).toHaveLength(3);
    for (const { status, body } of refused) {
      expect(status).toBe(413);
      expect(body.error).toMatchObject({
        code: 'STORAGE_QUOTA_EXCEEDED',
        details: { quotaBytes, usedBytes: expect.any(Number) },
      });
    }

    const { data, total } = await listed(token);
    expect(total).toBe(3);
    expect(data.reduce((sum, file) => sum + file.size, 0)).toBe(3 * MiB);
    // The refused uploads' bytes, stored before the quota said no, are removed.
    await storedCount(owner.id, 3);

    // Full: even a small file is refused, before its bytes are read.
    const small = await multipartFiles([{ name: 'small.pdf', bytes: pdfBytes() }]);
    const full = await expectErrorEnvelope(
      await upload(token, small),
      413,
      'STORAGE_QUOTA_EXCEEDED',
    );
    expect(full.error.details).toEqual({ quotaBytes, usedBytes: 3 * MiB });

    // A deleted file gives its bytes back.
    const [first] = data;
    expect((await call(system, 'DELETE', `/v1/files/${first?.id}`, { token })).status).toBe(204);
    expect(await dataOf(await upload(token, oneMiB), 201)).toHaveLength(1);
    expect((await listed(token)).total).toBe(3);
  });
});
