// The email jobs: render the type's template and send it. A message's id comes from the job key,
// so if a send succeeded but its completion was never recorded, the retried copy carries the same
// Message-ID and the receiving side can tell it is one message. Each message sent is logged on the
// delivery's logger, so its line carries the trace of the request that asked for the email; the
// line names the job, never the recipient or the link.
import type { JobContext, JobHandlers } from '../../src/jobs/job-delivery.ts';
import { type Mailer, messageIdOf } from '../mailer.ts';
import type { RenderedEmail } from '../templates/html.ts';
import { passwordChangedEmail } from '../templates/password-changed.ts';
import { passwordResetEmail } from '../templates/password-reset.ts';
import { verificationEmail } from '../templates/verification.ts';
import { weeklyDigestEmail } from '../templates/weekly-digest.ts';
import { welcomeEmail } from '../templates/welcome.ts';

export interface EmailJobDeps {
  mailer: Mailer;
  /** The web app's origin, for links the payload does not carry. */
  appUrl: string;
}

type EmailType =
  | 'email.verification'
  | 'email.password-reset'
  | 'email.welcome'
  | 'email.password-changed'
  | 'email.weekly-digest';

function sender<T extends EmailType>(
  mailer: Mailer,
  render: (payload: JobContext<T>['payload']) => RenderedEmail,
) {
  return async (job: JobContext<T>) => {
    const messageId = messageIdOf(job.key);
    await mailer.send({ to: job.payload.to, messageId, ...render(job.payload) });
    job.logger.info('email sent', { key: job.key, type: job.type, messageId });
    return { messageId };
  };
}

export function emailJobHandlers({ mailer, appUrl }: EmailJobDeps): JobHandlers {
  return {
    'email.verification': sender(mailer, verificationEmail),
    'email.password-reset': sender(mailer, passwordResetEmail),
    'email.welcome': sender(mailer, ({ name }) => welcomeEmail({ name, appUrl })),
    'email.password-changed': sender(mailer, ({ name }) => passwordChangedEmail({ name, appUrl })),
    'email.weekly-digest': sender(mailer, (payload) => weeklyDigestEmail({ ...payload, appUrl })),
  };
}
