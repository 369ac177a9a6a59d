// What a partner sends to its webhook endpoint and what it gets back. The body is checked only
// after its signature, so the route leaves it unvalidated and the service parses it.
import { z } from '@hono/zod-openapi';

export const partnerEventBodySchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description:
          'The partner’s own event id: an event is stored once per id. Required with ' +
          'hmac-sha256; with standard-webhooks, webhook-id is used when it is left out.',
        example: 'evt_123',
      }),
    type: z.string().min(1).max(100).openapi({ example: 'invoice.paid' }),
    data: z.unknown().optional().openapi({ description: 'Anything the event carries.' }),
  })
  .openapi('PartnerEvent', {
    example: { id: 'evt_123', type: 'order.paid', data: { orderId: 'ord_42' } },
  });

/**
 * A partner id is a UUID; the path takes any string so that a wrong one is refused like a wrong
 * signature (401), not told apart by a 422.
 */
export const isPartnerId = (id: string): boolean => z.uuid().safeParse(id).success;

export const partnerWebhookParamsSchema = z.object({
  partnerId: z.string().openapi({
    param: { name: 'partnerId', in: 'path' },
    description: 'The partner id the admin API gave.',
    example: '00000000-0000-4000-8000-00000000000b',
  }),
});

export const receivedEventSchema = z.object({
  received: z.literal(true),
  eventId: z.string(),
  duplicate: z.boolean().openapi({
    description: 'True when this event id was received before: nothing new was stored.',
  }),
});

export type ReceivedEvent = z.infer<typeof receivedEventSchema>;
