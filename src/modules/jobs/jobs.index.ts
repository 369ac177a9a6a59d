import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import {
  deleteDeadJobHandler,
  getDeadJobHandler,
  getJobStatusHandler,
  listDeadJobsHandler,
  requeueDeadJobHandler,
} from './jobs.handlers.ts';
import {
  deleteDeadJobRoute,
  getDeadJobRoute,
  getJobStatusRoute,
  listDeadJobsRoute,
  requeueDeadJobRoute,
} from './jobs.routes.ts';

/** GET /v1/jobs/{id} and the dead-letter queue under /v1/admin/jobs/dead. */
export function registerJobs(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getJobStatusRoute, getJobStatusHandler);
  app.openapi(listDeadJobsRoute, listDeadJobsHandler);
  app.openapi(getDeadJobRoute, getDeadJobHandler);
  app.openapi(requeueDeadJobRoute, requeueDeadJobHandler);
  app.openapi(deleteDeadJobRoute, deleteDeadJobHandler);
}
