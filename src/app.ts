// The app factory: one Hono app built from its dependencies, so the Worker, Deno, Node and the
// tests all serve exactly the same thing. Middleware first, in the order a request meets it, then
// the modules' routes.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { except } from 'hono/combine';
import { timing } from 'hono/timing';
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
import { rateLimit } from './middleware/rate-limit.ts';
import { requestDeadline } from './middleware/request-deadline.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { corsPolicy, securityHeaders } from './middleware/security.ts';
import { prefetchApiKey } from './modules/api-keys/api-key-auth.ts';
import { recordApiKeyUsage } from './modules/api-keys/api-key-usage.ts';
import { apiKeysRoutes } from './modules/api-keys/api-keys.index.ts';
import { authJobs, authPrefetches, authRoutes } from './modules/auth/auth.index.ts';
import { prefetchTokenRevocation } from './modules/auth/auth.middleware.ts';
import { diagnosticsRoutes } from './modules/diagnostics/diagnostics.index.ts';
import { docsPagePath, registerDocs } from './modules/docs/docs.index.ts';
import { healthRoutes } from './modules/health/health.index.ts';
import { jobsRoutes } from './modules/jobs/jobs.index.ts';
import { partnersJobs, partnersRoutes } from './modules/partners/partners.index.ts';
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
  ...partnersJobs(deps),
  'maintenance.housekeeping': housekeepingJob(deps),
});

// Probes answer whatever the load; QStash proves itself by signature, from addresses shared by
// every QStash customer, and a refused delivery only comes back later.
const probes = ['/health', '/health/*'];
const jobDeliveries = ['/jobs/*'];
// Partners deliver from many addresses and in bursts: their own policy counts per partner.
const partnerWebhooks = ['/webhooks/*'];

export function createApp(deps: SharedDeps, options: AppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('*', async (c, next) => {
    c.set('deps', forRequest(deps));
    await next();
  });
  app.use('*', requestId());
  app.use('*', requestLog());
  // Server-Timing: a browser's developer tools show how long the server took.
  app.use('*', timing({ totalDescription: 'Total' }));
  if (options.compress) app.use('*', options.compress);
  app.use('*', securityHeaders([docsPagePath]));
  app.use('*', corsPolicy(deps.config.CORS_ORIGINS));
  app.use('*', bodyLimit(deps.config.MAX_BODY_BYTES));
  // A job runs as long as QStash waits; everything else answers within REQUEST_TIMEOUT_MS.
  app.use(
    '*',
    except([...probes, ...jobDeliveries], requestDeadline(deps.config.REQUEST_TIMEOUT_MS)),
  );
  // The credential reads and each route's own prefetches leave with the general rate limit's
  // check, in one Redis round trip: they are issued in the same tick, right before it.
  const metered = (...middleware: MiddlewareHandler<AppEnv>[]) =>
    except([...probes, ...jobDeliveries, ...partnerWebhooks], ...middleware);
  app.use('*', metered(prefetchTokenRevocation(), prefetchApiKey()));
  for (const { path, handler } of [...authPrefetches, ...usersPrefetches]) app.use(path, handler);
  app.use('*', metered(rateLimit('general')));
  // It writes the usage of API-key requests once their status is known.
  app.use('*', recordApiKeyUsage());

  registerJobDeliveries(app, edgeJobs);
  if (deps.config.APP_ENV === 'test') app.route('/', diagnosticsRoutes);
  const routes = app
    .route('/', healthRoutes)
    .route('/', webhooksRoutes)
    .route('/', authRoutes)
    .route('/', usersRoutes)
    .route('/', apiKeysRoutes)
    .route('/', partnersRoutes)
    .route('/', jobsRoutes);
  registerDocs(app);

  app.onError(handleErrors(mediaTypeIndex(() => app.openAPIRegistry.definitions)));
  app.notFound(notFoundOrMethodNotAllowed(methodIndex(() => app.routes)));
  return routes;
}

export type App = ReturnType<typeof createApp>;
