// Business rules for files: what may be uploaded (decided by the bytes), who may see and delete
// a file (its owner, or files:admin; anyone for an avatar that is shown), the quota, and direct
// uploads that go to storage without passing through a request's memory.
import type { Config } from '../../config.ts';
import type { FileRow } from '../../db/schema.ts';
import { type JobOrigin, type PreparedJob, prepareJob } from '../../jobs/enqueue.ts';
import { toHex } from '../../lib/base64.ts';
import { exactLength } from '../../lib/byte-limits.ts';
import type { Pagination } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { detectContentType } from '../../lib/file-content-type.ts';
import { sanitizeFileName } from '../../lib/file-names.ts';
import { readUploadedFiles, type UploadedFile } from '../../lib/multipart-upload.ts';
import { randomToken } from '../../lib/opaque-tokens.ts';
import { type PageRequest, paginationOf } from '../../lib/pagination.ts';
import { signUrl, verifySignedUrl } from '../../lib/signed-urls.ts';
import type { TraceContext } from '../../lib/trace-context.ts';
import type { Clock } from '../../platform/clock.ts';
import {
  type ObjectStorage,
  onStorage,
  type StoredObject,
  storageUnavailable,
} from '../../platform/storage.ts';
import { fileContentPath } from '../users/user-serializer.ts';
import type { FileSortColumn, FilesRepository, FileValues } from './files.repository.ts';
import {
  type DirectUploadRequest,
  type DirectUploadView,
  documentTypes,
  type FileView,
} from './files.schemas.ts';

export type FilesConfig = Pick<
  Config,
  | 'API_PUBLIC_URL'
  | 'UPLOAD_MAX_FILE_BYTES'
  | 'UPLOAD_MAX_FILES'
  | 'DIRECT_UPLOAD_MAX_BYTES'
  | 'DIRECT_UPLOAD_TTL'
  | 'STORAGE_QUOTA_BYTES'
>;

export interface FilesServiceDeps {
  files: FilesRepository;
  /** Undefined where no storage is configured: then every route that needs it answers 503. */
  storage: ObjectStorage | undefined;
  clock: Clock;
  /** The request's trace: the jobs a change stages carry it. */
  trace?: TraceContext;
  config: FilesConfig;
  /** What the URLs we sign are signed with (serverSecretOf). */
  urlSecret: string;
  /** Publishes staged jobs after the response (the outbox keeps them until then). */
  publish(jobs: PreparedJob[]): void;
  /** Work that may finish after the response: removing objects a refused upload left. */
  background(task: string, work: Promise<unknown>): void;
  /** Forgets cached profiles and product pages, which show avatars. */
  forgetProfiles(): Promise<void>;
}

/** Who is asking: the owner sees their files, files:admin sees everyone's. */
export interface FileViewer {
  userId: string;
  isAdmin: boolean;
}

/** What file-type reads to recognise any of the allowed types. */
const sniffBytes = 4100;

export function storageOf(deps: Pick<FilesServiceDeps, 'storage'>): ObjectStorage {
  if (deps.storage === undefined) {
    throw storageUnavailable(new Error('no storage is configured'));
  }
  return deps.storage;
}

/** A key no one can guess or derive from a name: the owner's prefix and 128 random bits. */
export function newStorageKey(ownerId: string, suffix = ''): string {
  return `users/${ownerId}/${randomToken(16)}${suffix}`;
}

export function serializeFile(file: FileRow): FileView {
  return {
    id: file.id,
    kind: file.kind,
    status: file.status,
    name: file.name,
    contentType: file.contentType,
    size: file.size,
    sha256: file.sha256,
    url: fileContentPath(file.id),
    createdAt: file.createdAt.toISOString(),
  };
}

export async function sha256Of(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

/** The refusal of bytes that are not one of `allowed`, naming what they are. */
export function typeNotAllowed(
  filename: string | undefined,
  detected: string | undefined,
  allowed: readonly string[],
): AppError {
  const what = detected === undefined ? 'no type we recognise' : detected;
  return new AppError(
    'FILE_TYPE_NOT_ALLOWED',
    `${filename ?? 'The file'} is ${what}, by its content; allowed: ${allowed.join(', ')}`,
    { details: { filename, detected: detected ?? null, allowed } },
  );
}

/** The allowed type the bytes are, whatever name or Content-Type they came with. */
export async function checkedType(
  bytes: Uint8Array,
  filename: string | undefined,
  allowed: readonly string[],
): Promise<string> {
  const found = await detectContentType(bytes);
  if (found === undefined || !allowed.includes(found.mime)) {
    throw typeNotAllowed(filename, found?.mime, allowed);
  }
  return found.mime;
}

/**
 * The row that will record an uploaded file, once its bytes proved to be one of `allowed`: the
 * detected type, the sanitized name, the size that arrived and the SHA-256.
 */
export async function fileValuesOf(
  deps: Pick<FilesServiceDeps, 'clock'>,
  ownerId: string,
  upload: UploadedFile,
  allowed: readonly string[],
  placement: Pick<FileValues, 'kind' | 'status' | 'storageKey' | 'sourceKey'>,
): Promise<FileValues> {
  const contentType = await checkedType(upload.bytes, upload.filename, allowed);
  const now = deps.clock.now();
  return {
    id: crypto.randomUUID(),
    ownerId,
    ...placement,
    name: sanitizeFileName(upload.filename, placement.kind === 'avatar' ? 'avatar' : 'file'),
    contentType,
    size: upload.bytes.byteLength,
    sha256: await sha256Of(upload.bytes),
    expiresAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Stores an upload's bytes under `key`, with what its row says of them. */
export function storeBytes(
  storage: ObjectStorage,
  key: string,
  bytes: Uint8Array,
  row: Pick<FileValues, 'size' | 'contentType' | 'sha256'>,
): Promise<void> {
  const { size, contentType, sha256 } = row;
  return onStorage(() => storage.put(key, bytes, { size, contentType, sha256 }));
}

function quotaExceeded(quotaBytes: number, usedBytes: number): AppError {
  return new AppError(
    'STORAGE_QUOTA_EXCEEDED',
    `This upload would take your files past your ${quotaBytes} bytes of storage`,
    { details: { quotaBytes, usedBytes } },
  );
}

function uploadExpired(): AppError {
  return new AppError('UPLOAD_EXPIRED', 'This upload’s time ran out: start a new one');
}

function fileNotFound(): AppError {
  return new AppError('NOT_FOUND', 'File not found');
}

/** Removes objects nothing will point at (a refused upload's), after the response. */
function discard(deps: FilesServiceDeps, storage: ObjectStorage, keys: string[]): void {
  if (keys.length === 0) return;
  deps.background('discard-objects', Promise.all(keys.map((key) => storage.delete(key))));
}

/**
 * Up to UPLOAD_MAX_FILES documents in the `files` field: each checked by its bytes and stored as
 * it arrives (one file in memory at a time), then all recorded in one statement that also checks
 * the quota. Any refusal refuses the whole upload and removes what was stored.
 */
export async function uploadDocuments(
  deps: FilesServiceDeps,
  ownerId: string,
  request: Request,
): Promise<FileView[]> {
  const storage = storageOf(deps);
  const quota = deps.config.STORAGE_QUOTA_BYTES;
  // A user already at the quota is told before a byte is read.
  const used = await deps.files.usedBytes(ownerId);
  if (used >= quota) throw quotaExceeded(quota, used);

  const stored: FileValues[] = [];
  try {
    const uploads = readUploadedFiles(request, {
      field: 'files',
      maxFiles: deps.config.UPLOAD_MAX_FILES,
      maxFileBytes: deps.config.UPLOAD_MAX_FILE_BYTES,
    });
    for await (const upload of uploads) {
      const row = await fileValuesOf(deps, ownerId, upload, documentTypes, {
        kind: 'document',
        status: 'ready',
        storageKey: newStorageKey(ownerId),
        sourceKey: null,
      });
      await storeBytes(storage, row.storageKey, upload.bytes, row);
      stored.push(row);
    }
    if (!(await deps.files.insertWithinQuota(ownerId, stored, quota))) {
      throw quotaExceeded(quota, await deps.files.usedBytes(ownerId));
    }
  } catch (error) {
    discard(
      deps,
      storage,
      stored.map((row) => row.storageKey),
    );
    throw error;
  }
  return stored.map((row) => serializeFile({ ...row, deletedAt: null }));
}

export async function listFiles(
  deps: Pick<FilesServiceDeps, 'files'>,
  ownerId: string,
  page: PageRequest<FileSortColumn>,
): Promise<{ data: FileView[]; pagination: Pagination }> {
  const { rows, total } = await deps.files.listByOwner(ownerId, page);
  return { data: rows.map(serializeFile), pagination: paginationOf(page, total) };
}

/**
 * A file the viewer may see: their own, or anyone's with files:admin. Anyone else's answers 404,
 * as a file that does not exist: the answer must not tell it exists.
 */
async function visibleFile(
  deps: Pick<FilesServiceDeps, 'files'>,
  viewer: FileViewer,
  id: string,
): Promise<FileRow> {
  const file = await deps.files.findById(id);
  if (file === undefined || (file.ownerId !== viewer.userId && !viewer.isAdmin)) {
    throw fileNotFound();
  }
  return file;
}

export async function getFile(
  deps: Pick<FilesServiceDeps, 'files'>,
  viewer: FileViewer,
  id: string,
): Promise<FileView> {
  return serializeFile(await visibleFile(deps, viewer, id));
}

/**
 * The bytes of a ready file, for its owner or files:admin; a ready avatar for anyone (it is part
 * of the public profile). `viewer` is undefined for an anonymous request.
 */
export async function openFileContent(
  deps: FilesServiceDeps,
  viewer: FileViewer | undefined,
  id: string,
): Promise<{ file: FileRow; object: StoredObject }> {
  const storage = storageOf(deps);
  const file = await deps.files.findById(id);
  const publicAvatar = file?.kind === 'avatar' && file.status === 'ready';
  const allowed =
    publicAvatar || (viewer !== undefined && (file?.ownerId === viewer.userId || viewer.isAdmin));
  if (file === undefined || !allowed || file.status !== 'ready') throw fileNotFound();
  const object = await onStorage(() => storage.get(file.storageKey));
  // The row says it is there and storage says it is not: nothing the client can fix or tell.
  if (object === undefined) throw fileNotFound();
  return { file, object };
}

/** The jobs that remove a file's objects: its bytes, and an avatar's original if still kept. */
export function objectDeletions(origin: JobOrigin, file: FileRow): PreparedJob[] {
  return [file.storageKey, file.sourceKey].flatMap((key) =>
    key === null
      ? []
      : [prepareJob(origin, 'file.delete-object', { key }, { id: `delete:${file.id}:${key}` })],
  );
}

/** Soft-deletes the file at once; its objects are removed by jobs staged with the deletion. */
export async function deleteFile(
  deps: FilesServiceDeps,
  viewer: FileViewer,
  id: string,
): Promise<void> {
  const file = await visibleFile(deps, viewer, id);
  const jobs = objectDeletions(deps, file);
  if (!(await deps.files.softDelete(file, deps.clock.now(), jobs))) throw fileNotFound();
  deps.publish(jobs);
  // It may have been the avatar a profile shows.
  if (file.kind === 'avatar') await deps.forgetProfiles();
}

// Direct uploads: a URL the client PUTs the bytes to (storage's own where it can sign one, else
// ours), then a completion that checks them before the file is visible.

function expiresAtOf(deps: FilesServiceDeps): Date {
  return new Date(deps.clock.now().getTime() + deps.config.DIRECT_UPLOAD_TTL * 1000);
}

/** The URL a direct upload's bytes go to when storage cannot sign one: the Worker takes them. */
export function directUploadPath(fileId: string): string {
  return `/v1/files/uploads/${fileId}/content`;
}

const uploadContentType = 'application/octet-stream';

export async function createDirectUpload(
  deps: FilesServiceDeps,
  ownerId: string,
  input: DirectUploadRequest,
): Promise<DirectUploadView> {
  const storage = storageOf(deps);
  const maxBytes = deps.config.DIRECT_UPLOAD_MAX_BYTES;
  if (input.size > maxBytes) {
    throw new AppError('FILE_TOO_LARGE', `A direct upload may be at most ${maxBytes} bytes`, {
      details: { maxBytes },
    });
  }
  const now = deps.clock.now();
  const expiresAt = expiresAtOf(deps);
  const row: FileValues = {
    id: crypto.randomUUID(),
    ownerId,
    kind: 'document',
    status: 'uploading',
    storageKey: newStorageKey(ownerId),
    sourceKey: null,
    name: sanitizeFileName(input.name, 'file'),
    contentType: uploadContentType,
    size: input.size,
    sha256: input.sha256,
    expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  const quota = deps.config.STORAGE_QUOTA_BYTES;
  if (!(await deps.files.insertWithinQuota(ownerId, [row], quota))) {
    throw quotaExceeded(quota, await deps.files.usedBytes(ownerId));
  }
  const putOptions = { size: row.size, contentType: uploadContentType, sha256: row.sha256 };
  const presigned = await onStorage(() =>
    storage.presignPut(row.storageKey, {
      ...putOptions,
      expiresInSeconds: deps.config.DIRECT_UPLOAD_TTL,
    }),
  );
  const upload = presigned ?? {
    url: await signUrl(
      deps.urlSecret,
      'PUT',
      `${deps.config.API_PUBLIC_URL}${directUploadPath(row.id)}`,
      expiresAt,
    ),
    headers: { 'content-type': uploadContentType, 'content-length': String(row.size) },
  };
  return {
    file: serializeFile({ ...row, deletedAt: null }),
    upload: { method: 'PUT', ...upload, expiresAt: expiresAt.toISOString() },
  };
}

/**
 * The bytes of a direct upload, PUT to the URL we signed: streamed into storage, counted as they
 * pass, exactly the size announced, and checked against the announced SHA-256 by storage.
 */
export async function receiveDirectUpload(
  deps: FilesServiceDeps,
  id: string,
  request: Request,
): Promise<void> {
  await verifySignedUrl(deps.urlSecret, request.method, request.url, deps.clock.now().getTime());
  const storage = storageOf(deps);
  const file = await deps.files.findById(id);
  if (file === undefined || file.status !== 'uploading') throw fileNotFound();
  const declared = request.headers.get('content-length');
  const body = request.body;
  if (declared !== String(file.size) || body === null) {
    throw new AppError(
      'UPLOAD_INCOMPLETE',
      `Send exactly the ${file.size} bytes announced, with that Content-Length`,
      { details: { expectedBytes: file.size } },
    );
  }
  const bytes = exactLength(body, file.size, {
    tooLarge: () =>
      new AppError('FILE_TOO_LARGE', `More bytes arrived than the ${file.size} announced`, {
        details: { maxBytes: file.size },
      }),
    tooShort: (received) =>
      new AppError(
        'UPLOAD_INCOMPLETE',
        `The body ended after ${received} of the ${file.size} bytes announced`,
        { details: { expectedBytes: file.size, receivedBytes: received } },
      ),
  });
  try {
    await onStorage(() =>
      storage.put(file.storageKey, bytes.stream, {
        size: file.size,
        contentType: uploadContentType,
        sha256: file.sha256,
      }),
    );
  } catch (error) {
    // Storage fails the put whichever side broke it off: a body refused is the sender's fault.
    throw bytes.refusal() ?? error;
  }
}

/**
 * Makes a direct upload visible once its bytes are in storage, the size announced and an allowed
 * type by their first bytes. Bytes of a refused type are removed, and their quota given back.
 * Completing a completed upload answers the file again.
 */
export async function completeDirectUpload(
  deps: FilesServiceDeps,
  ownerId: string,
  id: string,
): Promise<FileView> {
  const storage = storageOf(deps);
  const file = await deps.files.findById(id);
  if (file === undefined || file.ownerId !== ownerId) throw fileNotFound();
  if (file.status !== 'uploading') return serializeFile(file);
  if (file.expiresAt !== null && file.expiresAt.getTime() <= deps.clock.now().getTime()) {
    throw uploadExpired();
  }
  const head = await onStorage(() => storage.get(file.storageKey, { length: sniffBytes }));
  if (head === undefined || head.size !== file.size) {
    await head?.body.cancel();
    throw new AppError(
      'UPLOAD_INCOMPLETE',
      head === undefined
        ? 'No bytes have arrived for this upload yet'
        : `The upload holds ${head.size} bytes, not the ${file.size} announced`,
      { details: { expectedBytes: file.size, receivedBytes: head?.size ?? 0 } },
    );
  }
  const start = new Uint8Array(await new Response(head.body).arrayBuffer());
  let contentType: string;
  try {
    contentType = await checkedType(start, file.name, documentTypes);
  } catch (error) {
    const jobs = objectDeletions(deps, file);
    await deps.files.softDelete(file, deps.clock.now(), jobs);
    deps.publish(jobs);
    throw error;
  }
  const ready = await deps.files.completeUpload(file.id, contentType, deps.clock.now());
  // Its time ran out while its bytes were being checked: the clean-up may be removing it.
  if (ready === undefined) throw uploadExpired();
  return serializeFile(ready);
}

/** How long an avatar may stay pending: its job's retries are over within minutes. */
const pendingAvatarLimitMs = 60 * 60 * 1000;

/**
 * The scheduled clean-up: direct uploads whose time ran out, and avatars whose image never came.
 * Each row goes with the jobs that remove its objects, so nothing is left behind if storage is
 * down now.
 */
export async function removeAbandonedUploads(
  deps: FilesServiceDeps,
  batchSize = 100,
): Promise<{ removed: number }> {
  const now = deps.clock.now();
  const pendingSince = new Date(now.getTime() - pendingAvatarLimitMs);
  let removed = 0;
  for (const file of await deps.files.abandoned(now, pendingSince, batchSize)) {
    const jobs = objectDeletions(deps, file);
    if (await deps.files.removeAbandoned(file, now, pendingSince, jobs)) {
      deps.publish(jobs);
      removed += 1;
    }
  }
  return { removed };
}

export async function deleteStoredObject(deps: FilesServiceDeps, key: string): Promise<void> {
  const storage = storageOf(deps);
  await onStorage(() => storage.delete(key));
}
