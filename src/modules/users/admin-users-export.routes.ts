// GET /v1/admin/users/export: every user as a download that streams (src/lib/export-stream.ts).
import { createRoute, z } from '@hono/zod-openapi';
import { exportResponseDoc } from '../../lib/export-stream.ts';
import { sessionOrApiKey } from '../../lib/openapi-security.ts';
import { falseByDefault } from '../../lib/query-params.ts';
import { forbidden, invalid, unauthorized } from '../../lib/route-responses.ts';
import { requireAuth, requirePermission } from '../auth/auth.middleware.ts';
import { adminUserSchema } from './user-serializer.ts';

export const exportUsersRoute = createRoute({
  method: 'get',
  path: '/v1/admin/users/export',
  operationId: 'exportUsers',
  tags: ['Admin'],
  summary: 'Export users',
  description:
    'Every active user, and soft-deleted ones with `includeDeleted=true`, as the admin API ' +
    'shows them: no password hash, token or key.',
  security: sessionOrApiKey('users:admin'),
  middleware: [requireAuth(), requirePermission('users:admin')],
  request: {
    query: z.object({ includeDeleted: falseByDefault('Include soft-deleted users.') }),
  },
  responses: {
    200: exportResponseDoc('users', adminUserSchema),
    401: unauthorized,
    403: forbidden('The caller is not an administrator'),
    422: invalid('includeDeleted is not true or false'),
  },
});
