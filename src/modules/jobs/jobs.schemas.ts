// Jobs as the API shows them: a job's status for its owner, and the dead jobs administrators
// manage.
import { z } from '@hono/zod-openapi';
import { deadJobSortColumns } from '../../jobs/dead-jobs.repository.ts';
import { pageQuerySchema } from '../../lib/pagination.ts';
import type { Permission } from '../auth/permissions.ts';

/** Reading any job's status and managing the dead-letter queue. */
export const jobsAdminPermission: Permission = 'jobs:manage';

const jobKey = z.string().min(1).max(200).openapi({
  description: 'The job id (what enqueueing answered), or `msg:<QStash message id>`.',
  example: '7c0d3d3e-3d7a-4c43-9a55-8c0f7b2f7d1e',
});

export const jobIdParamsSchema = z.object({
  id: jobKey.openapi({ param: { name: 'id', in: 'path' } }),
});

const jobBase = {
  id: jobKey,
  type: z.string().openapi({ example: 'digest.weekly' }),
  attempts: z.int().min(0).openapi({ description: 'Deliveries that ran the job.' }),
  updatedAt: z.iso.datetime(),
};

export const jobStatusSchema = z
  .discriminatedUnion('status', [
    z.object({ ...jobBase, status: z.literal('pending') }),
    z.object({
      ...jobBase,
      status: z.literal('processing'),
      progress: z.int().min(0).max(100).openapi({ description: 'Percent done.' }),
    }),
    z.object({
      ...jobBase,
      status: z.literal('completed'),
      result: z.unknown().openapi({ description: 'What the job answered.' }),
    }),
    z.object({ ...jobBase, status: z.literal('failed'), error: z.string() }),
  ])
  .openapi('JobStatus');

export type JobStatusView = z.infer<typeof jobStatusSchema>;

export const deadJobSchema = z
  .object({
    id: jobKey,
    type: z.string().openapi({ description: '`unknown` when the message was not a job.' }),
    message: z.record(z.string(), z.unknown()).openapi({
      description:
        'The job message QStash delivered: { id?, type, payload, ownerId?, createdAt? }. ' +
        'Payload fields that hold a live secret (the link of a reset or verification email) ' +
        'read `[redacted]`; a requeue still sends them.',
    }),
    messageId: z.string().openapi({ description: 'QStash’s message id of the last delivery.' }),
    dlqId: z.string().nullable(),
    lastStatus: z.int().nullable().openapi({ description: 'The destination’s last status.' }),
    lastResponse: z.string().nullable().openapi({ description: 'The start of its last answer.' }),
    retried: z.int().min(0),
    failedAt: z.iso.datetime(),
    requeuedAt: z.iso.datetime().nullable(),
    requeueCount: z.int().min(0),
  })
  .openapi('DeadJob');

export type DeadJobView = z.infer<typeof deadJobSchema>;

export const deadJobListQuerySchema = pageQuerySchema(deadJobSortColumns, {
  sortBy: 'failedAt',
  sortOrder: 'desc',
});

export const requeuedJobSchema = z.object({
  id: jobKey,
  messageId: z.string().openapi({ description: 'QStash’s id of the new message.' }),
});

export const deletedJobSchema = z.object({ id: jobKey, deleted: z.literal(true) });
