// digest.weekly, the Monday fan-out: this week's figures, then one email.weekly-digest job per
// verified, active user. Users are read a page at a time in id order (one query per page, never
// one per user) and each page's jobs go to QStash in one batch request. A job's id is fixed by
// the week and the user, so a repeated run publishes what QStash already holds and no user gets
// two digests.
import { and, count, gt, gte, isNotNull, isNull, or } from 'drizzle-orm';
import { apiKeys, users } from '../../db/schema.ts';
import type { Deps } from '../../deps.ts';
import { prepareJob, publishJobs } from '../../jobs/enqueue.ts';
import type { JobHandler } from '../../jobs/job-delivery.ts';

const pageSize = 100;
const weekMs = 7 * 86_400_000;

/** The UTC date of the Monday that starts the week of `now`. */
export function weekOf(now: Date): string {
  const daysSinceMonday = (now.getUTCDay() + 6) % 7;
  return new Date(now.getTime() - daysSinceMonday * 86_400_000).toISOString().slice(0, 10);
}

const recipients = and(isNotNull(users.emailVerifiedAt), isNull(users.deletedAt));

export function weeklyDigestJob(
  deps: Pick<Deps, 'db' | 'clock' | 'trace' | 'queue' | 'config' | 'jobState' | 'logger'>,
): JobHandler<'digest.weekly'> {
  return async (job) => {
    const now = deps.clock.now();
    const week = weekOf(now);
    const [[newUsers], [activeKeys], [eligible]] = await deps.db.batch([
      deps.db
        .select({ total: count() })
        .from(users)
        .where(
          and(isNull(users.deletedAt), gte(users.createdAt, new Date(now.getTime() - weekMs))),
        ),
      deps.db
        .select({ total: count() })
        .from(apiKeys)
        .where(
          and(isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))),
        ),
      deps.db.select({ total: count() }).from(users).where(recipients),
    ]);
    const stats = { newUsers: newUsers?.total ?? 0, activeApiKeys: activeKeys?.total ?? 0 };
    const total = eligible?.total ?? 0;

    let sent = 0;
    let after = '';
    for (;;) {
      const page = await deps.db
        .select({ id: users.id, email: users.email, name: users.name })
        .from(users)
        .where(and(recipients, gt(users.id, after)))
        .orderBy(users.id)
        .limit(pageSize);
      await publishJobs(
        deps,
        page.map((user) =>
          prepareJob(
            deps,
            'email.weekly-digest',
            { to: user.email, name: user.name, weekOf: week, stats },
            { id: `digest-${week}-${user.id}`, ownerId: user.id },
          ),
        ),
      );
      sent += page.length;
      const last = page.at(-1);
      if (last === undefined || page.length < pageSize) break;
      after = last.id;
      await job.progress(total === 0 ? 100 : (sent / total) * 100);
    }
    return { users: sent, weekOf: week };
  };
}
