import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import {
  edgeQstashSignature,
  failureCallbackHandler,
  jobBackends,
  jobDeliveryHandler,
} from '../../jobs/deliveries.ts';
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

/**
 * POST /jobs/failed and POST /jobs/{type}: QStash's deliveries. Register them before the rate
 * limit and the credential prefetches: QStash proves itself by signature, from addresses shared by
 * every QStash customer, and a refused delivery only comes back later. The fixed path goes first.
 */
export function registerJobDeliveries(app: OpenAPIHono<AppEnv>): void {
  app.post('/jobs/failed', jobBackends, edgeQstashSignature, failureCallbackHandler);
  app.post('/jobs/:type', jobBackends, edgeQstashSignature, jobDeliveryHandler);
}

/** GET /v1/jobs/{id} and the dead-letter queue under /v1/admin/jobs/dead. */
export function registerJobs(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getJobStatusRoute, getJobStatusHandler);
  app.openapi(listDeadJobsRoute, listDeadJobsHandler);
  app.openapi(getDeadJobRoute, getDeadJobHandler);
  app.openapi(requeueDeadJobRoute, requeueDeadJobHandler);
  app.openapi(deleteDeadJobRoute, deleteDeadJobHandler);
}
