// What QStash delivers, described for the OpenAPI document: the edge's job endpoints and its
// failure callback (routes this API answers), and the Node jobs worker's job types (webhooks:
// requests this system has QStash send elsewhere). The signature covers the raw body, so bodies
// and headers are described here but never validated by the framework: the signing middleware
// reads the bytes first, and the handler parses them once the signature holds.
import { createRoute, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env.ts';
import { forRequest } from '../deps.ts';
import { qstashSignature } from '../lib/openapi-security.ts';
import { failure, success } from '../lib/route-responses.ts';
import { requireQstashSignature } from '../middleware/qstash-signature.ts';
import {
  type JobMessage,
  type JobPayload,
  type JobType,
  jobMessageSchema,
  jobPayloads,
  jobTypesOn,
} from './catalogue.ts';

/**
 * Job deliveries wait longer for the database than API requests do (JOB_DATABASE_TIMEOUT_MS): a
 * sweep or a cleanup may rightly take longer, and QStash bounds the delivery itself.
 */
const jobBackends = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.get('deps');
  c.set('deps', forRequest(c.get('deps'), { databaseTimeoutMs: config.JOB_DATABASE_TIMEOUT_MS }));
  await next();
});

/** The edge's endpoints for QStash: its job types and the failure callback, all signed. */
const edgeQstashSignature = requireQstashSignature<AppEnv>((c) => {
  const { config, clock, redis } = c.get('deps');
  return {
    keys: { current: config.QSTASH_CURRENT_SIGNING_KEY, next: config.QSTASH_NEXT_SIGNING_KEY },
    publicBaseUrl: config.API_PUBLIC_URL,
    now: () => clock.now().getTime(),
    redis,
  };
});

const tags = ['Job deliveries'];
const exampleJobId = '7c0d3d3e-3d7a-4c43-9a55-8c0f7b2f7d1e';
const exampleUserId = '00000000-0000-4000-8000-000000000002';
const exampleCreatedAt = '2026-06-01T09:00:00.000Z';

const exampleProductEvent: JobPayload<'partner.broadcast'> = {
  eventId: '9b2e4f6a-1c3d-4e5f-8a7b-6c5d4e3f2a1b',
  event: 'product.updated',
  occurredAt: exampleCreatedAt,
  data: {
    id: '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f',
    name: 'Walnut desk lamp',
    price: { amount: 4999, currency: 'EUR' },
    stock: 12,
  },
};

/** One payload of each type, as enqueueing writes it. */
const examplePayloads: { [T in JobType]: JobPayload<T> } = {
  'email.verification': {
    to: 'ada@example.com',
    name: 'Ada Lovelace',
    link: 'https://app.example.com/verify-email?token=pX9vT2mQ7rL4sW8nK1cB6dF3hJ5gY0aZuE_oI-tRkMs',
  },
  'email.password-reset': {
    to: 'ada@example.com',
    name: 'Ada Lovelace',
    link: 'https://app.example.com/reset-password?token=pX9vT2mQ7rL4sW8nK1cB6dF3hJ5gY0aZuE_oI-tRkMs',
  },
  'email.welcome': { to: 'ada@example.com', name: 'Ada Lovelace' },
  'email.password-changed': { to: 'ada@example.com', name: 'Ada Lovelace' },
  'email.weekly-digest': {
    to: 'ada@example.com',
    name: 'Ada Lovelace',
    weekOf: '2026-06-01',
    stats: { newUsers: 12, activeApiKeys: 3 },
  },
  'image.avatar': {
    userId: exampleUserId,
    sourceUrl: 'https://uploads.example.com/avatars/ada/original.png',
    targetUrl: 'https://cdn.example.com/avatars/ada.jpg',
  },
  'audit.record': {
    eventId: '5f0c8e2a-4b1d-4e7f-9a3c-2d6b8e1f0a47',
    event: 'user.registered',
    userId: exampleUserId,
    occurredAt: exampleCreatedAt,
  },
  'partner.event': { partnerId: '00000000-0000-4000-8000-00000000000b', eventId: 'evt_123' },
  'product.cache-warm': { productId: exampleProductEvent.data.id as string },
  'partner.broadcast': exampleProductEvent,
  'partner.notify': { ...exampleProductEvent, partnerId: '00000000-0000-4000-8000-00000000000b' },
  'digest.weekly': {},
  'maintenance.token-cleanup': {},
  'maintenance.housekeeping': {},
  'avatar.dispatch': { fileId: '0b6f3c1e-9d7a-4c55-8f0e-2a1b3c4d5e6f' },
  'file.delete-object': { key: 'users/5d3c2b1a-0f9e-4d8c-b7a6-958473625140/7Qm2xZ9pL4vR1sT8' },
  'files.expire-uploads': {},
};

/** A job message of one type, as QStash delivers it. */
function exampleJobMessage(type: JobType): JobMessage {
  return { id: exampleJobId, type, payload: examplePayloads[type], createdAt: exampleCreatedAt };
}

/** The message schema narrowed to one type: its `type` and its payload's schema. */
function jobMessageOf(type: JobType) {
  return jobMessageSchema.extend({ type: z.literal(type), payload: jobPayloads[type] });
}

const edgeJobTypes = jobTypesOn('edge');
const exampleEdgeJob: JobType = 'maintenance.token-cleanup';

/** The body of POST /jobs/{type}: a job message whose `type` is the path's. */
export const edgeJobMessageSchema = z.union(edgeJobTypes.map(jobMessageOf)).openapi({
  description:
    'A job: our own id (absent for a scheduled run, then keyed by Upstash-Message-Id), the type, ' +
    'the payload of that type, and the user it belongs to, who may read its status.',
});

const exampleFailureCallback = {
  status: 503,
  body: btoa(
    JSON.stringify({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', message: 'The job failed; retry later' },
    }),
  ),
  retried: 5,
  dlqId: '1717232400000-0',
  sourceMessageId: 'msg_26hZCxZCuWyyTWPmSVBrNB882AMRP1TsgzpygELRcLWep',
  sourceBody: btoa(
    JSON.stringify({
      ...exampleJobMessage('email.welcome'),
      id: '3b9e6f0c-8d2a-4f5b-a1c7-e4d2f8b6a093',
    }),
  ),
};

const signatureHeaders = [
  {
    name: 'Upstash-Signature',
    in: 'header' as const,
    required: true,
    description: "QStash's signature of this delivery (security scheme qstashSignature).",
    schema: { type: 'string' as const },
  },
  {
    name: 'Upstash-Message-Id',
    in: 'header' as const,
    required: false,
    description:
      "QStash's id of the message: the key of a job whose body has no id. Not signed; a " +
      'captured delivery cannot be replayed under another id, as each signature is taken once.',
    schema: { type: 'string' as const },
  },
];

const describedBody = (schema: z.ZodType | { $ref: string }, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema, example } },
});

const signatureRefused = failure(
  'The signature is missing or refused (SIGNATURE_MISSING, SIGNATURE_MALFORMED, ' +
    'SIGNATURE_INVALID, SIGNATURE_BODY_MISMATCH, SIGNATURE_WRONG_URL, SIGNATURE_WRONG_ISSUER, ' +
    'SIGNATURE_EXPIRED, SIGNATURE_REPLAYED); nothing runs.',
);

const nonRetryableHeader = {
  'Upstash-NonRetryable-Error': {
    description: 'Always `true`: QStash moves the message to its DLQ without retrying.',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

/** How a job delivery's outcome reads to QStash, the same on the edge and the Node worker. */
const jobOutcomes = {
  200: success(
    'Done, or already done by an earlier delivery (`duplicate: true`, nothing ran).',
    z.object({
      key: z.string().openapi({ description: 'The job id, or `msg:<Upstash-Message-Id>`.' }),
      type: z.string(),
      duplicate: z.boolean(),
      result: z.unknown().openapi({ description: 'What the job answered.' }),
    }),
  ),
  401: signatureRefused,
  404: failure('No job of this type runs here (code NOT_FOUND).'),
  429: {
    ...failure(
      'Another delivery holds the job (code JOB_IN_PROGRESS); QStash retries after Retry-After.',
    ),
    headers: {
      'Retry-After': {
        description: 'Seconds until the other delivery’s lease runs out.',
        schema: { type: 'integer' as const },
      },
    },
  },
  489: {
    ...failure(
      'The job can never succeed: the body is not a job of this type or its payload is invalid ' +
        '(JOB_PAYLOAD_INVALID), or it failed for good (JOB_FAILED). Recorded as failed.',
    ),
    headers: nonRetryableHeader,
  },
  503: failure(
    'A transient failure (code SERVICE_UNAVAILABLE): QStash retries with the type’s backoff.',
  ),
};

export const jobDeliveryRoute = createRoute({
  method: 'post',
  path: '/jobs/{type}',
  operationId: 'runJob',
  tags,
  summary: 'Run a job (QStash only)',
  description:
    'QStash delivers each job that runs on the edge here, signed, at least once; each effect ' +
    'happens once. Its answer tells QStash what to do: 2xx done, 489 give up (to the DLQ), 429 ' +
    'and 503 retry. Waits up to JOB_DATABASE_TIMEOUT_MS for the database.',
  security: qstashSignature,
  middleware: [jobBackends, edgeQstashSignature] as const,
  parameters: [
    {
      name: 'type',
      in: 'path',
      required: true,
      description: 'The job type, the same as the body’s `type`.',
      schema: { type: 'string', enum: edgeJobTypes, example: exampleEdgeJob },
    },
    ...signatureHeaders,
  ],
  request: {
    body: describedBody(
      { $ref: '#/components/schemas/EdgeJobMessage' },
      exampleJobMessage(exampleEdgeJob),
    ),
  },
  responses: jobOutcomes,
});

export const failureCallbackRoute = createRoute({
  method: 'post',
  path: '/jobs/failed',
  operationId: 'recordDeadJob',
  tags,
  summary: 'Record a job QStash gave up on (QStash only)',
  description:
    'QStash’s failure callback, signed like any delivery: once a job’s last retry failed (or it ' +
    'answered 489), the job is recorded as dead (GET /v1/admin/jobs/dead) and its status turns ' +
    'failed. A repeated callback changes nothing more.',
  security: qstashSignature,
  middleware: [jobBackends, edgeQstashSignature] as const,
  parameters: signatureHeaders,
  request: {
    body: describedBody(
      { $ref: '#/components/schemas/QstashFailureCallback' },
      exampleFailureCallback,
    ),
  },
  responses: {
    200: success(
      'Recorded (again, for a repeated callback).',
      z.object({
        id: z.string().openapi({ description: 'The dead job’s id.' }),
        type: z.string().openapi({ description: '`unknown` when the message was not a job.' }),
      }),
    ),
    401: signatureRefused,
    489: {
      ...failure('The body is not a QStash failure callback (code JOB_PAYLOAD_INVALID).'),
      headers: nonRetryableHeader,
    },
    503: failure('A backend is unavailable (code SERVICE_UNAVAILABLE): QStash retries.'),
  },
});

/** `email.password-reset` → `EmailPasswordReset`. */
function pascalCase(type: string): string {
  return type
    .split(/[.-]/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/**
 * The jobs QStash delivers to the Node jobs worker (`${JOBS_BASE_URL}/jobs/<type>`) on behalf of
 * this API, one webhook per type, named by the type.
 */
export const nodeJobDeliveries = jobTypesOn('node').map((type) =>
  createRoute({
    method: 'post',
    path: type,
    operationId: `run${pascalCase(type)}Job`,
    tags,
    summary: `Run a job of type ${type}`,
    description:
      `Sent by QStash, signed, to \`\${JOBS_BASE_URL}/jobs/${type}\` on the Node jobs worker, at ` +
      'least once, retried with the type’s backoff until a 2xx or a 489, then reported to ' +
      'POST /jobs/failed. The worker answers as POST /jobs/{type} does.',
    security: qstashSignature,
    parameters: signatureHeaders,
    request: { body: describedBody(jobMessageOf(type), exampleJobMessage(type)) },
    responses: jobOutcomes,
  }),
);
