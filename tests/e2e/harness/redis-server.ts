// A redis-server child of the test file's own: no state shared with other runs or engineers, and
// a test can stop it and start it again on the same port to play a Redis outage.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface PrivateRedis {
  readonly url: string;
  /** Kills the server (SIGKILL: an outage, not a graceful shutdown). */
  stop(): Promise<void>;
  /** Starts a fresh, empty server on the same port. */
  start(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  await new Promise((done) => probe.close(done));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    // Redis writes its log, start-up errors included, to stdout.
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const stdout = child.stdout;
  if (stdout === null) throw new Error('redis-server has no stdout');
  let output = '';
  const watch = (chunk: Buffer) => {
    output += chunk.toString();
  };
  stdout.on('data', watch);
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`redis-server not ready within 10 s:\n${output}`)),
        10_000,
      );
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)));
      stdout.on('data', () => {
        if (!output.includes('Ready to accept connections')) return;
        clearTimeout(timer);
        ready();
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Keep draining its log, so a chatty Redis never blocks on a full pipe.
  child.removeAllListeners('exit');
  stdout.removeAllListeners('data');
  stdout.resume();
  return child;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined = await spawnRedis(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null) return;
      const exited = once(running, 'exit');
      running.kill('SIGKILL');
      await exited;
    },
    async start() {
      if (child !== undefined) throw new Error('redis-server is already running');
      child = await spawnRedis(port);
    },
  };
}
