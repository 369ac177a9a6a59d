// Roles grant permissions; routes ask for permissions, never for roles, so a new role is one line
// here. An API key carries scopes: a subset of its owner's permissions, checked on top of them.
import type { UserRole } from '../../db/schema.ts';
import type { Principal } from './principal.ts';

export const permissions = [
  /** Any user's private profile. */
  'users:read',
  /** Any user's profile fields. */
  'users:write',
  /** Roles, soft delete and restore, counts: the admin users API. */
  'users:admin',
  'users:search',
  'users:read-public',
  /** Partners and their webhook secrets: the admin partners API. */
  'partners:manage',
  /** One's own API keys. */
  'apikeys:manage',
  /** One's own profile. */
  'profile:read',
  'profile:write',
  /** Any job's status, and the dead-letter queue: list, inspect, requeue, delete. */
  'jobs:manage',
  /** One's own products' analytics and export. */
  'products:read',
  /** Creating products, and changing, deleting and restoring one's own. */
  'products:write',
  /** Any product: changes, deleted ones, global analytics, the export of all. */
  'products:admin',
  /** One's own files: list, read, download. */
  'files:read',
  /** Uploading files, and deleting one's own. */
  'files:write',
  /** Anyone's files: read, download, delete. */
  'files:admin',
  /** The Prometheus scrape, GET /metrics. */
  'metrics:read',
] as const;

export type Permission = (typeof permissions)[number];

const permissionsByRole: Record<UserRole, readonly Permission[]> = {
  admin: permissions,
  user: [
    'profile:read',
    'profile:write',
    'apikeys:manage',
    'users:search',
    'users:read-public',
    'products:read',
    'products:write',
    'files:read',
    'files:write',
  ],
};

export function permissionsOf(role: UserRole): readonly Permission[] {
  return permissionsByRole[role];
}

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}

export type PermissionCheck = 'granted' | 'role-lacks' | 'scope-lacks';

/** Whether the principal may act under `permission`: its role grants it and, for a key, its scopes. */
export function checkPermission(principal: Principal, permission: Permission): PermissionCheck {
  if (!permissionsOf(principal.role).includes(permission)) return 'role-lacks';
  if (principal.via === 'api-key' && !principal.scopes?.includes(permission)) return 'scope-lacks';
  return 'granted';
}
