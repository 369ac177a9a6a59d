// The endpoints QStash delivers to: each edge job type, and the failure callback. Plain Hono
// routes rather than OpenAPI ones: only QStash calls them, proving itself by signature (checked by
// the middleware in front of them), so they are internal and kept out of the public document.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { type Deps, forRequest } from '../deps.ts';
import { ok } from '../lib/envelope.ts';
import { AppError } from '../lib/errors.ts';
import { requireQstashSignature, verifiedDelivery } from '../middleware/qstash-signature.ts';
import { type JobType, jobTypesOn } from './catalogue.ts';
import { createDeadJobsRepository } from './dead-jobs.repository.ts';
import { recordFailureCallback } from './failure-callback.ts';
import { type JobHandlers, runJobDelivery } from './job-delivery.ts';

const edgeJobTypes: ReadonlySet<string> = new Set(jobTypesOn('edge'));

/**
 * Job deliveries wait longer for the database than API requests do (JOB_DATABASE_TIMEOUT_MS): a
 * sweep or a cleanup may rightly take longer, and QStash bounds the delivery itself.
 */
const jobBackends = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.get('deps');
  c.set('deps', forRequest(c.get('deps'), { databaseTimeoutMs: config.JOB_DATABASE_TIMEOUT_MS }));
  await next();
});

/** The edge's endpoints for QStash: its job types and the failure callback, all signed. */
const edgeQstashSignature = requireQstashSignature<AppEnv>((c) => {
  const { config, clock, redis } = c.get('deps');
  return {
    keys: { current: config.QSTASH_CURRENT_SIGNING_KEY, next: config.QSTASH_NEXT_SIGNING_KEY },
    publicBaseUrl: config.API_PUBLIC_URL,
    now: () => clock.now().getTime(),
    redis,
  };
});

/** The edge's job handlers by type, built for one delivery's dependencies. */
export type EdgeJobs = (deps: Deps) => JobHandlers;

/**
 * 200 with { key, type, duplicate, result }; 404 for a (signed) delivery of a type the edge does
 * not run. Refusals are AppErrors that the error handler answers with their status and headers
 * (429 + Retry-After, 489 + Upstash-NonRetryable-Error, 503); the middleware's are 401s.
 */
function jobDeliveryHandler(edgeJobs: EdgeJobs) {
  return async (c: Context<AppEnv>): Promise<Response> => {
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
async function failureCallbackHandler(c: Context<AppEnv>): Promise<Response> {
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
  return ok(c, { id: deadJob.id, type: deadJob.type }, 200);
}

/**
 * POST /jobs/failed and POST /jobs/{type}: QStash's deliveries. Register them before the rate
 * limit and the credential prefetches: QStash proves itself by signature, from addresses shared by
 * every QStash customer, and a refused delivery only comes back later. The fixed path goes first.
 */
export function registerJobDeliveries(app: OpenAPIHono<AppEnv>, edgeJobs: EdgeJobs): void {
  app.post('/jobs/failed', jobBackends, edgeQstashSignature, failureCallbackHandler);
  app.post('/jobs/:type', jobBackends, edgeQstashSignature, jobDeliveryHandler(edgeJobs));
}
