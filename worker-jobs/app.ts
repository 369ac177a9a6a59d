// The Node worker's HTTP face: QStash delivers node jobs to POST /jobs/<type>; platforms probe
// GET /health and /health/ready. Every answer is the API's envelope, every request one log line.
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type Delivery, type JobRuntime, runJobDelivery } from '../src/jobs/job-delivery.ts';
import { errorBody, type Meta, successBody } from '../src/lib/envelope.ts';
import { serverFault, unexpected } from '../src/lib/error-handler.ts';
import { AppError } from '../src/lib/errors.ts';
import {
  type QstashSignatureOptions,
  requireQstashSignature,
  verifiedDelivery,
} from '../src/middleware/qstash-signature.ts';
import { acceptedRequestId, requestIdHeader } from '../src/middleware/request-id.ts';
import type { WorkerDeps } from './deps.ts';
import { nodeJobHandlers, nodeJobTypes } from './jobs/index.ts';
import { checkWorkerReadiness } from './readiness.ts';

interface WorkerEnv {
  Variables: {
    requestId: string;
    /** Added to the request's log line. */
    event: Record<string, unknown>;
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
    now: deps.now,
    redis: deps.redis,
  };
  const handlers = nodeJobHandlers({ mailer: deps.mailer, appUrl: config.PUBLIC_APP_URL });
  const app = new Hono<WorkerEnv>();

  const meta = (requestId: string): Meta => ({
    timestamp: new Date(deps.now()).toISOString(),
    requestId,
    version: config.API_VERSION,
  });

  /** The envelope, with the code on the request's log line (which signature check failed). */
  const answerError = (c: Context<WorkerEnv>, error: AppError) => {
    c.get('event').errorCode = error.code;
    return c.json(errorBody(error, meta(c.get('requestId'))), error.status, error.headers);
  };

  app.use(async (c, next) => {
    const started = performance.now();
    const id = acceptedRequestId(c.req.header(requestIdHeader)) ?? crypto.randomUUID();
    c.set('requestId', id);
    c.set('event', {});
    await next();
    c.res.headers.set(requestIdHeader, id);
    const status = c.res.status;
    logger.log(status >= 500 ? 'error' : 'info', 'request', {
      requestId: id,
      method: c.req.method,
      path: c.req.path,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      ...c.get('event'),
    });
  });

  // QStash delivers at most 1 MiB; a bigger body is refused before anything buffers it.
  app.use(
    bodyLimit({
      maxSize: config.MAX_BODY_BYTES,
      onError: (c) =>
        answerError(
          c,
          new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds ${config.MAX_BODY_BYTES} bytes`, {
            details: { maxBytes: config.MAX_BODY_BYTES },
          }),
        ),
    }),
  );

  app.get('/health', (c) => c.json(successBody({ status: 'ok' }, meta(c.get('requestId')))));

  app.get('/health/ready', async (c) => {
    const { failing, faults } = await checkWorkerReadiness(deps);
    if (failing.length > 0) {
      c.get('event').readiness = { failing, faults };
      throw new AppError('SERVICE_UNAVAILABLE', `Not ready: ${failing.join(', ')} failing`, {
        details: { failing },
      });
    }
    return c.json(successBody({ status: 'ok' }, meta(c.get('requestId'))));
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
      return c.json(successBody(done, meta(c.get('requestId'))));
    },
  );

  app.notFound((c) =>
    answerError(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`)),
  );

  app.onError((thrown, c) => {
    if (!(thrown instanceof AppError)) return answerError(c, unexpected(thrown, c.get('event')));
    if (thrown.status >= 500) c.get('event').error = serverFault(thrown);
    return answerError(c, thrown);
  });

  return app;
}
