// The module's jobs, run on the edge: the avatar's dispatch to the Node worker, the removal of one
// stored object, and the scheduled clean-up of uploads that will never become files. Work that a
// request would leave to waitUntil is awaited here: a job's delivery lasts until its work is done.
import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { createCache } from '../../platform/cache.ts';
import { dispatchAvatar } from './avatars.service.ts';
import { filesServiceDepsOf } from './files.handlers.ts';
import { deleteStoredObject, removeAbandonedUploads } from './files.service.ts';

export function filesJobs(deps: Deps): JobHandlers {
  const serviceDeps = () => {
    const pending: Promise<unknown>[] = [];
    const files = filesServiceDepsOf(deps, {
      cache: createCache(deps),
      background: (_task, work) => pending.push(work),
    });
    return { files, settled: () => Promise.all(pending) };
  };
  return {
    'avatar.dispatch': async ({ payload }) => {
      const { files, settled } = serviceDeps();
      const outcome = await dispatchAvatar(files, payload.fileId);
      await settled();
      return outcome;
    },
    'file.delete-object': async ({ payload }) => {
      await deleteStoredObject(serviceDeps().files, payload.key);
      return { deleted: payload.key };
    },
    'files.expire-uploads': async () => {
      const { files, settled } = serviceDeps();
      const outcome = await removeAbandonedUploads(files);
      await settled();
      return outcome;
    },
  };
}
