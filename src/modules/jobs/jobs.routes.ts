// A job's status for whoever started it, and the administrators' dead-letter queue.
import { createRoute } from '@hono/zod-openapi';
import { paginatedEnvelopeSchema } from '../../lib/envelope.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { failure, forbidden, notFound, success, unauthorized } from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import {
  deadJobListQuerySchema,
  deadJobSchema,
  deletedJobSchema,
  jobIdParamsSchema,
  jobStatusSchema,
  jobsAdminPermission,
  requeuedJobSchema,
} from './jobs.schemas.ts';

export const getJobStatusRoute = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}',
  operationId: 'getJobStatus',
  tags: ['Jobs'],
  summary: 'Read a job’s status',
  description:
    'pending, processing (with progress in percent), completed (with the job’s result) or ' +
    'failed (with the error). Only the user the job belongs to, or an administrator, can read ' +
    'it; anyone else hears that it does not exist. Kept for a week after the last change.',
  security: sessionOrApiKey(),
  middleware: [requireAuth()],
  request: { params: jobIdParamsSchema },
  responses: {
    200: success('The job’s status.', jobStatusSchema),
    401: unauthorized,
    404: notFound('No job has this id, or it is not yours'),
  },
});

const adminOnly = [requireAuth(), requirePermission(jobsAdminPermission)];
const adminOnlySecurity = sessionOrApiKey(jobsAdminPermission);
const tags = ['Admin'];
const notAdmin = forbidden('The caller lacks the jobs:manage permission');
const noDeadJob = notFound('No dead job has this id');

export const listDeadJobsRoute = createRoute({
  method: 'get',
  path: '/v1/admin/jobs/dead',
  operationId: 'listDeadJobs',
  tags,
  summary: 'List dead jobs',
  description:
    'Jobs QStash gave up on (retries spent, or refused as never able to succeed), newest first.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { query: deadJobListQuerySchema },
  responses: {
    200: {
      description: 'One page of dead jobs.',
      content: { 'application/json': { schema: paginatedEnvelopeSchema(deadJobSchema) } },
    },
    401: unauthorized,
    403: notAdmin,
  },
});

export const getDeadJobRoute = createRoute({
  method: 'get',
  path: '/v1/admin/jobs/dead/{id}',
  operationId: 'getDeadJob',
  tags,
  summary: 'Inspect a dead job',
  description: 'The message, and the destination’s last status and answer.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: jobIdParamsSchema },
  responses: {
    200: success('The dead job.', deadJobSchema),
    401: unauthorized,
    403: notAdmin,
    404: noDeadJob,
  },
});

export const requeueDeadJobRoute = createRoute({
  method: 'post',
  path: '/v1/admin/jobs/dead/{id}/requeue',
  operationId: 'requeueDeadJob',
  tags,
  summary: 'Requeue a dead job',
  description:
    'Publishes the job again at critical priority, under the same job id, and drops QStash’s ' +
    'DLQ entry. The record stays, with requeuedAt and requeueCount, until the job succeeds or is ' +
    'deleted; if it dies again, it is recorded again.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: jobIdParamsSchema },
  responses: {
    202: success('Handed to QStash.', requeuedJobSchema),
    401: unauthorized,
    403: notAdmin,
    404: noDeadJob,
    409: failure('The message is not a job and cannot be requeued (code CONFLICT).'),
    503: failure('QStash is unavailable; nothing changed (code SERVICE_UNAVAILABLE).'),
  },
});

export const deleteDeadJobRoute = createRoute({
  method: 'delete',
  path: '/v1/admin/jobs/dead/{id}',
  operationId: 'deleteDeadJob',
  tags,
  summary: 'Delete a dead job',
  description: 'Removes the record and QStash’s DLQ entry; the job will not run.',
  security: adminOnlySecurity,
  middleware: adminOnly,
  request: { params: jobIdParamsSchema },
  responses: {
    200: success('Deleted.', deletedJobSchema),
    401: unauthorized,
    403: notAdmin,
    404: noDeadJob,
  },
});
