// The partners admin API's rules: a secret is generated in the partner's scheme's format, sealed
// before it is stored, and shown once; rotating gives the old secrets a grace period so the
// partner can switch without a refused delivery.
//
// The webhook endpoint reads a partner's record from the cache, in the same Redis round trip as
// its rate limit (src/modules/webhooks/webhooks.routes.ts), so rotations and revocations clear the
// cached records before they answer (a new partner has no record to clear). A revocation, or a
// rotation ending the old secrets at once, that cannot be known to apply answers 503: the admin
// repeats it. A rotation with a grace period answers with its new secret regardless, since that
// secret is shown only once: should Redis fail then, the new secret works once the cached record
// expires, within a minute, and the old ones keep working through their grace period anyway.
//
// A partner may also subscribe to our events (product.created, ...): they are POSTed to its webhook
// URL, signed with its own secrets in its own scheme, by the partner.broadcast and partner.notify
// jobs. The delivery reads the subscription from the database, not the cache, so nothing here
// needs clearing when it changes.
import type { Config } from '../../config.ts';
import type { AuditEntry, PartnerScheme } from '../../db/schema.ts';
import { type PartnerEventType, partnerEventTypes } from '../../jobs/catalogue.ts';
import { AppError } from '../../lib/errors.ts';
import { randomToken } from '../../lib/opaque-tokens.ts';
import { checkOutboundUrl } from '../../lib/outbound-url.ts';
import { sealSecret } from '../../lib/secret-box.ts';
import { generateStandardWebhookSecret } from '../../lib/signatures/standard-webhooks.ts';
import type { Cache, InvalidateOptions } from '../../platform/cache.ts';
import type { Clock } from '../../platform/clock.ts';
import type {
  NewSecret,
  PartnerForWebhook,
  PartnersRepository,
  PartnerWithSecrets,
  SecretSummaryRow,
  Subscription,
} from './partners.repository.ts';
import type {
  CreatePartnerBody,
  PartnerSecretView,
  PartnerView,
  RevealedSecret,
  SubscriptionBody,
} from './partners.schemas.ts';

export interface PartnersServiceDeps {
  partners: PartnersRepository;
  clock: Clock;
  config: Pick<Config, 'PARTNER_SECRETS_KEY' | 'PARTNER_WEBHOOK_ALLOW_PRIVATE'>;
  cache: Cache;
}

const hourMs = 3_600_000;
/** The cache group of partners' webhook records (prefetched by the webhook route). */
export const partnersCacheGroup = 'partners';
const webhookRecordTtlSeconds = 60;

/**
 * The partner's webhook record, or null for an unknown or revoked partner (cached too, so a
 * revoked partner that keeps sending stays off the database). `beforeLoad` runs before the
 * database is read on a cache miss: the endpoint meters those per client address, since every
 * made-up partner id is a miss.
 */
export function findPartnerForWebhook(
  deps: Pick<PartnersServiceDeps, 'partners' | 'cache'>,
  partnerId: string,
  beforeLoad: () => Promise<void>,
): Promise<PartnerForWebhook | null> {
  return deps.cache
    .group(partnersCacheGroup)
    .getOrSet(partnerId, webhookRecordTtlSeconds, async () => {
      await beforeLoad();
      return (await deps.partners.findForWebhook(partnerId)) ?? null;
    });
}

/** Invalidates every cached partner record; admin changes are rare enough to drop them all. */
function forgetPartners(deps: PartnersServiceDeps, options: InvalidateOptions): Promise<void> {
  return deps.cache.group(partnersCacheGroup).invalidate(options);
}

/**
 * For a change that must reach the endpoint at once (a revocation, a rotation without grace): it is
 * stored, and repeating it is harmless, but the endpoint may still hold the old record.
 */
async function forgetPartnersOrFail(deps: PartnersServiceDeps, change: string): Promise<void> {
  try {
    await forgetPartners(deps, { required: true });
  } catch (error) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `${change}, but the cached copy could not be cleared: repeat the request`,
      { details: { backend: 'cache' }, cause: `partners cache invalidation: ${String(error)}` },
    );
  }
}

function generateSecret(scheme: PartnerScheme): string {
  return scheme === 'standard-webhooks'
    ? generateStandardWebhookSecret()
    : `pws_${randomToken(32)}`;
}

async function newSecret(
  deps: PartnersServiceDeps,
  scheme: PartnerScheme,
): Promise<{ stored: NewSecret; revealed: RevealedSecret }> {
  const secret = generateSecret(scheme);
  const stored = {
    id: crypto.randomUUID(),
    encryptedSecret: await sealSecret(deps.config, secret),
    hint: secret.slice(-4),
    createdAt: deps.clock.now(),
  };
  return {
    stored,
    revealed: {
      id: stored.id,
      secret,
      hint: stored.hint,
      createdAt: stored.createdAt.toISOString(),
    },
  };
}

function secretView(row: SecretSummaryRow, now: Date): PartnerSecretView {
  return {
    id: row.id,
    hint: row.hint,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    active: row.revokedAt === null && (row.expiresAt === null || row.expiresAt > now),
  };
}

const knownEventTypes: ReadonlySet<string> = new Set(partnerEventTypes);

/** A stored event type still in the catalogue; one dropped since is simply no longer sent. */
function isPartnerEventType(event: string): event is PartnerEventType {
  return knownEventTypes.has(event);
}

function partnerView(row: PartnerWithSecrets, now: Date): PartnerView {
  return {
    id: row.id,
    name: row.name,
    scheme: row.scheme,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    webhookUrl: row.webhookUrl,
    subscribedEvents: row.subscribedEvents.filter(isPartnerEventType),
    secrets: row.secrets.map((secret) => secretView(secret, now)),
  };
}

const noPartner = () => new AppError('NOT_FOUND', 'No active partner has this id');

export async function createPartner(
  deps: PartnersServiceDeps,
  actorId: string,
  body: CreatePartnerBody,
): Promise<{ partner: PartnerView; secret: RevealedSecret }> {
  const { stored, revealed } = await newSecret(deps, body.scheme);
  const partner = { id: crypto.randomUUID(), ...body, createdAt: stored.createdAt };
  const created = await deps.partners.create(partner, stored, {
    actorId,
    action: 'partner.created',
    changes: { name: body.name, scheme: body.scheme, secretId: stored.id },
  });
  if (created === undefined) {
    throw new AppError('CONFLICT', 'Another partner has this name', {
      details: { field: 'name' },
    });
  }
  return { partner: partnerView(created, stored.createdAt), secret: revealed };
}

export async function listPartners(deps: PartnersServiceDeps): Promise<PartnerView[]> {
  const now = deps.clock.now();
  return (await deps.partners.list()).map((row) => partnerView(row, now));
}

/** `actorId` null: the admin CLI, whose change is audited with no actor. */
export async function rotateSecret(
  deps: PartnersServiceDeps,
  actorId: string | null,
  partnerId: string,
  graceHours: number,
): Promise<RevealedSecret> {
  const scheme = await deps.partners.schemeOf(partnerId);
  if (scheme === undefined) throw noPartner();
  const { stored, revealed } = await newSecret(deps, scheme);
  const othersExpireAt = new Date(stored.createdAt.getTime() + graceHours * hourMs);
  const added = await deps.partners.addSecret(partnerId, stored, othersExpireAt, {
    actorId,
    action: 'partner.secret-rotated',
    changes: { secretId: stored.id, graceHours, othersExpireAt: othersExpireAt.toISOString() },
  });
  if (!added) throw noPartner();
  if (graceHours === 0) {
    // The old secrets end now, typically because one leaked: the endpoint must stop taking them
    // before the admin hears so. Repeating the rotation ends this attempt's unseen secret too.
    await forgetPartnersOrFail(deps, 'The old secrets are ended');
  } else {
    await forgetPartners(deps, {});
  }
  return revealed;
}

export async function revokeSecret(
  deps: PartnersServiceDeps,
  actorId: string,
  partnerId: string,
  secretId: string,
): Promise<PartnerSecretView> {
  const at = deps.clock.now();
  const revoked = await deps.partners.revokeSecret(partnerId, secretId, at, {
    actorId,
    action: 'partner.secret-revoked',
    changes: { secretId },
  });
  if (revoked === undefined)
    throw new AppError('NOT_FOUND', 'The partner has no secret with this id');
  await forgetPartnersOrFail(deps, 'The secret is revoked');
  return secretView(revoked, at);
}

export async function revokePartner(
  deps: PartnersServiceDeps,
  actorId: string,
  partnerId: string,
): Promise<PartnerView> {
  const at = deps.clock.now();
  const revoked = await deps.partners.revoke(partnerId, at, {
    actorId,
    action: 'partner.revoked',
  });
  if (revoked === undefined) throw new AppError('NOT_FOUND', 'No partner has this id');
  await forgetPartnersOrFail(deps, 'The partner is revoked');
  return partnerView(revoked, at);
}

/**
 * Subscribes an active partner to our events at its webhook URL, replacing what it had. The URL
 * is checked against server-side request forgery here, with the field named as a schema refusal
 * names it, and again before every delivery (partner-notify.job.ts), since the rules or the
 * PARTNER_WEBHOOK_ALLOW_PRIVATE flag may have changed since.
 */
export async function subscribePartner(
  deps: PartnersServiceDeps,
  actorId: string,
  partnerId: string,
  body: SubscriptionBody,
): Promise<PartnerView> {
  const check = checkOutboundUrl(body.webhookUrl, {
    allowPrivate: deps.config.PARTNER_WEBHOOK_ALLOW_PRIVATE,
  });
  if (!check.ok) {
    const message = `webhookUrl ${check.reason}`;
    throw new AppError('VALIDATION_FAILED', message, {
      details: { target: 'json', fields: [{ path: 'webhookUrl', message, code: 'custom' }] },
    });
  }
  // Stored as the parser wrote it, the URL every delivery will call.
  const webhookUrl = check.url.href;
  const events = partnerEventTypes.filter((event) => body.events.includes(event));
  return changeSubscription(
    deps,
    partnerId,
    { webhookUrl, events },
    {
      actorId,
      action: 'partner.subscribed',
      changes: { webhookUrl, events },
    },
  );
}

/** Ends an active partner's subscription: jobs still queued for it find it and send nothing. */
export function unsubscribePartner(
  deps: PartnersServiceDeps,
  actorId: string,
  partnerId: string,
): Promise<PartnerView> {
  return changeSubscription(
    deps,
    partnerId,
    { webhookUrl: null, events: [] },
    { actorId, action: 'partner.unsubscribed' },
  );
}

async function changeSubscription(
  deps: PartnersServiceDeps,
  partnerId: string,
  subscription: Subscription,
  audit: AuditEntry,
): Promise<PartnerView> {
  const at = deps.clock.now();
  const changed = await deps.partners.setSubscription(partnerId, subscription, at, audit);
  if (changed === undefined) throw noPartner();
  return partnerView(changed, at);
}
