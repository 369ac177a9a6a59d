// The scheduled clean-ups: each is a few batched DELETEs in one round trip, bounded by age, so a run
// that QStash repeats only finds less to delete.
import { and, inArray, isNotNull, lt, or } from 'drizzle-orm';
import {
  apiKeys,
  apiKeyUsage,
  oneTimeTokens,
  partnerEvents,
  partnerSecrets,
  refreshTokens,
} from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';
import { sweepOutbox } from '../../jobs/outbox.ts';

const dayMs = 86_400_000;

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * dayMs);

/**
 * One-time tokens used or expired over a day ago, and refresh tokens expired over a day ago. A
 * used refresh token is kept until it expires: presenting it again is how reuse is detected.
 */
export function tokenCleanupJob(
  deps: Pick<Deps, 'db' | 'clock'>,
): JobHandler<'maintenance.token-cleanup'> {
  return async () => {
    const cutoff = daysBefore(deps.clock.now(), 1);
    const [oneTime, refresh] = await deps.db.batch([
      deps.db
        .delete(oneTimeTokens)
        .where(
          or(
            lt(oneTimeTokens.expiresAt, cutoff),
            and(isNotNull(oneTimeTokens.usedAt), lt(oneTimeTokens.usedAt, cutoff)),
          ),
        ),
      deps.db.delete(refreshTokens).where(lt(refreshTokens.expiresAt, cutoff)),
    ]);
    return { oneTimeTokens: oneTime.rowsAffected, refreshTokens: refresh.rowsAffected };
  };
}

const usageRetentionDays = 90;
const partnerEventRetentionDays = 30;
/** Expired or revoked keys and secrets stay listed this long, so their owners see what ended. */
const deadKeyRetentionDays = 30;

/**
 * The outbox sweep, then: API-key usage older than 90 days, partner events processed over 30 days
 * ago, and API keys and partner secrets expired or revoked over 30 days ago (a key's usage rows
 * first, which reference it).
 */
export function housekeepingJob(deps: Deps): JobHandler<'maintenance.housekeeping'> {
  return async () => {
    const now = deps.clock.now();
    const deadBefore = daysBefore(now, deadKeyRetentionDays);
    const deadApiKey = or(lt(apiKeys.expiresAt, deadBefore), lt(apiKeys.revokedAt, deadBefore));
    const deadApiKeyIds = deps.db.select({ id: apiKeys.id }).from(apiKeys).where(deadApiKey);
    const [outbox, [usage, events, , keys, secrets]] = await Promise.all([
      sweepOutbox(deps),
      deps.db.batch([
        deps.db
          .delete(apiKeyUsage)
          .where(lt(apiKeyUsage.createdAt, daysBefore(now, usageRetentionDays))),
        deps.db
          .delete(partnerEvents)
          .where(lt(partnerEvents.processedAt, daysBefore(now, partnerEventRetentionDays))),
        deps.db.delete(apiKeyUsage).where(inArray(apiKeyUsage.apiKeyId, deadApiKeyIds)),
        deps.db.delete(apiKeys).where(deadApiKey),
        deps.db
          .delete(partnerSecrets)
          .where(
            or(lt(partnerSecrets.expiresAt, deadBefore), lt(partnerSecrets.revokedAt, deadBefore)),
          ),
      ]),
    ]);
    return {
      outbox,
      apiKeyUsage: usage.rowsAffected,
      partnerEvents: events.rowsAffected,
      expiredApiKeys: keys.rowsAffected,
      expiredPartnerSecrets: secrets.rowsAffected,
    };
  };
}
