// The processes `npm run dev` runs next to the local stack. Each starts in its own process group,
// so stopping it also stops whatever it started (wrangler runs workerd under it), and its output
// is prefixed with its name so interleaved logs stay readable.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildSpec {
  /** Short name, the prefix of every output line. */
  name: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env: Record<string, string>;
  cwd: string;
  /** Answers 200 once the child serves requests. */
  readyUrl: string;
}

export interface RunningChild {
  spec: ChildSpec;
  /** Settles when the child's own process ends, with how it ended. */
  exited: Promise<string>;
  /** Stops the whole process group: SIGTERM, then SIGKILL for whatever is left after a grace period. */
  stop(): Promise<void>;
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string, write: (s: string) => void) {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    write(`${prefix} ${line}\n`);
  });
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

async function stopGroup(pid: number, graceMs: number): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (groupAlive(pid)) await sleep(50);
}

export function startChild(spec: ChildSpec, graceMs = 5_000): RunningChild {
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${spec.name}]`;
  if (child.stdout) prefixLines(child.stdout, prefix, (s) => process.stdout.write(s));
  if (child.stderr) prefixLines(child.stderr, prefix, (s) => process.stderr.write(s));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not start: ${error.message}`));
    child.once('exit', (code, signal) =>
      resolve(signal === null ? `exited with code ${code}` : `ended by ${signal}`),
    );
  });
  return {
    spec,
    exited,
    stop: async () => {
      if (child.pid !== undefined) await stopGroup(child.pid, graceMs);
    },
  };
}

/** Polls readyUrl until it answers 200; fails if the child ends first or the time runs out. */
export async function waitUntilReady(child: RunningChild, timeoutMs: number): Promise<void> {
  let ended: string | undefined;
  void child.exited.then((how) => {
    ended = how;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (ended !== undefined) throw new Error(`${child.spec.name} ${ended} before it was ready`);
    try {
      const response = await fetch(child.spec.readyUrl, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `answered ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new Error(
    `${child.spec.name} was not ready within ${timeoutMs / 1000} s at ${child.spec.readyUrl} (${last})`,
  );
}
