// Domain events fan out to their handlers through the queue, never inside the request: each event
// becomes one job per handler, staged in the outbox in the same batch as the change it reports and
// published after the commit. The job id joins the event's id and the handler's type, so a staged
// job published twice (by the request and by the sweep) still runs each handler once.
import type { JobType } from './catalogue.ts';
import { type JobOrigin, type PreparedJob, prepareJob } from './enqueue.ts';

export type DomainEventName = 'user.registered' | 'user.password-changed' | 'user.email-verified';

export interface DomainEvent {
  event: DomainEventName;
  userId: string;
  email: string;
  name: string;
}

type EventHandler = Extract<JobType, 'email.welcome' | 'email.password-changed' | 'audit.record'>;

export const domainEventHandlers: Record<DomainEventName, readonly EventHandler[]> = {
  'user.registered': ['email.welcome', 'audit.record'],
  'user.password-changed': ['email.password-changed', 'audit.record'],
  'user.email-verified': ['audit.record'],
};

/** The jobs that carry one event to each of its handlers, ready to stage with the change. */
export function domainEventJobs(origin: JobOrigin, event: DomainEvent): PreparedJob[] {
  const eventId = crypto.randomUUID();
  const occurredAt = origin.clock.now().toISOString();
  return domainEventHandlers[event.event].map((type) => {
    const options = { id: `${eventId}:${type}`, ownerId: event.userId };
    if (type === 'audit.record') {
      return prepareJob(
        origin,
        type,
        { eventId, event: event.event, userId: event.userId, occurredAt },
        options,
      );
    }
    return prepareJob(origin, type, { to: event.email, name: event.name }, options);
  });
}
