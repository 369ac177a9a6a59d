// Every job this worker runs: the catalogue's 'node' types. Deliveries of any other type are not
// meant for this process and are answered 404.
import { jobTypesOn } from '../../src/jobs/catalogue.ts';
import type { JobHandlers } from '../../src/jobs/job-delivery.ts';
import { avatarJob } from './avatar.ts';
import { type EmailJobDeps, emailJobHandlers } from './emails.ts';

export const nodeJobTypes: ReadonlySet<string> = new Set(jobTypesOn('node'));

export function nodeJobHandlers(deps: EmailJobDeps): JobHandlers {
  return { ...emailJobHandlers(deps), 'image.avatar': avatarJob };
}
