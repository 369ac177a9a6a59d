// The partner.notify job: one of our events POSTed to one partner's webhook URL, signed with the
// partner's own secrets in its own scheme. Delivery is at least once: QStash retries until the
// partner answers 2xx, and each retry carries the same event id (the body's `id`, and
// `webhook-id` under Standard Webhooks) with a fresh timestamp and signature, so the partner
// deduplicates on the id. The job's lease (src/jobs/job-delivery.ts) keeps two deliveries of the
// same job from POSTing at once, and a finished job is never run again; a POST whose answer was
// lost (a timeout after the partner took it) is still sent again.
//
// Everything is read again on each attempt: a partner revoked or unsubscribed meanwhile gets
// nothing (the job completes as skipped), a rotated secret signs at once, and the URL is checked
// again against the SSRF rules, which may have tightened since it was stored.
import type { Deps } from '../../deps.ts';
import { type JobHandler, PermanentJobError } from '../../jobs/job-delivery.ts';
import { checkOutboundUrl } from '../../lib/outbound-url.ts';
import { openSecret } from '../../lib/secret-box.ts';
import { outboundBody, postEvent, signedHeaders } from './outbound-webhook.ts';
import { createPartnersRepository } from './partners.repository.ts';

export type NotifyResult =
  | { delivered: true; status: number }
  | { delivered: false; skipped: 'partner-revoked' | 'not-subscribed' };

export function partnerNotifyJob(
  deps: Pick<Deps, 'db' | 'clock' | 'trace' | 'config'>,
): JobHandler<'partner.notify'> {
  return async ({ payload }): Promise<NotifyResult> => {
    const partner = await createPartnersRepository(deps.db).findForDelivery(payload.partnerId);
    if (partner === undefined) return { delivered: false, skipped: 'partner-revoked' };
    if (partner.webhookUrl === null || !partner.subscribedEvents.includes(payload.event)) {
      return { delivered: false, skipped: 'not-subscribed' };
    }
    const check = checkOutboundUrl(partner.webhookUrl, {
      allowPrivate: deps.config.PARTNER_WEBHOOK_ALLOW_PRIVATE,
    });
    if (!check.ok) {
      throw new PermanentJobError(`the partner's webhook URL is refused: it ${check.reason}`);
    }

    const now = deps.clock.now();
    const active = partner.secrets
      .filter(({ expiresAt }) => expiresAt === null || expiresAt > now)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    // Nothing can sign: an admin revoked every secret. A rotation gives the partner a new one,
    // and the dead job can then be requeued.
    if (active.length === 0) {
      throw new PermanentJobError('the partner has no active secret to sign with');
    }
    const secrets = await Promise.all(active.map(({ sealed }) => openSecret(deps.config, sealed)));
    const body = outboundBody(payload);
    const headers = await signedHeaders(
      partner.scheme,
      secrets,
      payload,
      Math.floor(now.getTime() / 1000),
      body,
    );

    const outcome = await postEvent(check.url, headers, body, { trace: deps.trace });
    const where = check.url.host;
    if (outcome.kind === 'unreachable') {
      throw new Error(`${where} could not be reached: ${outcome.reason}`);
    }
    const { status, excerpt } = outcome;
    if (status >= 200 && status < 300) return { delivered: true, status };
    // 410 is the partner saying the endpoint is gone for good: retrying for hours helps no one.
    // The job goes to the dead-letter queue, where an admin sees it (and can requeue it).
    if (status === 410) {
      throw new PermanentJobError(`${where} answered 410 Gone: the endpoint is retired`);
    }
    const kind = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    throw new Error(`${where} answered ${status}${kind}${excerpt === '' ? '' : `: ${excerpt}`}`);
  };
}
