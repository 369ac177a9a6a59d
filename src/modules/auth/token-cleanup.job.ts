// The scheduled clean-up of spent tokens: batched DELETEs in one round trip, bounded by age, so a
// run that QStash repeats only finds less to delete.
import { and, isNotNull, lt, or } from 'drizzle-orm';
import { oneTimeTokens, refreshTokens } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';

const dayMs = 86_400_000;

/**
 * One-time tokens used or expired over a day ago, and refresh tokens expired over a day ago. A
 * used refresh token is kept until it expires: presenting it again is how reuse is detected.
 */
export function tokenCleanupJob(
  deps: Pick<Deps, 'db' | 'clock'>,
): JobHandler<'maintenance.token-cleanup'> {
  return async () => {
    const cutoff = new Date(deps.clock.now().getTime() - dayMs);
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
