// A libSQL server on a fresh database file in a temporary folder, for tests and throwaway runs:
// close() stops the server and deletes the folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningHttpServer } from '../http-server.ts';
import { type LibsqlServerOptions, startLibsqlServer } from './server.ts';

export async function startTempLibsqlServer(
  options: Omit<LibsqlServerOptions, 'dbFile' | 'port'> = {},
): Promise<RunningHttpServer> {
  const dir = await mkdtemp(join(tmpdir(), 'libsql-local-'));
  try {
    const server = await startLibsqlServer({ ...options, port: 0, dbFile: join(dir, 'db.sqlite') });
    return {
      ...server,
      close: async () => {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
