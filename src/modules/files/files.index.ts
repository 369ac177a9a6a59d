import { moduleRoutes } from '../../module-routes.ts';
import {
  getAvatarSourceRoute,
  uploadAvatarRenditionRoute,
  uploadAvatarRoute,
  uploadFileContentRoute,
} from './avatars.routes.ts';
import {
  completeDirectUploadHandler,
  createDirectUploadHandler,
  deleteFileHandler,
  getAvatarSourceHandler,
  getFileContentHandler,
  getFileHandler,
  listFilesHandler,
  uploadAvatarHandler,
  uploadAvatarRenditionHandler,
  uploadFileContentHandler,
  uploadFilesHandler,
} from './files.handlers.ts';
import {
  completeDirectUploadRoute,
  createDirectUploadRoute,
  deleteFileRoute,
  getFileContentRoute,
  getFileRoute,
  listFilesRoute,
  uploadFilesRoute,
} from './files.routes.ts';

export { filesJobs } from './files.jobs.ts';

/**
 * /v1/files/* and the avatar upload. Fixed paths come before their `{id}` siblings: "uploads" is
 * no UUID.
 */
export const filesRoutes = moduleRoutes()
  .openapi(uploadAvatarRoute, uploadAvatarHandler)
  .openapi(createDirectUploadRoute, createDirectUploadHandler)
  .openapi(completeDirectUploadRoute, completeDirectUploadHandler)
  .openapi(uploadFilesRoute, uploadFilesHandler)
  .openapi(listFilesRoute, listFilesHandler)
  .openapi(getFileRoute, getFileHandler)
  .openapi(getFileContentRoute, getFileContentHandler)
  .openapi(deleteFileRoute, deleteFileHandler);

/**
 * The URLs we sign, whose signature is the credential: the Node worker's avatar transfers and a
 * direct upload's bytes. Mounted before the rate limit, as webhooks are: the worker calls from one
 * address, and a signed URL is itself the limit (one path, a few minutes).
 */
export const signedFileRoutes = moduleRoutes()
  .openapi(uploadFileContentRoute, uploadFileContentHandler)
  .openapi(getAvatarSourceRoute, getAvatarSourceHandler)
  .openapi(uploadAvatarRenditionRoute, uploadAvatarRenditionHandler);

/**
 * Routes that read their body as a stream under limits of their own (several MiB per file,
 * counted as it arrives), so the app's MAX_BODY_BYTES does not apply to them.
 */
const ownBodyLimits: readonly RegExp[] = [
  /^POST \/v1\/files$/,
  /^POST \/v1\/users\/me\/avatar$/,
  /^PUT \/v1\/files\/uploads\/[^/]+\/content$/,
  /^PUT \/v1\/files\/[^/]+\/rendition$/,
];

export function readsOwnBody(method: string, path: string): boolean {
  const request = `${method.toUpperCase()} ${path}`;
  return ownBodyLimits.some((pattern) => pattern.test(request));
}
