// A job's status for GET /v1/jobs/{id}: its owner and administrators may read it. Anyone else is
// told it does not exist, so job ids of others are never confirmed.
import type { JobRecord, JobStateStore } from '../../jobs/job-state.ts';
import { AppError } from '../../lib/errors.ts';
import { checkPermission } from '../auth/permissions.ts';
import type { Principal } from '../auth/principal.ts';
import { type JobStatusView, jobsAdminPermission } from './jobs.schemas.ts';

export function toJobStatusView(record: JobRecord): JobStatusView {
  return {
    id: record.key,
    type: record.type,
    attempts: record.attempts,
    updatedAt: new Date(record.updatedAt).toISOString(),
    ...record.state,
  };
}

export async function readJobStatus(
  jobState: JobStateStore,
  principal: Principal,
  id: string,
): Promise<JobStatusView> {
  const record = await jobState.read(id);
  const mayRead =
    record !== null &&
    (record.ownerId === principal.userId ||
      checkPermission(principal, jobsAdminPermission) === 'granted');
  if (!mayRead) throw new AppError('NOT_FOUND', 'No job has this id');
  return toJobStatusView(record);
}
