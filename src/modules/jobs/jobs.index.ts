import { moduleRoutes } from '../../module-routes.ts';
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
export const jobsRoutes = moduleRoutes()
  .openapi(getJobStatusRoute, getJobStatusHandler)
  .openapi(listDeadJobsRoute, listDeadJobsHandler)
  .openapi(getDeadJobRoute, getDeadJobHandler)
  .openapi(requeueDeadJobRoute, requeueDeadJobHandler)
  .openapi(deleteDeadJobRoute, deleteDeadJobHandler);
