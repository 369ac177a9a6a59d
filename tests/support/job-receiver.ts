// Where the QStash broker of a test file's stack delivers the Worker's jobs (JOBS_BASE_URL): a small
// HTTP server that keeps every delivery, so a test reads the email a user would have received.
import { once } from 'node:events';
import { createServer } from 'node:http';

export interface DeliveredJob {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface JobReceiver {
  /** The base URL to hand the Worker as JOBS_BASE_URL. */
  readonly url: string;
  readonly jobs: DeliveredJob[];
  /** The first delivery (already in or still to come) that matches, within `timeoutMs`. */
  waitFor(matches: (job: DeliveredJob) => boolean, timeoutMs?: number): Promise<DeliveredJob>;
  close(): Promise<void>;
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startJobReceiver(): Promise<JobReceiver> {
  const jobs: DeliveredJob[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
    });
    request.on('end', () => {
      jobs.push({ path: request.url ?? '/', headers: request.headers, body: parsed(text) });
      for (const wake of waiters) wake();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');

  return {
    url: `http://127.0.0.1:${address.port}`,
    jobs,
    waitFor(matches, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const job = jobs.find(matches);
          if (job === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(job);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `no matching job within ${timeoutMs} ms; delivered so far:\n${jobs
                .map((job) => `${job.path} ${JSON.stringify(job.body)}`)
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}
