// The Node worker's HTTP face: QStash delivers node jobs to POST /jobs/<type>; platforms probe
// GET /health and /health/ready. It shares the edge's request id, log line, body limit and error
// handler, so every answer is the API's envelope and every request one log line.
import { Hono } from 'hono';
import { type Delivery, type JobRuntime, runJobDelivery } from '../src/jobs/job-delivery.ts';
import { methodIndex } from '../src/lib/allowed-methods.ts';
import { ok } from '../src/lib/envelope.ts';
import { AppError } from '../src/lib/errors.ts';
import type { RequestVariables } from '../src/lib/request-env.ts';
import { bodyLimit } from '../src/middleware/body-limit.ts';
import { handleErrors, notFoundOrMethodNotAllowed } from '../src/middleware/error-handler.ts';
import {
  type QstashSignatureOptions,
  requireQstashSignature,
  verifiedDelivery,
} from '../src/middleware/qstash-signature.ts';
import { requestId } from '../src/middleware/request-id.ts';
import { requestLog } from '../src/middleware/request-log.ts';
import type { WorkerDeps } from './deps.ts';
import { nodeJobHandlers, nodeJobTypes } from './jobs/index.ts';
import { checkWorkerReadiness } from './readiness.ts';

interface WorkerEnv {
  Variables: RequestVariables & {
    deps: WorkerDeps;
    /** The delivery the signing middleware verified (verifiedDelivery). */
    delivery?: Delivery;
  };
}

export function createWorkerApp(deps: WorkerDeps): Hono<WorkerEnv> {
  const { config, logger } = deps;
  const runtime: JobRuntime = { jobState: deps.jobState, logger };
  const signature: QstashSignatureOptions = {
    keys: { current: config.QSTASH_CURRENT_SIGNING_KEY, next: config.QSTASH_NEXT_SIGNING_KEY },
    publicBaseUrl: config.JOBS_BASE_URL,
    now: () => deps.clock.now().getTime(),
    redis: deps.redis,
  };
  const handlers = nodeJobHandlers({ mailer: deps.mailer, appUrl: config.PUBLIC_APP_URL });
  const app = new Hono<WorkerEnv>();

  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(requestId());
  app.use(requestLog());
  // QStash delivers at most 1 MiB; a bigger body is refused before anything buffers it.
  app.use(bodyLimit(config.MAX_BODY_BYTES));

  app.get('/health', (c) => ok(c, { status: 'ok' }));

  app.get('/health/ready', async (c) => {
    const { failing, faults } = await checkWorkerReadiness(deps);
    if (failing.length > 0) {
      c.get('event').readiness = { failing, faults };
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: ${failing.join(', ')} failing`, {
        details: { failing },
      });
    }
    return ok(c, { status: 'ok' });
  });

  app.post(
    '/jobs/:type',
    requireQstashSignature(() => signature),
    async (c) => {
      const type = c.req.param('type');
      if (!nodeJobTypes.has(type)) {
        throw new AppError('NOT_FOUND', `No job type ${type} runs on this worker`);
      }
      const done = await runJobDelivery(runtime, handlers, verifiedDelivery(c), type);
      c.get('event').job = { key: done.key, type: done.type, duplicate: done.duplicate };
      return ok(c, done);
    },
  );

  app.notFound(notFoundOrMethodNotAllowed(methodIndex(() => app.routes)));
  // Its one body-taking route reads raw bytes for the signature, so no media type is declared.
  app.onError(handleErrors(() => []));
  return app;
}
