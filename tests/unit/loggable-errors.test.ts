// A failed query's bound values never reach a log line: drizzle puts them in its error's message
// (a password hash being stored, a token's hash being looked up), and the log keeps the statement
// and the driver's error without them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loggableMessage, loggableStack } from '../../src/lib/loggable-errors.ts';
import { offlineDeps } from '../support/offline-deps.ts';

const statement = 'update "users" set "password_hash" = ? where "users"."id" = ?';
const hash = 'pbkdf2-sha256$600000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

describe('loggableMessage and loggableStack', () => {
  it('keep a failed query’s statement and its driver’s error, not its values', () => {
    const failed = new DrizzleQueryError(
      statement,
      [hash, '00000000-0000-4000-8000-000000000002'],
      new Error('SQLITE_BUSY: database is locked'),
    );
    expect(failed.message).toContain(hash);
    expect(loggableMessage(failed)).toBe(
      `Failed query: ${statement}: Error: SQLITE_BUSY: database is locked`,
    );
    expect(loggableStack(failed)).toMatch(/^Error: Failed query: update "users"/);
    expect(loggableStack(failed)).not.toContain(hash);
    expect(loggableStack(failed)).toContain('loggable-errors.test.ts');
  });

  it('leave other errors as they are', () => {
    const plain = new Error('backend went away');
    expect(loggableMessage(plain)).toBe('backend went away');
    expect(loggableStack(plain)).toBe(plain.stack);
    expect(loggableMessage('a thrown string')).toBe('a thrown string');
  });
});

describe('a request whose query fails', () => {
  it('logs the statement that failed, without the values bound to it', async () => {
    const busy = createServer((_request, response) => response.writeHead(503).end('busy'));
    await new Promise<void>((listening) => busy.listen(0, '127.0.0.1', listening));
    try {
      const { port } = busy.address() as AddressInfo;
      const { deps, logLines } = offlineDeps({
        TURSO_DATABASE_URL: `http://127.0.0.1:${port}`,
        RATE_LIMIT_TIMEOUT_MS: '200',
        CACHE_TIMEOUT_MS: '200',
      });
      const id = '3f6c1e2d-8a4b-4c7d-9e1f-2a3b4c5d6e7f';
      const res = await createApp(deps).request(`/v1/products/${id}`);
      expect(res.status).toBe(503);
      const line = logLines.find((logged) => logged.msg === 'request');
      const cause = String((line?.error as { cause?: unknown } | undefined)?.cause);
      expect(cause).toMatch(/^Error: Failed query: select .* from "products" .*: LibsqlError: /);
      expect(cause).not.toContain('params');
      expect(cause).not.toContain(id);
    } finally {
      busy.closeAllConnections();
      await new Promise((closed) => busy.close(closed));
    }
  });
});
