// The API-keys resource as the API shows it. The key itself appears in one response only, the one
// that creates it; its hash never leaves the server.
import { z } from '@hono/zod-openapi';
import { pageQuerySchema } from '../../lib/pagination.ts';
import { type Permission, permissions } from '../auth/permissions.ts';

/** Managing keys takes a session: a leaked key must not be able to mint or revoke keys. */
export const keyManagementPermission: Permission = 'apikeys:manage';

/** Every permission but key management; the owner's role narrows it further. */
export const grantableScopes = permissions.filter(
  (permission) => permission !== keyManagementPermission,
) as [Permission, ...Permission[]];

export const maxLifetimeDays = 3650;

// Strict, like every request body: an unknown field (an `ownerId`, a `prefix`) is refused with
// 422 rather than dropped.
export const createApiKeyBodySchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: 'What the key is for, to tell keys apart.', example: 'reporting' }),
    scopes: z
      .array(z.enum(grantableScopes))
      .min(1)
      .openapi({
        description:
          "What the key may do: permissions the owner's role holds. `apikeys:manage` is never " +
          'granted to a key: keys are managed with a session.',
        example: ['profile:read'],
      }),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({
        description: `When the key stops working; in the future, at most ${maxLifetimeDays} days away.`,
      }),
    expiresInDays: z
      .int()
      .min(1)
      .max(maxLifetimeDays)
      .optional()
      .openapi({ description: 'Or: how many days from now the key stops working.', example: 90 }),
  })
  .refine((body) => body.expiresAt === undefined || body.expiresInDays === undefined, {
    message: 'give expiresAt or expiresInDays, not both',
    path: ['expiresInDays'],
  })
  .openapi({ example: { name: 'reporting', scopes: ['profile:read'], expiresInDays: 90 } });

export type CreateApiKeyBody = z.infer<typeof createApiKeyBodySchema>;

export const apiKeyIdParamsSchema = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The key id, a UUID.',
    example: '00000000-0000-4000-8000-00000000000a',
  }),
});

export const apiKeySortColumns = ['createdAt', 'name', 'lastUsedAt'] as const;
export type ApiKeySortColumn = (typeof apiKeySortColumns)[number];

export const listApiKeysQuerySchema = pageQuerySchema(apiKeySortColumns, {
  sortBy: 'createdAt',
  sortOrder: 'desc',
});

const instantOrNull = (description: string) => z.iso.datetime().nullable().openapi({ description });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({
      description: 'The first characters of the key, to recognise it by.',
      example: 'sk_Zm9vYmF',
    }),
    scopes: z.array(z.string()),
    createdAt: z.iso.datetime(),
    expiresAt: instantOrNull('When the key stops working; null: never.'),
    lastUsedAt: instantOrNull('When the key last authenticated a request; null: never.'),
    revokedAt: instantOrNull('When the key was revoked; null while it is active.'),
  })
  .openapi('ApiKey');

export type ApiKeyView = z.infer<typeof apiKeySchema>;

export const createdApiKeySchema = apiKeySchema
  .extend({
    key: z.string().openapi({
      description: 'The key, to send as `X-API-Key`. Shown in this response only: store it now.',
      example: 'sk_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE',
    }),
  })
  .openapi('CreatedApiKey');

export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
