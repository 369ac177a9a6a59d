// The users resource as the API shows it. The public profile is what anyone may read about a
// user: never the email, role or any timestamp but the creation date.
import { z } from '@hono/zod-openapi';

export const userIdParamsSchema = z.object({
  id: z.uuid().openapi({
    param: { name: 'id', in: 'path' },
    description: 'The user id, a UUID.',
    example: '00000000-0000-4000-8000-000000000002',
  }),
});

export const publicProfileSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    createdAt: z.iso.datetime().openapi({ description: 'When the account was created (UTC).' }),
  })
  .openapi('PublicUserProfile');

export type PublicProfile = z.infer<typeof publicProfileSchema>;
