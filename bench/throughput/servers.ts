// The servers the throughput benchmark loads, each started for one round and stopped after it, so
// no two ever run at once: a Node script in a child process, or a Worker bundle in workerd through
// Miniflare (never `wrangler dev`, whose proxy would sit in the path). Both listen on free ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Miniflare } from 'miniflare';
import { projectRoot, type WorkerBuild } from '../../local-stack/wrangler.ts';

export interface RunningServer {
  /** Origin the server answers on, e.g. http://127.0.0.1:40123. */
  origin: string;
  stop(): Promise<void>;
}

const startTimeoutMs = 30_000;
const stopGraceMs = 5_000;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  // An open keep-alive connection can hold a graceful close back: do not wait for it forever.
  const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs `node <script>` with `env` added; the script prints `listening <port>` once it serves. */
export async function startNodeServer(
  script: string,
  env: Record<string, string>,
): Promise<RunningServer> {
  const child = spawn(process.execPath, [script], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const port = await new Promise<string>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`${script} not listening in 30 s`)),
        startTimeoutMs,
      );
      child.once('exit', (code) => fail(new Error(`${script} exited with ${code}:\n${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const port = /^listening (\d+)$/.exec(line)?.[1];
        if (port === undefined) return;
        clearTimeout(timer);
        ready(port);
      });
    });
    child.removeAllListeners('exit');
    return { origin: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

export interface WorkerOptions {
  /** R2 buckets to bind (Miniflare's, in a temporary folder it removes on stop). */
  r2Buckets?: string[];
  /** A port known beforehand, for a Worker told its own URL (API_PUBLIC_URL); a free one if not. */
  port?: number;
  /** Where workerd's console goes instead of this process's. */
  handleRuntimeStdio?: (stdout: Readable, stderr: Readable) => void;
  /** Opens V8's inspector on a free port, for RunningWorker.inspector. */
  inspect?: boolean;
}

export interface RunningWorker extends RunningServer {
  /** The inspector's address (its /json lists the isolates), when asked for. */
  inspector: URL | undefined;
}

/** Runs a bundle built by `wrangler deploy --dry-run` in workerd, bound to `bindings`. */
export async function startWorker(
  build: WorkerBuild,
  bindings: Record<string, string>,
  { r2Buckets, port = 0, handleRuntimeStdio, inspect = false }: WorkerOptions = {},
): Promise<RunningWorker> {
  const mf = new Miniflare({
    // The bundle is self-contained: listed as the one module, as tests/e2e/harness/worker.ts does.
    modules: [{ type: 'ESModule', path: build.bundlePath }],
    modulesRoot: dirname(build.bundlePath),
    compatibilityDate: build.compatibilityDate,
    compatibilityFlags: build.compatibilityFlags,
    bindings,
    r2Buckets,
    host: '127.0.0.1',
    port,
    ...(handleRuntimeStdio !== undefined && { handleRuntimeStdio }),
    ...(inspect && { inspectorPort: 0 }),
  });
  try {
    const url = await mf.ready;
    return {
      origin: url.origin,
      inspector: inspect ? await mf.getInspectorURL() : undefined,
      stop: () => mf.dispose(),
    };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}
