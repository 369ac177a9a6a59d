// SQL for partners and their secrets. Every admin change carries its audit row in the same batch,
// which libSQL runs as one transaction in one round trip; an audit row is selected from the row
// about to change, under the change's own conditions, so it exists exactly when the change does.
// Only the webhook look-ups (theirs to us, ours to them) read a secret's ciphertext.
import { and, asc, eq, gt, isNotNull, isNull, or, type SQL, sql } from 'drizzle-orm';
import {
  type AuditEntry,
  auditLogs,
  type PartnerRow,
  type PartnerScheme,
  partnerSecrets,
  partners,
} from '../../db/schema.ts';
import { type Database, isUniqueViolation } from '../../platform/database.ts';

export interface SecretSummaryRow {
  id: string;
  partnerId: string;
  hint: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface PartnerWithSecrets extends PartnerRow {
  secrets: SecretSummaryRow[];
}

export interface NewSecret {
  id: string;
  encryptedSecret: string;
  hint: string;
  createdAt: Date;
}

/**
 * What verifying a partner's webhook needs: its scheme and its unrevoked secrets, sealed, each with
 * the end of its rotation grace period (epoch ms; null: no end). Expiry is left to the reader, so
 * the record can be cached and still stop a secret at the right moment.
 */
export type PartnerForWebhook = {
  scheme: PartnerScheme;
  secrets: { sealed: string; expiresAt: number | null }[];
};

/** Where and how to send a partner our events: its subscription and its unrevoked secrets. */
export type PartnerForDelivery = {
  scheme: PartnerScheme;
  webhookUrl: string | null;
  subscribedEvents: string[];
  secrets: { sealed: string; createdAt: Date; expiresAt: Date | null }[];
};

export interface Subscription {
  /** Null with no events: the partner receives nothing. */
  webhookUrl: string | null;
  events: string[];
}

export interface PartnersRepository {
  /** Undefined when another partner has the name. */
  create(
    partner: { id: string; name: string; scheme: PartnerScheme; createdAt: Date },
    secret: NewSecret,
    audit: AuditEntry,
  ): Promise<PartnerWithSecrets | undefined>;
  list(): Promise<PartnerWithSecrets[]>;
  /** An active partner's scheme; undefined for an unknown or revoked one. */
  schemeOf(partnerId: string): Promise<PartnerScheme | undefined>;
  /**
   * Adds a secret to an active partner and ends its other active secrets at `othersExpireAt` (or
   * sooner, if they already end sooner). False when no active partner has the id.
   */
  addSecret(
    partnerId: string,
    secret: NewSecret,
    othersExpireAt: Date,
    audit: AuditEntry,
  ): Promise<boolean>;
  /** Revokes a secret; one revoked before keeps its first revocation time. */
  revokeSecret(
    partnerId: string,
    secretId: string,
    at: Date,
    audit: AuditEntry,
  ): Promise<SecretSummaryRow | undefined>;
  /** Revokes a partner; one revoked before keeps its first revocation time. */
  revoke(partnerId: string, at: Date, audit: AuditEntry): Promise<PartnerWithSecrets | undefined>;
  /** Undefined for an unknown or revoked partner. */
  findForWebhook(partnerId: string): Promise<PartnerForWebhook | undefined>;
  /**
   * Replaces an active partner's subscription, audited only when it changes anything. Undefined
   * when no active partner has the id.
   */
  setSubscription(
    partnerId: string,
    subscription: Subscription,
    at: Date,
    audit: AuditEntry,
  ): Promise<PartnerWithSecrets | undefined>;
  /** The active partners with a webhook URL subscribed to the event, oldest first. */
  subscribersOf(event: string): Promise<string[]>;
  /** Undefined for an unknown or revoked partner. */
  findForDelivery(partnerId: string): Promise<PartnerForDelivery | undefined>;
}

const secretColumns = {
  id: partnerSecrets.id,
  partnerId: partnerSecrets.partnerId,
  hint: partnerSecrets.hint,
  createdAt: partnerSecrets.createdAt,
  expiresAt: partnerSecrets.expiresAt,
  revokedAt: partnerSecrets.revokedAt,
};

const activePartner = (partnerId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM ${partners} WHERE ${partners.id} = ${partnerId}
    AND ${partners.revokedAt} IS NULL)`;

export function createPartnersRepository(db: Database): PartnersRepository {
  const auditInsert = (partnerId: string, at: Date, entry: AuditEntry, when: SQL) =>
    db.run(
      sql`INSERT INTO ${auditLogs}
          (id, actor_id, action, target_type, target_id, changes, created_at)
        SELECT ${crypto.randomUUID()}, ${entry.actorId}, ${entry.action}, 'partner', ${partnerId},
          ${JSON.stringify(entry.changes ?? {})}, ${at.getTime()}
        WHERE ${when}`,
    );

  const secretsOf = (partnerId: string) =>
    db
      .select(secretColumns)
      .from(partnerSecrets)
      .where(eq(partnerSecrets.partnerId, partnerId))
      .orderBy(asc(partnerSecrets.createdAt));

  async function findForDelivery(partnerId: string) {
    const rows = await db
      .select({
        scheme: partners.scheme,
        webhookUrl: partners.webhookUrl,
        subscribedEvents: partners.subscribedEvents,
        sealed: partnerSecrets.encryptedSecret,
        createdAt: partnerSecrets.createdAt,
        expiresAt: partnerSecrets.expiresAt,
      })
      .from(partners)
      .leftJoin(
        partnerSecrets,
        and(eq(partnerSecrets.partnerId, partners.id), isNull(partnerSecrets.revokedAt)),
      )
      .where(and(eq(partners.id, partnerId), isNull(partners.revokedAt)));
    const [first] = rows;
    if (first === undefined) return undefined;
    return {
      scheme: first.scheme,
      webhookUrl: first.webhookUrl,
      subscribedEvents: first.subscribedEvents,
      secrets: rows.flatMap(({ sealed, createdAt, expiresAt }) =>
        sealed === null || createdAt === null ? [] : [{ sealed, createdAt, expiresAt }],
      ),
    };
  }

  return {
    async create(partner, secret, audit) {
      try {
        const [[created]] = await db.batch([
          db.insert(partners).values(partner).returning(),
          db.insert(partnerSecrets).values({ ...secret, partnerId: partner.id }),
          auditInsert(partner.id, partner.createdAt, audit, sql`1`),
        ]);
        if (created === undefined) return undefined;
        return {
          ...created,
          secrets: [{ ...secret, partnerId: partner.id, expiresAt: null, revokedAt: null }],
        };
      } catch (error) {
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },

    async list() {
      const [rows, secrets] = await db.batch([
        db.select().from(partners).orderBy(asc(partners.createdAt), asc(partners.name)),
        db.select(secretColumns).from(partnerSecrets).orderBy(asc(partnerSecrets.createdAt)),
      ]);
      return rows.map((partner) => ({
        ...partner,
        secrets: secrets.filter((secret) => secret.partnerId === partner.id),
      }));
    },

    async schemeOf(partnerId) {
      const [row] = await db
        .select({ scheme: partners.scheme })
        .from(partners)
        .where(and(eq(partners.id, partnerId), isNull(partners.revokedAt)))
        .limit(1);
      return row?.scheme;
    },

    async addSecret(partnerId, secret, othersExpireAt, audit) {
      const [, , inserted] = await db.batch([
        auditInsert(partnerId, secret.createdAt, audit, activePartner(partnerId)),
        db
          .update(partnerSecrets)
          .set({ expiresAt: othersExpireAt })
          .where(
            and(
              eq(partnerSecrets.partnerId, partnerId),
              isNull(partnerSecrets.revokedAt),
              or(isNull(partnerSecrets.expiresAt), gt(partnerSecrets.expiresAt, othersExpireAt)),
              activePartner(partnerId),
            ),
          ),
        db.run(
          sql`INSERT INTO ${partnerSecrets}
              (id, partner_id, encrypted_secret, hint, created_at)
            SELECT ${secret.id}, ${partnerId}, ${secret.encryptedSecret}, ${secret.hint},
              ${secret.createdAt.getTime()}
            WHERE ${activePartner(partnerId)}`,
        ),
      ]);
      return inserted.rowsAffected === 1;
    },

    async revokeSecret(partnerId, secretId, at, audit) {
      const match = and(eq(partnerSecrets.id, secretId), eq(partnerSecrets.partnerId, partnerId));
      const [, rows] = await db.batch([
        auditInsert(
          partnerId,
          at,
          audit,
          sql`EXISTS (SELECT 1 FROM ${partnerSecrets} WHERE ${match}
            AND ${partnerSecrets.revokedAt} IS NULL)`,
        ),
        db
          .update(partnerSecrets)
          .set({ revokedAt: sql`coalesce(${partnerSecrets.revokedAt}, ${at.getTime()})` })
          .where(match)
          .returning(secretColumns),
      ]);
      return rows[0];
    },

    async revoke(partnerId, at, audit) {
      const [, rows, secrets] = await db.batch([
        auditInsert(partnerId, at, audit, activePartner(partnerId)),
        db
          .update(partners)
          .set({ revokedAt: sql`coalesce(${partners.revokedAt}, ${at.getTime()})` })
          .where(eq(partners.id, partnerId))
          .returning(),
        secretsOf(partnerId),
      ]);
      const [partner] = rows;
      return partner === undefined ? undefined : { ...partner, secrets };
    },

    async setSubscription(partnerId, subscription, at, audit) {
      const events = JSON.stringify(subscription.events);
      const [, rows, secrets] = await db.batch([
        auditInsert(
          partnerId,
          at,
          audit,
          sql`EXISTS (SELECT 1 FROM ${partners} WHERE ${partners.id} = ${partnerId}
            AND ${partners.revokedAt} IS NULL
            AND (${partners.webhookUrl} IS NOT ${subscription.webhookUrl}
              OR ${partners.subscribedEvents} IS NOT ${events}))`,
        ),
        db
          .update(partners)
          .set({ webhookUrl: subscription.webhookUrl, subscribedEvents: subscription.events })
          .where(and(eq(partners.id, partnerId), isNull(partners.revokedAt)))
          .returning(),
        secretsOf(partnerId),
      ]);
      const [partner] = rows;
      return partner === undefined ? undefined : { ...partner, secrets };
    },

    async subscribersOf(event) {
      const rows = await db
        .select({ id: partners.id })
        .from(partners)
        .where(
          and(
            isNull(partners.revokedAt),
            isNotNull(partners.webhookUrl),
            sql`EXISTS (SELECT 1 FROM json_each(${partners.subscribedEvents})
              WHERE json_each.value = ${event})`,
          ),
        )
        .orderBy(asc(partners.createdAt), asc(partners.id));
      return rows.map((row) => row.id);
    },

    findForDelivery,

    // What verifying a partner's delivery needs, as JSON for the cache: times as milliseconds.
    async findForWebhook(partnerId) {
      const partner = await findForDelivery(partnerId);
      if (partner === undefined) return undefined;
      return {
        scheme: partner.scheme,
        secrets: partner.secrets.map(({ sealed, expiresAt }) => ({
          sealed,
          expiresAt: expiresAt?.getTime() ?? null,
        })),
      };
    },
  };
}
