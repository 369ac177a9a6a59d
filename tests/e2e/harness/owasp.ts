// What the OWASP API Top 10 tests share: users who attack and users who are attacked, each with a
// session and an address of their own, the keys and files they make, and the state an attack
// must leave as it was (rows that no route shows, objects in the bucket).
import { createHash, createHmac } from 'node:crypto';
import type { Response } from 'miniflare';
import { expect } from 'vitest';
import { expectErrorEnvelope } from './envelope.ts';
import { call, dataOf, type IdentityWorker, login, promoteToAdmin, register } from './identity.ts';
import { multipartFiles } from './multipart.ts';
import type { LogLine } from './worker-logs.ts';

export interface Actor {
  id: string;
  email: string;
  name: string;
  password: string;
  ip: string;
  /** The access token of the actor's latest session. */
  token: string;
  refreshToken: string;
}

export interface ActorOptions {
  /** Marks the email verified, as following the link would: API keys need it. */
  verified?: boolean;
  admin?: boolean;
}

/** A registered user; an administrator signs in again, so the token carries the role. */
export async function newActor(
  worker: IdentityWorker,
  label: string,
  { verified = true, admin = false }: ActorOptions = {},
): Promise<Actor> {
  const account = await register(worker, label);
  if (verified) {
    await worker.db.execute({
      sql: 'UPDATE users SET email_verified_at = ? WHERE id = ?',
      args: [Date.now(), account.id],
    });
  }
  let session = account.session;
  if (admin) {
    await promoteToAdmin(worker, account.id);
    session = await login(worker, account);
  }
  const { session: _registered, ...details } = account;
  return { ...details, token: session.accessToken, refreshToken: session.refreshToken };
}

export type Send = (method: string, path: string, body?: unknown) => Promise<Response>;

/** Requests with the actor's session, from the actor's address. */
export const sendAs =
  (worker: IdentityWorker, actor: Actor): Send =>
  (method, path, body) =>
    call(worker, method, path, {
      token: actor.token,
      ip: actor.ip,
      ...(body !== undefined && { body }),
    });

/** Requests with an API key, from the key owner's address. */
export const sendWithKey =
  (worker: IdentityWorker, actor: Actor, apiKey: string): Send =>
  (method, path, body) =>
    call(worker, method, path, { apiKey, ip: actor.ip, ...(body !== undefined && { body }) });

export interface CreatedKey {
  id: string;
  key: string;
  scopes: string[];
}

export async function createApiKey(
  worker: IdentityWorker,
  actor: Actor,
  scopes: string[],
): Promise<CreatedKey> {
  const body = { name: `key with ${scopes.length} scopes`, scopes };
  return dataOf<CreatedKey>(await sendAs(worker, actor)('POST', '/v1/api-keys', body), 201);
}

/** Every permission of the `user` role, as key scopes. */
export const userScopes = [
  'profile:read',
  'profile:write',
  'users:search',
  'users:read-public',
  'products:read',
  'products:write',
  'files:read',
  'files:write',
];

export interface FileView {
  id: string;
  kind: string;
  status: string;
  name: string;
  size: number;
  url: string;
}

/** A PDF that file type detection takes, padded with spaces to `size` bytes. */
export function pdfBytes(size = 1_000): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size).fill(0x20);
  bytes.set(new TextEncoder().encode('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'));
  return bytes;
}

/** The files as one multipart body, as the actor: POST /v1/files's `files` field unless told. */
export async function uploadFiles(
  worker: IdentityWorker,
  actor: Actor,
  files: { name: string; bytes: Uint8Array }[],
  path = '/v1/files',
  field = 'files',
): Promise<Response> {
  const body = await multipartFiles(files, field);
  return worker.fetch(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${actor.token}`,
      'cf-connecting-ip': actor.ip,
      'content-type': body.contentType,
    },
    body: body.body,
  });
}

/** The rows a query reads, as plain objects: a snapshot to compare after an attack. */
export async function rowsOf(
  worker: IdentityWorker,
  sql: string,
  args: (string | number)[] = [],
): Promise<Record<string, unknown>[]> {
  const { rows } = await worker.db.execute({ sql, args });
  return rows.map((row) => ({ ...row }));
}

/** The objects the bucket holds under the user's prefix. */
export async function storedFor(worker: IdentityWorker, userId: string): Promise<string[]> {
  return (await worker.storedKeys()).filter((key) => key.startsWith(`users/${userId}/`));
}

/** What the Worker logged as its own failure: a 5xx answer, or an error line. */
export function serverFailures(worker: IdentityWorker): LogLine[] {
  return worker.logs.lines.filter(
    (line) => line.level === 'error' || (typeof line.status === 'number' && line.status >= 500),
  );
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The first row's `n`, for `SELECT count(*) AS n …`. */
export async function countOf(
  worker: IdentityWorker,
  sql: string,
  args: string[] = [],
): Promise<number> {
  return Number((await rowsOf(worker, sql, args))[0]?.n);
}

/** 422 VALIDATION_FAILED with `field` among the paths its `details.fields` names. */
export async function expectFieldRefused(response: Response, field: string): Promise<void> {
  const body = await expectErrorEnvelope(response, 422, 'VALIDATION_FAILED');
  const fields = (body.error.details as { fields: { path: string }[] }).fields;
  expect(fields.map(({ path }) => path)).toContain(field);
}

export interface CreatedPartner {
  partner: { id: string };
  secret: { id: string; secret: string };
}

/** An hmac-sha256 partner, registered by the administrator. */
export async function createPartner(
  worker: IdentityWorker,
  admin: Actor,
  name: string,
): Promise<CreatedPartner> {
  const body = { name, scheme: 'hmac-sha256' };
  return dataOf<CreatedPartner>(
    await sendAs(worker, admin)('POST', '/v1/admin/partners', body),
    201,
  );
}

/** POSTs `body` to the partner's webhook endpoint, signed hmac-sha256 with `secret` now. */
export function deliverPartnerEvent(
  worker: IdentityWorker,
  partnerId: string,
  secret: string,
  body: string,
  ip: string,
): Promise<Response> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return worker.fetch(`/webhooks/partners/${partnerId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'cf-connecting-ip': ip,
      'x-timestamp': timestamp,
      'x-signature': signature,
    },
    body,
  });
}
