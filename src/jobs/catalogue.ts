// Every job the system runs, in one place: its payload schema, where it runs (the edge Worker or
// the Node worker in worker-jobs/), how often QStash retries it and how long it waits between
// tries, and its default priority. The edge and the Node worker validate deliveries with these
// same schemas; enqueue.ts reads the rest.
import * as z from 'zod';

export const jobPriorities = ['critical', 'normal', 'low'] as const;
export type JobPriority = (typeof jobPriorities)[number];

/**
 * Each priority is a QStash flow-control key with its own parallelism: critical jobs (account
 * emails, requeued dead jobs) never wait behind a digest run.
 */
export const priorityParallelism: Record<JobPriority, number> = {
  critical: 20,
  normal: 10,
  low: 2,
};

const email = z.email().max(254);
const link = z.url({ protocol: /^https?$/ }).max(2048);
const name = z.string().min(1).max(200);

export const accountEmailPayload = z.strictObject({ to: email, name, link });

const domainEventPayload = z.strictObject({
  /** The event's id: the audit row's id, so a repeated delivery writes nothing new. */
  eventId: z.uuid(),
  event: z.enum(['user.registered', 'user.password-changed', 'user.email-verified']),
  userId: z.uuid(),
  occurredAt: z.iso.datetime(),
});

/** The events partners can subscribe to; each is delivered to them signed, at their webhook URL. */
export const partnerEventTypes = ['product.created', 'product.updated', 'product.deleted'] as const;
export type PartnerEventType = (typeof partnerEventTypes)[number];

/** One of our events as a partner receives it: the body of the signed POST, as it is sent. */
export const outboundEventPayload = z.strictObject({
  /** The event's id: the partner's deduplication key (webhook-id under Standard Webhooks). */
  eventId: z.uuid(),
  event: z.enum(partnerEventTypes),
  occurredAt: z.iso.datetime(),
  /** The resource as it was when the event happened, as the API serializes it. */
  data: z.record(z.string(), z.unknown()),
});

export const jobPayloads = {
  'email.verification': accountEmailPayload,
  'email.password-reset': accountEmailPayload,
  'email.welcome': z.strictObject({ to: email, name }),
  'email.password-changed': z.strictObject({ to: email, name }),
  'email.weekly-digest': z.strictObject({
    to: email,
    name,
    weekOf: z.iso.date(),
    /** What the digest reports; computed by digest.weekly when it fans out. */
    stats: z.strictObject({
      newUsers: z.number().int().nonnegative(),
      activeApiKeys: z.number().int().nonnegative(),
    }),
  }),
  /** Resizes an uploaded image to the 400x400 JPEG avatar and PUTs it where `targetUrl` says. */
  'image.avatar': z.strictObject({
    userId: z.uuid(),
    sourceUrl: z.url({ protocol: /^https?$/ }),
    targetUrl: z.url({ protocol: /^https?$/ }),
  }),
  /** Signs fresh short-lived URLs for an uploaded avatar and hands them to image.avatar. */
  'avatar.dispatch': z.strictObject({ fileId: z.uuid() }),
  /** Removes one stored object: a deleted file, a replaced avatar, an avatar's original. */
  'file.delete-object': z.strictObject({ key: z.string().min(1).max(1024) }),
  /** Removes direct uploads never completed in time, and avatars whose image never came. */
  'files.expire-uploads': z.strictObject({}),
  'audit.record': domainEventPayload,
  'partner.event': z.strictObject({ partnerId: z.uuid(), eventId: z.string().min(1).max(200) }),
  /** Refills the product's cache entry after a change, so the next read is a hit. */
  'product.cache-warm': z.strictObject({ productId: z.uuid() }),
  /** Hands an event to every partner subscribed to its type: one partner.notify job each. */
  'partner.broadcast': outboundEventPayload,
  /** POSTs an event, signed with the partner's secret, to the partner's webhook URL. */
  'partner.notify': outboundEventPayload.extend({ partnerId: z.uuid() }),
  'digest.weekly': z.strictObject({}),
  'maintenance.token-cleanup': z.strictObject({}),
  'maintenance.housekeeping': z.strictObject({}),
} as const;

export type JobType = keyof typeof jobPayloads;
export type JobPayload<T extends JobType> = z.infer<(typeof jobPayloads)[T]>;
export const jobTypes = Object.keys(jobPayloads) as JobType[];

/**
 * Payload fields that carry a live secret (a reset or verification link holds its token): kept
 * for delivery, but never shown back, e.g. to an administrator reading a dead job.
 */
export const secretPayloadFields: Partial<Record<JobType, readonly string[]>> = {
  'email.verification': ['link'],
  'email.password-reset': ['link'],
};

export interface JobDefinition {
  /** 'node': delivered to `${JOBS_BASE_URL}/jobs/<type>`; 'edge': to `${API_PUBLIC_URL}/jobs/<type>`. */
  runsOn: 'edge' | 'node';
  priority: JobPriority;
  /** QStash's Upstash-Retries: attempts after the first, before the DLQ. */
  retries: number;
  /** QStash's Upstash-Retry-Delay, in milliseconds, with `retried` counting from 0. */
  retryDelay: string;
}

// Emails retry fast at first (an SMTP hiccup), then back off to about an hour; maintenance runs
// again on its next schedule anyway, so it gives up sooner.
const emailRetries = { retries: 5, retryDelay: 'min(3600000, pow(4, retried) * 10000)' };
const maintenanceRetries = { retries: 2, retryDelay: '60000' };

export const jobDefinitions: Record<JobType, JobDefinition> = {
  'email.verification': { runsOn: 'node', priority: 'critical', ...emailRetries },
  'email.password-reset': { runsOn: 'node', priority: 'critical', ...emailRetries },
  'email.welcome': { runsOn: 'node', priority: 'normal', ...emailRetries },
  'email.password-changed': { runsOn: 'node', priority: 'critical', ...emailRetries },
  'email.weekly-digest': { runsOn: 'node', priority: 'low', ...emailRetries },
  'image.avatar': {
    runsOn: 'node',
    priority: 'normal',
    retries: 3,
    retryDelay: 'pow(2, retried) * 5000',
  },
  'avatar.dispatch': { runsOn: 'edge', priority: 'normal', ...maintenanceRetries },
  // A storage outage may last a while; deleting twice is harmless.
  'file.delete-object': {
    runsOn: 'edge',
    priority: 'low',
    retries: 8,
    retryDelay: 'min(3600000, pow(3, retried) * 10000)',
  },
  'files.expire-uploads': { runsOn: 'edge', priority: 'low', ...maintenanceRetries },
  'audit.record': {
    runsOn: 'edge',
    priority: 'low',
    retries: 5,
    retryDelay: 'pow(2, retried) * 5000',
  },
  'partner.event': {
    runsOn: 'edge',
    priority: 'normal',
    retries: 5,
    retryDelay: 'pow(2, retried) * 5000',
  },
  'product.cache-warm': { runsOn: 'edge', priority: 'low', ...maintenanceRetries },
  'partner.broadcast': {
    runsOn: 'edge',
    priority: 'normal',
    retries: 5,
    retryDelay: 'pow(2, retried) * 5000',
  },
  // A partner's endpoint may be down for a while: eight retries backing off to an hour, about
  // three hours in all.
  'partner.notify': {
    runsOn: 'edge',
    priority: 'normal',
    retries: 8,
    retryDelay: 'min(3600000, pow(3, retried) * 10000)',
  },
  'digest.weekly': { runsOn: 'edge', priority: 'low', ...maintenanceRetries },
  'maintenance.token-cleanup': { runsOn: 'edge', priority: 'low', ...maintenanceRetries },
  // Its outbox sweep delivers what a QStash outage left behind (verification emails among them):
  // it must not wait in the low lane behind a Monday's digest emails.
  'maintenance.housekeeping': { runsOn: 'edge', priority: 'normal', ...maintenanceRetries },
};

/** The job types that run on one side: the routes each side answers. */
export function jobTypesOn(runsOn: JobDefinition['runsOn']): JobType[] {
  return jobTypes.filter((type) => jobDefinitions[type].runsOn === runsOn);
}

/**
 * What QStash delivers as the body of every job: our own job id (stable across QStash retries,
 * outbox re-publishes and DLQ requeues, unlike QStash's message id), the type, the payload, and
 * the trace it belongs to. Scheduled deliveries carry no id: each firing is keyed by its
 * Upstash-Message-Id instead.
 */
export const jobMessageSchema = z.object({
  id: z.string().min(1).max(200).optional(),
  type: z.enum(jobTypes as [JobType, ...JobType[]]),
  payload: z.unknown(),
  /** The user the job belongs to: who may read its status at GET /v1/jobs/{id}. */
  ownerId: z.uuid().optional(),
  createdAt: z.iso.datetime().optional(),
  /**
   * The W3C traceparent of the request that prepared the job, which QStash also forwards as a
   * header: kept here so a job published long after (by the outbox sweep, or requeued from the
   * DLQ) still continues that trace.
   */
  traceparent: z.string().max(256).optional(),
});

export type JobMessage = z.infer<typeof jobMessageSchema>;

export function jobPath(type: JobType): string {
  return `/jobs/${type}`;
}
