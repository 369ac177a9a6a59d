// The avatar pipeline. The upload stores the original and records a pending avatar with the job
// avatar.dispatch in one batch. That job, on the edge, signs two short-lived URLs (read the
// original, write the rendition) and hands them to image.avatar on the Node worker, which makes
// the 400x400 JPEG with sharp and PUTs it back. Storing it makes it the user's avatar, and the
// jobs that remove the original and the avatar it replaces are staged in the same batch. Until
// then the user keeps showing the previous avatar. URLs are signed when the job runs, not at
// upload: an outbox delayed by a QStash outage still hands the worker URLs that work.
import type { PreparedJob } from '../../jobs/enqueue.ts';
import { prepareJob } from '../../jobs/enqueue.ts';
import { readLimited } from '../../lib/byte-limits.ts';
import { AppError } from '../../lib/errors.ts';
import { readUploadedFiles } from '../../lib/multipart-upload.ts';
import { signUrl, verifySignedUrl } from '../../lib/signed-urls.ts';
import { onStorage, type StoredObject } from '../../platform/storage.ts';
import type { FileValues } from './files.repository.ts';
import { avatarSourceTypes, type FileView } from './files.schemas.ts';
import {
  checkedType,
  type FilesServiceDeps,
  fileValuesOf,
  newStorageKey,
  objectDeletions,
  serializeFile,
  sha256Of,
  storageOf,
  storeBytes,
} from './files.service.ts';

export interface AvatarsServiceDeps extends FilesServiceDeps {
  /** Publishes jobs now (the dispatch job runs after the upload's commit, so no outbox is needed). */
  publishNow(jobs: PreparedJob[]): Promise<unknown>;
}

const jpeg = 'image/jpeg';
/** What the Node worker sends back: a 400x400 JPEG at quality 80 is a few dozen KiB. */
const maxRenditionBytes = 2 * 1024 * 1024;
/** How long the Node worker's URLs work: its three retries are over well within this. */
const workerUrlSeconds = 10 * 60;
/** Tries at making an avatar the user's when another avatar got there in between. */
const showAttempts = 3;

export const avatarSourcePath = (fileId: string) => `/v1/files/${fileId}/source`;
export const avatarRenditionPath = (fileId: string) => `/v1/files/${fileId}/rendition`;

/** One image in the `avatar` field: stored as it came, then made into the avatar by the worker. */
export async function uploadAvatar(
  deps: AvatarsServiceDeps,
  ownerId: string,
  request: Request,
): Promise<FileView> {
  const storage = storageOf(deps);
  const uploads = readUploadedFiles(request, {
    field: 'avatar',
    maxFiles: 1,
    maxFileBytes: deps.config.UPLOAD_MAX_FILE_BYTES,
  });
  let row: FileValues | undefined;
  const sourceKey = newStorageKey(ownerId);
  try {
    for await (const upload of uploads) {
      row = await fileValuesOf(deps, ownerId, upload, avatarSourceTypes, {
        kind: 'avatar',
        status: 'pending',
        storageKey: newStorageKey(ownerId, '.jpg'),
        sourceKey,
      });
      await storeBytes(storage, sourceKey, upload.bytes, row);
    }
  } catch (error) {
    if (row !== undefined) deps.background('discard-objects', storage.delete(sourceKey));
    throw error;
  }
  if (row === undefined) throw new Error('the upload reader yielded no file and no refusal');
  const job = prepareJob(
    deps,
    'avatar.dispatch',
    { fileId: row.id },
    { id: `${row.id}:avatar.dispatch`, ownerId },
  );
  await deps.files.insertAvatar(row, job);
  deps.publish([job]);
  return serializeFile({ ...row, deletedAt: null });
}

/** avatar.dispatch: fresh URLs for a pending avatar, handed to image.avatar on the Node worker. */
export async function dispatchAvatar(
  deps: AvatarsServiceDeps,
  fileId: string,
): Promise<{ dispatched: boolean }> {
  const file = await deps.files.findById(fileId);
  if (file === undefined || file.kind !== 'avatar' || file.status !== 'pending') {
    return { dispatched: false };
  }
  const expiresAt = new Date(deps.clock.now().getTime() + workerUrlSeconds * 1000);
  const base = deps.config.API_PUBLIC_URL;
  const job = prepareJob(
    deps,
    'image.avatar',
    {
      userId: file.ownerId,
      sourceUrl: await signUrl(
        deps.urlSecret,
        'GET',
        `${base}${avatarSourcePath(fileId)}`,
        expiresAt,
      ),
      targetUrl: await signUrl(
        deps.urlSecret,
        'PUT',
        `${base}${avatarRenditionPath(fileId)}`,
        expiresAt,
      ),
    },
    // One rendition per upload, however often this job runs.
    { id: `${fileId}:image.avatar`, ownerId: file.ownerId },
  );
  await deps.publishNow([job]);
  return { dispatched: true };
}

async function pendingAvatar(deps: AvatarsServiceDeps, fileId: string, request: Request) {
  await verifySignedUrl(deps.urlSecret, request.method, request.url, deps.clock.now().getTime());
  const file = await deps.files.findById(fileId);
  if (file === undefined || file.kind !== 'avatar') {
    throw new AppError('NOT_FOUND', 'File not found');
  }
  return file;
}

/** GET on the signed source URL: the original image, for the Node worker to read. */
export async function openAvatarSource(
  deps: AvatarsServiceDeps,
  fileId: string,
  request: Request,
): Promise<StoredObject> {
  const file = await pendingAvatar(deps, fileId, request);
  const storage = storageOf(deps);
  const object =
    file.sourceKey === null ? undefined : await onStorage(() => storage.get(file.sourceKey ?? ''));
  if (object === undefined) throw new AppError('NOT_FOUND', 'This avatar has no original to read');
  return object;
}

/**
 * PUT on the signed rendition URL: the Node worker's JPEG. It is checked (a JPEG by its bytes, at
 * most 2 MiB), stored, and made the user's avatar, unless a newer avatar is already shown: then
 * this one is removed instead. A repeated PUT after success answers the same.
 */
export async function storeAvatarRendition(
  deps: AvatarsServiceDeps,
  fileId: string,
  request: Request,
): Promise<FileView> {
  const file = await pendingAvatar(deps, fileId, request);
  if (file.status === 'ready') return serializeFile(file);
  const storage = storageOf(deps);
  const bytes = await readLimited(
    request.body,
    maxRenditionBytes,
    () =>
      new AppError('FILE_TOO_LARGE', `An avatar may be at most ${maxRenditionBytes} bytes`, {
        details: { maxBytes: maxRenditionBytes },
      }),
  );
  if (bytes.byteLength === 0) throw new AppError('FILE_EMPTY', 'The avatar has no bytes');
  await checkedType(bytes, 'The avatar', [jpeg]);
  const sha256 = await sha256Of(bytes);
  await onStorage(() =>
    storage.put(file.storageKey, bytes, { size: bytes.byteLength, contentType: jpeg, sha256 }),
  );

  for (let attempt = 1; attempt <= showAttempts; attempt += 1) {
    const current = await deps.files.currentAvatar(file.ownerId);
    const now = deps.clock.now();
    if (current !== undefined && current.createdAt.getTime() > file.createdAt.getTime()) {
      // A newer upload is already shown: this one will never be, so it goes.
      const jobs = objectDeletions(deps, file);
      await deps.files.softDelete(file, now, jobs);
      deps.publish(jobs);
      return serializeFile({ ...file, deletedAt: now });
    }
    const jobs: PreparedJob[] = [
      ...(file.sourceKey === null
        ? []
        : [
            prepareJob(
              deps,
              'file.delete-object',
              { key: file.sourceKey },
              { id: `delete:${file.id}:${file.sourceKey}` },
            ),
          ]),
      ...(current === undefined ? [] : objectDeletions(deps, current)),
    ];
    const avatar = { id: file.id, type: jpeg, size: bytes.byteLength, sha256 };
    if (await deps.files.showAvatar(file, avatar, current?.id ?? null, now, jobs)) {
      deps.publish(jobs);
      await deps.forgetProfiles();
      return serializeFile({
        ...file,
        status: 'ready',
        contentType: jpeg,
        size: bytes.byteLength,
        sha256,
        sourceKey: null,
        updatedAt: now,
      });
    }
    const again = await deps.files.findById(fileId);
    if (again === undefined) throw new AppError('NOT_FOUND', 'File not found');
    if (again.status === 'ready') return serializeFile(again);
  }
  throw new AppError('CONFLICT', 'The avatar kept changing while this one was being shown');
}
