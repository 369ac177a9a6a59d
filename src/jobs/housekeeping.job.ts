// The daily housekeeping: the outbox sweep, then rows past their retention, each a batched DELETE
// bounded by age, so a run that QStash repeats only finds less to delete.
import { inArray, lt, or } from 'drizzle-orm';
import { apiKeys, apiKeyUsage, partnerEvents, partnerSecrets } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import type { JobHandler } from './job-delivery.ts';
import { sweepOutbox } from './outbox.ts';

const dayMs = 86_400_000;

const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * dayMs);

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
