// Builds the Worker exactly as `wrangler deploy` would, once per test run, into a folder of its
// own: the e2e tests run the bundle that would be uploaded, never a stale dist/ or the sources.
// A bundle that would not deploy fails the run here, before any test starts.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    worker: {
      bundlePath: string;
      compatibilityDate: string;
      compatibilityFlags: string[];
      /** wrangler.toml's [vars], which the deployed Worker gets. */
      vars: Record<string, string>;
    };
  }
}

const root = resolve(import.meta.dirname, '../..');

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('exit', done);
  });
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}:\n${output}`);
}

export default async function setup(project: TestProject) {
  const outDir = await mkdtemp(join(tmpdir(), 'nexus-edge-e2e-bundle-'));
  const wranglerPackage = createRequire(import.meta.url).resolve('wrangler/package.json');
  const wranglerBin = join(dirname(wranglerPackage), 'bin', 'wrangler.js');
  // The same command as `npm run build`, on the Node that runs the tests (Node 24).
  await run(process.execPath, [wranglerBin, 'deploy', '--dry-run', '--outdir', outDir]).catch(
    async (error: unknown) => {
      await rm(outDir, { recursive: true, force: true });
      throw error;
    },
  );

  // Named after wrangler.toml's `main`; the only module, since wrangler bundles everything.
  const bundle = (await readdir(outDir)).find((name) => name.endsWith('.js'));
  if (bundle === undefined) throw new Error(`wrangler wrote no bundle to ${outDir}`);

  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: join(root, 'wrangler.toml') });
  if (config.compatibility_date === undefined)
    throw new Error('wrangler.toml has no compatibility_date');
  project.provide('worker', {
    bundlePath: join(outDir, bundle),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags,
    vars: Object.fromEntries(
      Object.entries(config.vars).map(([name, value]) => [name, String(value)]),
    ),
  });

  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
