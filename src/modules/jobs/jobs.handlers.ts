import type { RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { createDeadJobsRepository } from '../../jobs/dead-jobs.repository.ts';
import { ok, okPage } from '../../lib/envelope.ts';
import { principalOf } from '../auth/auth.middleware.ts';
import {
  type DeadJobsServiceDeps,
  deleteDeadJob,
  getDeadJob,
  listDeadJobs,
  requeueDeadJob,
} from './dead-jobs.service.ts';
import { readJobStatus } from './job-status.service.ts';
import type {
  deleteDeadJobRoute,
  getDeadJobRoute,
  getJobStatusRoute,
  listDeadJobsRoute,
  requeueDeadJobRoute,
} from './jobs.routes.ts';

function deadJobsServiceDeps(c: Context<AppEnv>): DeadJobsServiceDeps {
  const { db, jobState, queue, clock, logger, config } = c.get('deps');
  return { deadJobs: createDeadJobsRepository(db), jobState, queue, clock, logger, config };
}

export const getJobStatusHandler: RouteHandler<typeof getJobStatusRoute, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  return ok(c, await readJobStatus(c.get('deps').jobState, principalOf(c), id), 200);
};

export const listDeadJobsHandler: RouteHandler<typeof listDeadJobsRoute, AppEnv> = async (c) => {
  const { items, pagination } = await listDeadJobs(deadJobsServiceDeps(c), c.req.valid('query'));
  return okPage(c, items, pagination);
};

export const getDeadJobHandler: RouteHandler<typeof getDeadJobRoute, AppEnv> = async (c) =>
  ok(c, await getDeadJob(deadJobsServiceDeps(c), c.req.valid('param').id), 200);

export const requeueDeadJobHandler: RouteHandler<typeof requeueDeadJobRoute, AppEnv> = async (c) =>
  ok(c, await requeueDeadJob(deadJobsServiceDeps(c), c.req.valid('param').id), 202);

export const deleteDeadJobHandler: RouteHandler<typeof deleteDeadJobRoute, AppEnv> = async (c) =>
  ok(c, await deleteDeadJob(deadJobsServiceDeps(c), c.req.valid('param').id), 200);
