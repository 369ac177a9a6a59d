import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { serverSecretOf } from '../../config.ts';
import type { Deps } from '../../deps.ts';
import { publishJobs } from '../../jobs/enqueue.ts';
import { publishStaged } from '../../jobs/outbox.ts';
import { ok, okPage } from '../../lib/envelope.ts';
import { contentDispositionAttachment, contentDispositionInline } from '../../lib/file-names.ts';
import { waitUntil } from '../../lib/wait-until.ts';
import { requestCache } from '../../middleware/request-cache.ts';
import type { Cache } from '../../platform/cache.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import { checkPermission } from '../auth/permissions.ts';
import { forgetCachedProfiles } from '../users/users.service.ts';
import type {
  getAvatarSourceRoute,
  uploadAvatarRenditionRoute,
  uploadAvatarRoute,
  uploadFileContentRoute,
} from './avatars.routes.ts';
import {
  type AvatarsServiceDeps,
  openAvatarSource,
  storeAvatarRendition,
  uploadAvatar,
} from './avatars.service.ts';
import { createFilesRepository, type FilesRepository } from './files.repository.ts';
import type {
  completeDirectUploadRoute,
  createDirectUploadRoute,
  deleteFileRoute,
  getFileContentRoute,
  getFileRoute,
  listFilesRoute,
  uploadFilesRoute,
} from './files.routes.ts';
import {
  completeDirectUpload,
  createDirectUpload,
  deleteFile,
  type FileViewer,
  getFile,
  listFiles,
  openFileContent,
  receiveDirectUpload,
  uploadDocuments,
} from './files.service.ts';

/**
 * The service's deps from the app's, for a request or a job: `background` is how work outlives
 * the answer (waitUntil in a request; awaited by a job's own end otherwise).
 */
export function filesServiceDepsOf(
  deps: Deps,
  scope: { cache: Cache; background(task: string, work: Promise<unknown>): void },
): AvatarsServiceDeps {
  let files: FilesRepository | undefined;
  return {
    get files() {
      files ??= createFilesRepository(deps.db);
      return files;
    },
    storage: deps.storage,
    clock: deps.clock,
    trace: deps.trace,
    config: deps.config,
    urlSecret: serverSecretOf(deps.config),
    publish: (jobs) => scope.background('outbox-publish', publishStaged(deps, jobs)),
    publishNow: (jobs) => publishJobs(deps, jobs),
    background: scope.background,
    forgetProfiles: () => forgetCachedProfiles(scope.cache),
  };
}

function filesServiceDeps(c: Context<AppEnv>): AvatarsServiceDeps {
  return filesServiceDepsOf(c.get('deps'), {
    cache: requestCache(c),
    background: (task, work) => waitUntil(c, task, work),
  });
}

/** The signed-in user, who sees their own files; with files:admin, everyone's. */
function viewerOf(c: Context<AppEnv>): FileViewer {
  const principal = principalOf(c);
  return {
    userId: principal.userId,
    isAdmin: checkPermission(principal, 'files:admin') === 'granted',
  };
}

export const uploadFilesHandler: RouteHandler<typeof uploadFilesRoute, AppEnv> = async (c) => {
  const files = await uploadDocuments(filesServiceDeps(c), principalOf(c).userId, c.req.raw);
  return ok(c, files, 201);
};

export const listFilesHandler: RouteHandler<typeof listFilesRoute, AppEnv> = async (c) => {
  const page = await listFiles(filesServiceDeps(c), principalOf(c).userId, c.req.valid('query'));
  return okPage(c, page.data, page.pagination);
};

export const getFileHandler: RouteHandler<typeof getFileRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await getFile(filesServiceDeps(c), viewerOf(c), id), 200);
};

/** A shown avatar's URL names one image forever: a new avatar is a new file. */
const avatarCaching = 'public, max-age=31536000, immutable';
const privateCaching = 'private, no-cache';

export const getFileContentHandler: RouteHandler<typeof getFileContentRoute, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  const viewer = c.get('principal') === undefined ? undefined : viewerOf(c);
  const { file, object } = await openFileContent(filesServiceDeps(c), viewer, id);
  const etag = `"${file.sha256}"`;
  const headers = {
    'Content-Type': file.contentType,
    'X-Content-Type-Options': 'nosniff',
    // An image shows in the browser; anything else (a PDF) is saved, never rendered as our page.
    'Content-Disposition': file.contentType.startsWith('image/')
      ? contentDispositionInline(file.name)
      : contentDispositionAttachment(file.name),
    'Cache-Control': file.kind === 'avatar' ? avatarCaching : privateCaching,
    ETag: etag,
  };
  if (c.req.header('if-none-match') === etag) {
    await object.body.cancel();
    return c.body(null, 304, headers);
  }
  return c.body(object.body, 200, { ...headers, 'Content-Length': String(object.size) });
};

export const deleteFileHandler: RouteHandler<typeof deleteFileRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  await deleteFile(filesServiceDeps(c), viewerOf(c), id);
  return c.body(null, 204);
};

export const createDirectUploadHandler: RouteHandler<
  typeof createDirectUploadRoute,
  AppEnv
> = async (c) => {
  const upload = await createDirectUpload(
    filesServiceDeps(c),
    principalOf(c).userId,
    c.req.valid('json'),
  );
  return ok(c, upload, 201);
};

export const completeDirectUploadHandler: RouteHandler<
  typeof completeDirectUploadRoute,
  AppEnv
> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await completeDirectUpload(filesServiceDeps(c), principalOf(c).userId, id), 200);
};

export const uploadFileContentHandler: RouteHandler<typeof uploadFileContentRoute, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  await receiveDirectUpload(filesServiceDeps(c), id, c.req.raw);
  return c.body(null, 204);
};

export const uploadAvatarHandler: RouteHandler<typeof uploadAvatarRoute, AppEnv> = async (c) => {
  return ok(c, await uploadAvatar(filesServiceDeps(c), principalOf(c).userId, c.req.raw), 202);
};

export const getAvatarSourceHandler: RouteHandler<typeof getAvatarSourceRoute, AppEnv> = async (
  c,
) => {
  const { id } = c.req.valid('param');
  const object = await openAvatarSource(filesServiceDeps(c), id, c.req.raw);
  return c.body(object.body, 200, {
    'Content-Type': object.contentType ?? 'application/octet-stream',
    'Content-Length': String(object.size),
    'Cache-Control': 'no-store',
  });
};

export const uploadAvatarRenditionHandler: RouteHandler<
  typeof uploadAvatarRenditionRoute,
  AppEnv
> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await storeAvatarRendition(filesServiceDeps(c), id, c.req.raw), 200);
};
