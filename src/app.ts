// The app factory: one Hono app built from its dependencies, so the Worker, Deno, Node and the
// tests all serve exactly the same thing. Middleware first, in the order a request meets it, then
// the modules' routes.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { type Deps, forRequest, type SharedDeps } from './deps.ts';
import { type EdgeJobs, registerJobDeliveries } from './jobs/deliveries.ts';
import { housekeepingJob } from './jobs/housekeeping.job.ts';
import { methodIndex } from './lib/allowed-methods.ts';
import { mediaTypeIndex } from './lib/request-media-types.ts';
import { bodyLimit } from './middleware/body-limit.ts';
import {
  handleErrors,
  notFoundOrMethodNotAllowed,
  validationHook,
} from './middleware/error-handler.ts';
import { describeIdempotentRequest, prefetchIdempotencyClaim } from './middleware/idempotency.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { requestDeadline } from './middleware/request-deadline.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { corsPolicy, securityHeaders } from './middleware/security.ts';
import { traceContext } from './middleware/trace-context.ts';
import { prefetchApiKey } from './modules/api-keys/api-key-auth.ts';
import { recordApiKeyUsage } from './modules/api-keys/api-key-usage.ts';
import { apiKeysRoutes } from './modules/api-keys/api-keys.index.ts';
import { authJobs, authPrefetches, authRoutes } from './modules/auth/auth.index.ts';
import { prefetchTokenRevocation } from './modules/auth/auth.middleware.ts';
import { diagnosticsRoutes } from './modules/diagnostics/diagnostics.index.ts';
import { docsPagePath, registerDocs } from './modules/docs/docs.index.ts';
import {
  filesJobs,
  filesRoutes,
  readsOwnBody,
  signedFileRoutes,
} from './modules/files/files.index.ts';
import { healthRoutes } from './modules/health/health.index.ts';
import { jobsRoutes } from './modules/jobs/jobs.index.ts';
import { countRequests, metricsRoutes } from './modules/metrics/metrics.index.ts';
import { partnersJobs, partnersRoutes } from './modules/partners/partners.index.ts';
import {
  productsJobs,
  productsPrefetches,
  productsRoutes,
} from './modules/products/products.index.ts';
import { usersJobs, usersPrefetches, usersRoutes } from './modules/users/users.index.ts';
import { webhooksRoutes } from './modules/webhooks/webhooks.index.ts';

export interface AppOptions {
  /**
   * A compression middleware, for the runtimes that do not compress (Node): handed in by that
   * entry, so the Worker bundle does not carry one.
   */
  compress?: MiddlewareHandler<AppEnv>;
}

/** Every job the edge runs, from the modules that own them (the catalogue says which run here). */
const edgeJobs: EdgeJobs = (deps: Deps) => ({
  ...authJobs(deps),
  ...usersJobs(deps),
  ...productsJobs(deps),
  ...partnersJobs(deps),
  ...filesJobs(deps),
  'maintenance.housekeeping': housekeepingJob(deps),
});

export function createApp(deps: SharedDeps, options: AppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('*', requestId());
  app.use('*', traceContext());
  // After the ids: the request's logger names them on every line, its jobs carry the trace.
  app.use('*', async (c, next) => {
    const request = { requestId: c.get('requestId'), trace: c.get('trace') };
    c.set('deps', forRequest(deps, { request }));
    await next();
  });
  app.use('*', requestLog());
  if (options.compress) app.use('*', options.compress);
  // Inside the log line (it reads the request's event) and the compression (it reads JSON answers).
  if (deps.config.METRICS_ENABLED) app.use('*', countRequests());
  app.use('*', securityHeaders([docsPagePath]));
  app.use('*', corsPolicy(deps.config.CORS_ORIGINS));
  const defaultBodyLimit = bodyLimit(deps.config.MAX_BODY_BYTES);
  app.use('*', (c, next) =>
    readsOwnBody(c.req.method, c.req.path) ? next() : defaultBodyLimit(c, next),
  );
  // Probes and QStash's deliveries answer here, before the deadline and the metering: Hono stops
  // at the first handler that answers, so nothing registered below runs for them.
  const probed = app.route('/', healthRoutes);
  registerJobDeliveries(app, edgeJobs);
  // A job runs as long as QStash waits; everything else answers within REQUEST_TIMEOUT_MS.
  app.use('*', requestDeadline(deps.config.REQUEST_TIMEOUT_MS));
  // Partners deliver from many addresses and in bursts: their own policy counts per partner.
  const withWebhooks = probed.route('/', webhooksRoutes).route('/', signedFileRoutes);
  // The credential reads and each route's own prefetches leave with the general rate limit's
  // check, in one Redis round trip: they are issued in the same tick, right before it.
  // An Idempotency-Key's request is described first: reading and hashing its body is the one wait,
  // and no command of the round trip is issued before it.
  app.use('*', describeIdempotentRequest());
  app.use('*', prefetchTokenRevocation());
  app.use('*', prefetchApiKey());
  app.use('*', prefetchIdempotencyClaim());
  for (const { path, handler } of [...authPrefetches, ...usersPrefetches, ...productsPrefetches])
    app.use(path, handler);
  app.use('*', rateLimit('general'));
  // After the response is built, so a key's usage row carries the status the client got.
  app.use('*', recordApiKeyUsage());

  if (deps.config.APP_ENV === 'test') app.route('/', diagnosticsRoutes);
  const routes = withWebhooks
    .route('/', authRoutes)
    .route('/', usersRoutes)
    .route('/', productsRoutes)
    .route('/', filesRoutes)
    .route('/', apiKeysRoutes)
    .route('/', partnersRoutes)
    .route('/', jobsRoutes)
    .route('/', metricsRoutes);
  registerDocs(app);

  app.onError(handleErrors(mediaTypeIndex(() => app.openAPIRegistry.definitions)));
  app.notFound(notFoundOrMethodNotAllowed(methodIndex(() => app.routes)));
  return routes;
}

export type App = ReturnType<typeof createApp>;
