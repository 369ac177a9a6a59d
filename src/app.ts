// The app factory: one Hono app built from its dependencies, so the Worker, Deno, Node and the
// tests all serve exactly the same thing. The order of the middleware is the order a request
// meets them.
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
import { rateLimit } from './middleware/rate-limit.ts';
import { requestDeadline } from './middleware/request-deadline.ts';
import { requestId } from './middleware/request-id.ts';
import { requestLog } from './middleware/request-log.ts';
import { corsPolicy, securityHeaders } from './middleware/security.ts';
import { prefetchApiKey } from './modules/api-keys/api-key-auth.ts';
import { recordApiKeyUsage } from './modules/api-keys/api-key-usage.ts';
import { registerApiKeys } from './modules/api-keys/api-keys.index.ts';
import { authJobs, registerAuth, startAuthRateLimits } from './modules/auth/auth.index.ts';
import { prefetchTokenRevocation } from './modules/auth/auth.middleware.ts';
import { registerDiagnostics } from './modules/diagnostics/diagnostics.index.ts';
import { docsPagePath, registerDocs } from './modules/docs/docs.index.ts';
import { registerHealth } from './modules/health/health.index.ts';
import { registerJobs } from './modules/jobs/jobs.index.ts';
import { partnersJobs, registerPartners } from './modules/partners/partners.index.ts';
import { prefetchPublicProfile, registerUsers, usersJobs } from './modules/users/users.index.ts';
import { registerWebhooks } from './modules/webhooks/webhooks.index.ts';

export interface AppOptions {
  /**
   * A compression middleware, for the runtimes that do not compress (Node): handed in by that
   * entry, so the Worker bundle does not carry one.
   */
  compress?: MiddlewareHandler<AppEnv>;
}

export type App = OpenAPIHono<AppEnv>;

/** Every job the edge runs, from the modules that own them (the catalogue says which run here). */
const edgeJobs: EdgeJobs = (deps: Deps) => ({
  ...authJobs(deps),
  ...usersJobs(deps),
  ...partnersJobs(deps),
  'maintenance.housekeeping': housekeepingJob(deps),
});

export function createApp(deps: SharedDeps, options: AppOptions = {}): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('*', async (c, next) => {
    c.set('deps', forRequest(deps));
    await next();
  });
  app.use('*', requestId());
  app.use('*', requestLog());
  if (options.compress) app.use('*', options.compress);
  app.use('*', securityHeaders([docsPagePath]));
  app.use('*', corsPolicy(deps.config.CORS_ORIGINS));
  app.use('*', bodyLimit(deps.config.MAX_BODY_BYTES));
  // Probes are answered here, before rate limiting: Hono stops at the first handler that
  // answers, so middleware registered below this line never sees /health.
  registerHealth(app);
  // QStash's deliveries: signed, never rate limited by address, carrying no user credentials.
  registerJobDeliveries(app, edgeJobs);
  // Every route below answers within REQUEST_TIMEOUT_MS; a job runs as long as QStash waits.
  app.use('*', requestDeadline(deps.config.REQUEST_TIMEOUT_MS));
  // Partners' webhooks: signed, metered per partner and address by their own policy.
  registerWebhooks(app);
  // Right before the rate limit: the access token's deny-list read leaves with its check.
  app.use('*', prefetchTokenRevocation());
  app.use('*', prefetchApiKey());
  app.use('/v1/users/:id', prefetchPublicProfile);
  startAuthRateLimits(app);
  app.use('*', rateLimit('general'));
  // Ahead of every route: it writes the usage of API-key requests once their status is known.
  app.use('*', recordApiKeyUsage());

  registerDiagnostics(app, deps.config);
  registerAuth(app);
  registerUsers(app);
  registerApiKeys(app);
  registerPartners(app);
  registerJobs(app);
  registerDocs(app);

  app.onError(handleErrors(mediaTypeIndex(() => app.openAPIRegistry.definitions)));
  app.notFound(notFoundOrMethodNotAllowed(methodIndex(() => app.routes)));
  return app;
}
