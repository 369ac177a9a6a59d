// The Node worker's HTTP face: QStash delivers node jobs to POST /jobs/<type>; platforms probe
// GET /health and /health/ready. It shares the edge's request id, trace context, log line, body
// limit and error handler, so every answer is the API's envelope, every request one log line, and
// a job's delivery continues the trace of the request that caused it.
import { Hono } from 'hono';
import { type Delivery, runJobDelivery } from '../src/jobs/job-delivery.ts';
import { methodIndex } from '../src/lib/allowed-methods.ts';
import { ok } from '../src/lib/envelope.ts';
import { AppError } from '../src/lib/errors.ts';
import { type RequestVariables, requestLogger } from '../src/lib/request-env.ts';
import { bodyLimit } from '../src/middleware/body-limit.ts';
import { handleErrors, notFoundOrMethodNotAllowed } from '../src/middleware/error-handler.ts';
import { requestMetrics, scrapeToken } from '../src/middleware/metrics.ts';
import {
  type QstashSignatureOptions,
  requireQstashSignature,
  verifiedDelivery,
} from '../src/middleware/qstash-signature.ts';
import { requestId } from '../src/middleware/request-id.ts';
import { requestLog } from '../src/middleware/request-log.ts';
import { traceContext } from '../src/middleware/trace-context.ts';
import { scrapeMetrics } from '../src/modules/metrics/metrics.service.ts';
import { createMetricsStore, prometheusContentType } from '../src/platform/metrics.ts';
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
  const { config } = deps;
  const signature: QstashSignatureOptions = {
    keys: { current: config.QSTASH_CURRENT_SIGNING_KEY, next: config.QSTASH_NEXT_SIGNING_KEY },
    publicBaseUrl: config.JOBS_BASE_URL,
    now: () => deps.clock.now().getTime(),
    redis: deps.redis,
  };
  const handlers = nodeJobHandlers({ mailer: deps.mailer, appUrl: config.PUBLIC_APP_URL });
  const metrics = createMetricsStore(deps.redis, config.METRICS_PREFIX);
  const app = new Hono<WorkerEnv>();

  app.use(requestId());
  app.use(traceContext());
  // The process's deps, with a logger of the request's own: every line it writes names the
  // request and its trace, the mailer's among them.
  app.use(async (c, next) => {
    const request = { requestId: c.get('requestId'), trace: c.get('trace') };
    c.set('deps', { ...deps, logger: requestLogger(deps.logger, request) });
    await next();
  });
  app.use(requestLog());
  if (config.METRICS_ENABLED) app.use(requestMetrics<WorkerEnv>(() => metrics));
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

  // The edge's scrape without the outbox, which is the edge's: this worker's own series.
  if (config.METRICS_TOKEN !== undefined) app.use('/metrics', scrapeToken(config.METRICS_TOKEN));
  app.get('/metrics', async (c) =>
    c.text(await scrapeMetrics({ metrics }), 200, { 'Content-Type': prometheusContentType }),
  );

  app.post(
    '/jobs/:type',
    requireQstashSignature(() => signature),
    async (c) => {
      const type = c.req.param('type');
      if (!nodeJobTypes.has(type)) {
        throw new AppError('NOT_FOUND', `No job type ${type} runs on this worker`);
      }
      const runtime = {
        jobState: deps.jobState,
        logger: c.get('deps').logger,
        trace: c.get('trace'),
      };
      const event = c.get('event');
      // Named before the run, so a failed delivery's line and its metrics say which job it was.
      event.job = { type };
      const done = await runJobDelivery(runtime, handlers, verifiedDelivery(c), type);
      event.job = { key: done.key, type: done.type, duplicate: done.duplicate };
      return ok(c, done);
    },
  );

  app.notFound(notFoundOrMethodNotAllowed(methodIndex(() => app.routes)));
  // Its one body-taking route reads raw bytes for the signature, so no media type is declared.
  app.onError(handleErrors(() => []));
  return app;
}
