import type { RouteHandler } from '@hono/zod-openapi';
import type { AppEnv } from '../../app-env.ts';
import { exportResponse } from '../../lib/export-stream.ts';
import { createUsersExportRepository } from './admin-users-export.repository.ts';
import type { exportUsersRoute } from './admin-users-export.routes.ts';
import { exportUsers } from './admin-users-export.service.ts';

export const exportUsersHandler: RouteHandler<typeof exportUsersRoute, AppEnv> = (c) =>
  exportResponse(
    c,
    'users',
    exportUsers(
      { exports: createUsersExportRepository(c.get('deps').db) },
      { includeDeleted: c.req.valid('query').includeDeleted },
    ),
  );
