import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { moduleRoutes } from '../../module-routes.ts';
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
export const partnersRoutes = moduleRoutes()
  .openapi(createPartnerRoute, createPartnerHandler)
  .openapi(listPartnersRoute, listPartnersHandler)
  .openapi(rotateSecretRoute, rotateSecretHandler)
  .openapi(revokeSecretRoute, revokeSecretHandler)
  .openapi(revokePartnerRoute, revokePartnerHandler);

/** The module's jobs: processing an accepted partner event. */
export const partnersJobs = (deps: Deps) =>
  ({ 'partner.event': partnerEventJob(deps) }) satisfies JobHandlers;
