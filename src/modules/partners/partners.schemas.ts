// Partners and their signing secrets as the admin API shows them. A secret's plaintext appears in
// two responses only, the one that creates the partner and the one that rotates its secret.
import { z } from '@hono/zod-openapi';
import { partnerSchemes } from '../../db/schema.ts';
import { type PartnerEventType, partnerEventTypes } from '../../jobs/catalogue.ts';

export const maxGraceHours = 168;
export const defaultGraceHours = 24;

export const createPartnerBodySchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: 'Unique among partners.', example: 'Acme Payments' }),
    scheme: z.enum(partnerSchemes).openapi({
      description:
        'How the partner signs: `hmac-sha256` (X-Timestamp, X-Signature) or `standard-webhooks` ' +
        '(webhook-id, webhook-timestamp, webhook-signature).',
    }),
  })
  .openapi({ example: { name: 'Acme Payments', scheme: 'hmac-sha256' } });

export type CreatePartnerBody = z.infer<typeof createPartnerBodySchema>;

export const rotateSecretBodySchema = z
  .strictObject({
    graceHours: z
      .int()
      .min(0)
      .max(maxGraceHours)
      .default(defaultGraceHours)
      .openapi({
        description:
          'How long the secrets active now keep verifying, so the partner can switch without a ' +
          'refused delivery. 0 ends them at once.',
        example: defaultGraceHours,
      }),
  })
  .openapi({ example: { graceHours: defaultGraceHours } });

const maxWebhookUrlLength = 2048;

const exampleSubscription = {
  webhookUrl: 'https://hooks.acme.example/nexus',
  events: ['product.created', 'product.updated'],
} satisfies { webhookUrl: string; events: PartnerEventType[] };

export const subscriptionBodySchema = z
  .strictObject({
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .max(maxWebhookUrlLength)
      .openapi({
        description:
          'Where our events are POSTed: an https URL on the internet, without a user name or ' +
          'password. Loopback, private, link-local and other internal addresses are refused.',
        example: exampleSubscription.webhookUrl,
      }),
    events: z
      .array(z.enum(partnerEventTypes))
      .min(1)
      .max(partnerEventTypes.length)
      .refine((events) => new Set(events).size === events.length, {
        message: 'list each event type once',
      })
      .openapi({
        description: 'The event types the partner receives; replaces the ones before.',
        example: exampleSubscription.events,
      }),
  })
  .openapi({ example: exampleSubscription });

export type SubscriptionBody = z.infer<typeof subscriptionBodySchema>;

const uuidParam = (name: string, description: string) =>
  z.uuid().openapi({
    param: { name, in: 'path' },
    description,
    example: '00000000-0000-4000-8000-00000000000b',
  });

export const partnerIdParamsSchema = z.object({ id: uuidParam('id', 'The partner id.') });

export const partnerSecretParamsSchema = z.object({
  id: uuidParam('id', 'The partner id.'),
  secretId: uuidParam('secretId', 'The secret id.'),
});

export const partnerSecretSchema = z
  .object({
    id: z.uuid(),
    hint: z.string().openapi({ description: 'The last four characters of the secret.' }),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
    active: z.boolean().openapi({ description: 'Neither revoked nor expired: it verifies now.' }),
  })
  .openapi('PartnerSecret');

export const partnerSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    scheme: z.enum(partnerSchemes),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
    webhookUrl: z
      .string()
      .nullable()
      .openapi({ description: 'Where our events are POSTed; null: the partner receives none.' }),
    subscribedEvents: z
      .array(z.enum(partnerEventTypes))
      .openapi({ description: 'The event types the partner receives.' }),
    secrets: z.array(partnerSecretSchema),
  })
  .openapi('Partner');

export type PartnerView = z.infer<typeof partnerSchema>;
export type PartnerSecretView = z.infer<typeof partnerSecretSchema>;

export const revealedSecretSchema = z
  .object({
    id: z.uuid(),
    secret: z.string().openapi({ description: 'Shown in this response only; store it now.' }),
    hint: z.string(),
    createdAt: z.iso.datetime(),
  })
  .openapi('RevealedPartnerSecret');

export type RevealedSecret = z.infer<typeof revealedSecretSchema>;

export const createdPartnerSchema = z.object({
  partner: partnerSchema,
  secret: revealedSecretSchema,
});
