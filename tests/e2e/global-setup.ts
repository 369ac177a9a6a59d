// Builds the Worker exactly as `wrangler deploy` would, once per test run, into a folder of its
// own: the e2e tests run the bundle that would be uploaded, never a stale dist/ or the sources.
// A bundle that would not deploy fails the run here, before any test starts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWorker, type WorkerBuild } from '../../local-stack/wrangler.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    worker: WorkerBuild;
  }
}

export default async function setup(project: TestProject) {
  const outDir = await mkdtemp(join(tmpdir(), 'nexus-edge-e2e-bundle-'));
  // The same command as `npm run build`, on the Node that runs the tests (Node 24).
  const worker = await buildWorker(outDir).catch(async (error: unknown) => {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  });
  project.provide('worker', worker);

  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
