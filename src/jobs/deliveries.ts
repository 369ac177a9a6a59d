// The endpoints QStash delivers to: each edge job type, and the failure callback. Only QStash
// calls them, proving itself by signature (checked by the middleware their route definitions put
// in front of them, in deliveries.routes.ts), so they carry no user credentials; the document
// describes them, and the Node worker's job types, for whoever operates the queue.
import type { OpenAPIHono, RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.ts';
import type { Deps } from '../deps.ts';
import { ok } from '../lib/envelope.ts';
import { AppError } from '../lib/errors.ts';
import { verifiedDelivery } from '../middleware/qstash-signature.ts';
import { type JobType, jobTypesOn } from './catalogue.ts';
import { createDeadJobsRepository } from './dead-jobs.repository.ts';
import {
  edgeJobMessageSchema,
  failureCallbackRoute,
  jobDeliveryRoute,
  nodeJobDeliveries,
} from './deliveries.routes.ts';
import { failureCallbackSchema, recordFailureCallback } from './failure-callback.ts';
import { type JobHandlers, runJobDelivery } from './job-delivery.ts';

const edgeJobTypes: ReadonlySet<string> = new Set(jobTypesOn('edge'));

/** The edge's job handlers by type, built for one delivery's dependencies. */
export type EdgeJobs = (deps: Deps) => JobHandlers;

/**
 * 200 with { key, type, duplicate, result }; 404 for a (signed) delivery of a type the edge does
 * not run. Refusals are AppErrors that the error handler answers with their status and headers
 * (429 + Retry-After, 489 + Upstash-NonRetryable-Error, 503); the middleware's are 401s.
 */
function jobDeliveryHandler(edgeJobs: EdgeJobs): RouteHandler<typeof jobDeliveryRoute, AppEnv> {
  return async (c) => {
    const type = c.req.param('type') ?? '';
    if (!edgeJobTypes.has(type)) {
      throw new AppError('NOT_FOUND', `No edge job has the type ${type}`);
    }
    c.get('event').job = type;
    const deps = c.get('deps');
    const done = await runJobDelivery(
      { jobState: deps.jobState, logger: deps.logger },
      edgeJobs(deps),
      verifiedDelivery(c),
      type as JobType,
    );
    return ok(
      c,
      { key: done.key, type: done.type, duplicate: done.duplicate, result: done.result ?? null },
      200,
    );
  };
}

/** 200 with the dead job's { id, type }, again for a repeated callback. */
const failureCallbackHandler: RouteHandler<typeof failureCallbackRoute, AppEnv> = async (c) => {
  const deps = c.get('deps');
  const deadJob = await recordFailureCallback(
    {
      deadJobs: createDeadJobsRepository(deps.db),
      jobState: deps.jobState,
      clock: deps.clock,
      logger: deps.logger,
    },
    verifiedDelivery(c).body,
  );
  c.get('event').deadJob = deadJob.type;
  return ok(c, { id: deadJob.id, type: deadJob.type }, 200);
};

/**
 * POST /jobs/failed and POST /jobs/{type}: QStash's deliveries, each behind jobBackends and the
 * signature check, with no validator: the signature covers the raw body, which the handler
 * parses. QStash proves itself by signature, from addresses shared by every QStash customer, so
 * neither the rate limit nor the credential reads belong in front of them. The fixed path goes
 * first.
 */
export function registerJobDeliveries(app: OpenAPIHono<AppEnv>, edgeJobs: EdgeJobs): void {
  app.openAPIRegistry.register('EdgeJobMessage', edgeJobMessageSchema);
  app.openAPIRegistry.register('QstashFailureCallback', failureCallbackSchema);
  app.openapi(failureCallbackRoute, failureCallbackHandler);
  app.openapi(jobDeliveryRoute, jobDeliveryHandler(edgeJobs));
  // QStash delivers these to the Node worker, not here: the document lists them as webhooks.
  for (const delivery of nodeJobDeliveries) app.openAPIRegistry.registerWebhook(delivery);
}
