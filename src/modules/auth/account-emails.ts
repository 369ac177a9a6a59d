// The account emails, as jobs for the Node worker (`${JOBS_BASE_URL}/jobs/email.verification`,
// `.../email.password-reset`), which renders and sends them. Each is staged in the outbox in the
// same batch as its token, so a committed token always gets its email, even with QStash down.
import type { Deps } from '../../deps.ts';
import { type PreparedJob, prepareJob } from '../../jobs/enqueue.ts';

export type AccountEmailType = 'email.verification' | 'email.password-reset';

const pageOf: Record<AccountEmailType, string> = {
  'email.verification': '/verify-email',
  'email.password-reset': '/reset-password',
};

/**
 * One job per token: the token's row id is in the job id (QStash's deduplication id), so a
 * repeated publish never sends the same email twice.
 */
export function accountEmailJob(
  deps: Pick<Deps, 'config' | 'clock' | 'trace'>,
  type: AccountEmailType,
  user: { id: string; email: string; name: string },
  token: { id: string; token: string },
): PreparedJob {
  const link = new URL(`${deps.config.PUBLIC_APP_URL}${pageOf[type]}`);
  link.searchParams.set('token', token.token);
  return prepareJob(
    deps,
    type,
    { to: user.email, name: user.name, link: link.href },
    { id: `${type}-${token.id}`, ownerId: user.id },
  );
}
