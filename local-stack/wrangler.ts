// How the project's Node tooling runs wrangler: the installed copy, on the Node running us (so on
// Node 24 whatever `node` is first on PATH), with nothing that phones home, so it works offline.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
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
 * PATH starts with our Node's folder, so wrangler.toml's build command (`node ...ts`) runs on the
 * Node that runs wrangler, whatever older `node` the machine has first on its PATH.
 */
export const offlineWranglerEnv: Record<string, string> = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter),
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

/** A Worker bundle as `wrangler deploy` would upload it, with what workerd needs to run it so. */
export interface WorkerBuild {
  bundlePath: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** wrangler.toml's [vars], which the deployed Worker gets. */
  vars: Record<string, string>;
  /** wrangler.toml's `[assets] directory`, absolute: files served as they are, before the Worker. */
  assetsDirectory: string | undefined;
}

/**
 * `wrangler deploy --dry-run` of `script` (wrangler.toml's `main` when absent) into `outDir`, so
 * a bundle that would not deploy fails here; the settings come from wrangler's own config reader.
 */
export async function buildWorker(outDir: string, script?: string): Promise<WorkerBuild> {
  await runWrangler(['deploy', '--dry-run', '--outdir', outDir, ...(script ? [script] : [])]);
  // Named after the entry; the only module, since wrangler bundles everything.
  const bundle = (await readdir(outDir)).find((name) => name.endsWith('.js'));
  if (bundle === undefined) throw new Error(`wrangler wrote no bundle to ${outDir}`);
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: join(projectRoot, 'wrangler.toml') });
  if (config.compatibility_date === undefined) {
    throw new Error('wrangler.toml has no compatibility_date');
  }
  return {
    bundlePath: join(outDir, bundle),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    vars: Object.fromEntries(
      Object.entries(config.vars).map(([name, value]) => [name, String(value)]),
    ),
    assetsDirectory:
      config.assets?.directory === undefined
        ? undefined
        : resolve(projectRoot, config.assets.directory),
  };
}
