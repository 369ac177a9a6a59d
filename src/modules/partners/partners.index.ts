import type { Deps } from '../../deps.ts';
import type { JobHandlers } from '../../jobs/job-delivery.ts';
import { moduleRoutes } from '../../module-routes.ts';
import { partnerBroadcastJob } from './partner-broadcast.job.ts';
import { partnerEventJob } from './partner-event.job.ts';
import { partnerNotifyJob } from './partner-notify.job.ts';
import {
  createPartnerHandler,
  deleteSubscriptionHandler,
  listPartnersHandler,
  revokePartnerHandler,
  revokeSecretHandler,
  rotateSecretHandler,
  updateSubscriptionHandler,
} from './partners.handlers.ts';
import {
  createPartnerRoute,
  deleteSubscriptionRoute,
  listPartnersRoute,
  revokePartnerRoute,
  revokeSecretRoute,
  rotateSecretRoute,
  updateSubscriptionRoute,
} from './partners.routes.ts';

/**
 * The admin partners API under /v1/admin/partners. Partners' webhooks arrive at
 * /webhooks/partners/{partnerId} (src/modules/webhooks); their events are processed by the
 * partner.event job (partner-event.job.ts). Our events go the other way: partner.broadcast fans
 * each out to the subscribed partners, partner.notify POSTs it to one, signed.
 */
export const partnersRoutes = moduleRoutes()
  .openapi(createPartnerRoute, createPartnerHandler)
  .openapi(listPartnersRoute, listPartnersHandler)
  .openapi(rotateSecretRoute, rotateSecretHandler)
  .openapi(revokeSecretRoute, revokeSecretHandler)
  .openapi(revokePartnerRoute, revokePartnerHandler)
  .openapi(updateSubscriptionRoute, updateSubscriptionHandler)
  .openapi(deleteSubscriptionRoute, deleteSubscriptionHandler);

/** The module's jobs: processing an accepted partner event, and sending partners ours. */
export const partnersJobs = (deps: Deps) =>
  ({
    'partner.event': partnerEventJob(deps),
    'partner.broadcast': partnerBroadcastJob(deps),
    'partner.notify': partnerNotifyJob(deps),
  }) satisfies JobHandlers;
