// A stand-in for the Node jobs worker at JOBS_BASE_URL: QStash's deliveries of its jobs (the
// emails of sign-ups) are read whole and answered 200 unchecked, and counted by path. The load
// measures the edge; without a receiver the broker would retry those deliveries for the whole run.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JobSink {
  url: string;
  /** Deliveries by path, e.g. /jobs/email.verification. */
  delivered: Map<string, number>;
  close(): Promise<void>;
}

export async function startJobSink(): Promise<JobSink> {
  const delivered = new Map<string, number>();
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => {
      const path = request.url ?? '';
      delivered.set(path, (delivered.get(path) ?? 0) + 1);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    delivered,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
