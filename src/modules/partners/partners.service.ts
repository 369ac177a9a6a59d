// The partners admin API's rules: a secret is generated in the partner's scheme's format, sealed
// before it is stored, and shown once; rotating gives the old secrets a grace period so the
// partner can switch without a refused delivery.
import type { Config } from '../../config.ts';
import type { PartnerScheme } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError } from '../../lib/errors.ts';
import { randomToken } from '../../lib/opaque-tokens.ts';
import { sealSecret } from '../../lib/secret-box.ts';
import { generateStandardWebhookSecret } from '../../lib/signatures/standard-webhooks.ts';
import type {
  NewSecret,
  PartnersRepository,
  PartnerWithSecrets,
  SecretSummaryRow,
} from './partners.repository.ts';
import type {
  CreatePartnerBody,
  PartnerSecretView,
  PartnerView,
  RevealedSecret,
} from './partners.schemas.ts';

export interface PartnersServiceDeps {
  partners: PartnersRepository;
  clock: Clock;
  config: Pick<Config, 'PARTNER_SECRETS_KEY'>;
}

const hourMs = 3_600_000;

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

function partnerView(row: PartnerWithSecrets, now: Date): PartnerView {
  return {
    id: row.id,
    name: row.name,
    scheme: row.scheme,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
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

export async function rotateSecret(
  deps: PartnersServiceDeps,
  actorId: string,
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
  return partnerView(revoked, at);
}
