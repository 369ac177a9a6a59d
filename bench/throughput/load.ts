// The load generator: autocannon's CLI in a process of its own, so its CPU is never the server's.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Identical for every server measured. */
export const loadSettings = { connections: 10, warmUpSeconds: 2, seconds: 5 };

const autocannonCli = fileURLToPath(
  new URL('../../node_modules/autocannon/autocannon.js', import.meta.url),
);

interface AutocannonResult {
  requests: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** Requests per second `url` answers with 2xx under load (autocannon's mean of its samples). */
export async function requestsPerSecond(
  url: string,
  headers: Record<string, string>,
): Promise<number> {
  const { connections, warmUpSeconds, seconds } = loadSettings;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      autocannonCli,
      '--json',
      ...['--connections', String(connections), '--duration', String(seconds)],
      // The warm-up's requests (JIT, connection set-up) are left out of the result.
      ...['--warmup', '[', '-c', String(connections), '-d', String(warmUpSeconds), ']'],
      ...Object.entries(headers).flatMap(([name, value]) => ['--headers', `${name}=${value}`]),
      url,
    ],
    { timeout: (warmUpSeconds + seconds + 30) * 1000 },
  );
  // One JSON line per run, the warm-up's first: the measured run is the last.
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as AutocannonResult;
  // A server answering errors fast would look fast: such a run measures nothing.
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return result.requests.average;
}
