// The account emails, as jobs: published to QStash for `${JOBS_BASE_URL}/jobs/email`, where the
// jobs worker renders and sends them. Published after the database write and off the response's
// path (waitUntil); until the outbox of issue 5, a publish that fails after the write is logged
// and the user asks for another email.
import type { Deps } from '../../deps.ts';

export type AccountEmailType = 'email.verification' | 'email.password-reset';

export interface AccountEmail {
  type: AccountEmailType;
  to: string;
  name: string;
  /** The page of the web app that takes the token, e.g. https://app.example.com/verify-email?token=… */
  link: string;
}

const pageOf: Record<AccountEmailType, string> = {
  'email.verification': '/verify-email',
  'email.password-reset': '/reset-password',
};

export function accountEmail(
  deps: Pick<Deps, 'config'>,
  type: AccountEmailType,
  to: { email: string; name: string },
  token: string,
): AccountEmail {
  const link = new URL(`${deps.config.PUBLIC_APP_URL}${pageOf[type]}`);
  link.searchParams.set('token', token);
  return { type, to: to.email, name: to.name, link: link.href };
}

/**
 * One message per token: the token's row id is the deduplication id, so a retried publish never
 * sends the same email twice.
 */
export async function publishAccountEmail(
  deps: Pick<Deps, 'config' | 'queue'>,
  email: AccountEmail,
  tokenId: string,
): Promise<void> {
  await deps.queue.publish({
    destination: `${deps.config.JOBS_BASE_URL}/jobs/email`,
    body: email,
    deduplicationId: `${email.type}-${tokenId}`,
  });
}
