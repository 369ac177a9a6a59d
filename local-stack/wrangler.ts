// How the project's Node tooling runs wrangler: the installed copy, on the Node running us (so on
// Node 24 whatever `node` is first on PATH), with nothing that phones home, so it works offline.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const wranglerScript = fileURLToPath(
  new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url),
);

/** Command and arguments for spawn(): `wrangler <args>`. */
export function wranglerCommand(args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [wranglerScript, ...args] };
}

/**
 * The network calls wrangler makes unasked: usage metrics, error reports, and (in dev) the
 * `request.cf` sample from workers.cloudflare.com, which offline would only print a warning.
 */
export const offlineWranglerEnv: Record<string, string> = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
};

/** `--var NAME:VALUE` for each variable; wrangler splits on the first colon only. */
export function varFlags(vars: Record<string, string>): string[] {
  return Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
}

/** Runs `wrangler <args>` offline in the project root; rejects with its output when it fails. */
export async function runWrangler(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { command, args: argv } = wranglerCommand(args);
  try {
    return await promisify(execFile)(command, argv, {
      cwd: projectRoot,
      env: { ...process.env, ...offlineWranglerEnv },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`wrangler ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}
