// The endpoints QStash delivers to: each edge job type, and the failure callback. Plain Hono
// routes rather than OpenAPI ones: only QStash calls them, proving itself by signature, so they are
// internal and kept out of the public document (and their schemas out of the bundle).
import type { Context } from 'hono';
import type { AppEnv } from '../../app-env.ts';
import { type JobType, jobTypesOn } from '../../jobs/catalogue.ts';
import { type JobRuntime, runJobDelivery } from '../../jobs/job-delivery.ts';
import { ok } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { createDeadJobsRepository } from './dead-jobs.repository.ts';
import { edgeJobHandlers } from './edge-job-handlers.ts';
import { recordFailureCallback } from './failure-callback.ts';

const edgeJobTypes: ReadonlySet<string> = new Set(jobTypesOn('edge'));

function signingKeysOf(c: Context<AppEnv>) {
  const { config } = c.var.deps;
  return { current: config.QSTASH_CURRENT_SIGNING_KEY, next: config.QSTASH_NEXT_SIGNING_KEY };
}

function runtimeOf(c: Context<AppEnv>): JobRuntime {
  const { deps } = c.var;
  return {
    jobState: deps.jobState,
    logger: deps.logger,
    now: () => deps.clock.now().getTime(),
    signingKeys: signingKeysOf(c),
    publicBaseUrl: deps.config.API_PUBLIC_URL,
  };
}

/**
 * 200 with { key, type, duplicate, result }; 404 for a type the edge does not run. Refusals are
 * AppErrors that the error handler answers with their status and headers (401, 429 + Retry-After,
 * 489 + Upstash-NonRetryable-Error, 503).
 */
export async function jobDeliveryHandler(c: Context<AppEnv>): Promise<Response> {
  const type = c.req.param('type') ?? '';
  if (!edgeJobTypes.has(type)) {
    throw new AppError('NOT_FOUND', `No edge job has the type ${type}`);
  }
  c.var.event.job = type;
  const done = await runJobDelivery(
    runtimeOf(c),
    edgeJobHandlers(c.var.deps),
    c.req.raw,
    type as JobType,
  );
  return ok(
    c,
    { key: done.key, type: done.type, duplicate: done.duplicate, result: done.result ?? null },
    200,
  );
}

/** 200 with the dead job's { id, type }, again for a repeated callback. */
export async function failureCallbackHandler(c: Context<AppEnv>): Promise<Response> {
  const { deps } = c.var;
  const deadJob = await recordFailureCallback(
    {
      deadJobs: createDeadJobsRepository(deps.db),
      jobState: deps.jobState,
      clock: deps.clock,
      logger: deps.logger,
      signingKeys: signingKeysOf(c),
      config: deps.config,
    },
    c.req.raw,
  );
  return ok(c, { id: deadJob.id, type: deadJob.type }, 200);
}
