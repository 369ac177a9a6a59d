// Users for the users API tests: rows inserted straight into the database, each with a session
// issued the way sign-in issues one, and a small JSON client that sends a user's bearer token.
import { randomUUID } from 'node:crypto';
import type { App } from '../../src/app.ts';
import { type NewUserRow, type UserRole, users } from '../../src/db/schema.ts';
import type { Deps } from '../../src/deps.ts';
import { issueSession } from '../../src/modules/auth/sessions.ts';

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  accessToken: string;
}

export interface UserSpec {
  name: string;
  role?: UserRole;
  verified?: boolean;
  email?: string;
  createdAt?: Date;
  deletedAt?: Date;
}

/** Inserts the users in one batch and signs each one in. */
export async function signedInUsers(deps: Deps, specs: UserSpec[]): Promise<SignedInUser[]> {
  const rows = specs.map((spec): NewUserRow & { id: string; email: string; role: UserRole } => ({
    id: randomUUID(),
    email:
      spec.email ?? `${spec.name.toLowerCase().replace(/\W+/g, '-')}-${randomUUID()}@example.com`,
    name: spec.name,
    role: spec.role ?? 'user',
    emailVerifiedAt: spec.verified === false ? null : new Date('2026-01-01T00:00:00.000Z'),
    ...(spec.createdAt && { createdAt: spec.createdAt }),
    ...(spec.deletedAt && { deletedAt: spec.deletedAt }),
  }));
  await deps.db.insert(users).values(rows);
  return Promise.all(
    rows.map(async (row) => {
      const session = await issueSession(deps, {
        id: row.id,
        role: row.role,
        emailVerifiedAt: row.emailVerifiedAt ?? null,
      });
      return {
        id: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
        accessToken: session.accessToken,
      };
    }),
  );
}

export interface JsonAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever the envelope carries.
  body: any;
  text: string;
}

/** Requests as `user` (anonymous without one), answering the status and the parsed envelope. */
export function clientOf(app: App, user?: Pick<SignedInUser, 'accessToken'>) {
  const send = async (method: string, path: string, json?: unknown): Promise<JsonAnswer> => {
    const headers: Record<string, string> = {};
    if (user) headers.Authorization = `Bearer ${user.accessToken}`;
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers,
      ...(json !== undefined && { body: JSON.stringify(json) }),
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text), text };
  };
  return {
    get: (path: string) => send('GET', path),
    post: (path: string, json?: unknown) => send('POST', path, json),
    patch: (path: string, json: unknown) => send('PATCH', path, json),
    delete: (path: string) => send('DELETE', path),
  };
}
