import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { partnerEventJob } from './partner-event.job.ts';
import {
  createPartnerHandler,
  listPartnersHandler,
  revokePartnerHandler,
  revokeSecretHandler,
  rotateSecretHandler,
} from './partners.handlers.ts';
import {
  createPartnerRoute,
  listPartnersRoute,
  revokePartnerRoute,
  revokeSecretRoute,
  rotateSecretRoute,
} from './partners.routes.ts';

/**
 * The admin partners API under /v1/admin/partners. Partners' webhooks arrive at
 * /webhooks/partners/{partnerId} (src/modules/webhooks); their events are processed by the
 * partner.event job (partner-event.job.ts).
 */
export function registerPartners(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createPartnerRoute, createPartnerHandler);
  app.openapi(listPartnersRoute, listPartnersHandler);
  app.openapi(rotateSecretRoute, rotateSecretHandler);
  app.openapi(revokeSecretRoute, revokeSecretHandler);
  app.openapi(revokePartnerRoute, revokePartnerHandler);
}

/** The module's jobs: processing an accepted partner event. */
export const partnersJobs = (deps: Deps) =>
  ({ 'partner.event': partnerEventJob(deps) }) satisfies JobHandlers;
