// Preloaded into the local stack's Node process by the load benchmark (`node --expose-gc
// --import`): SIGUSR2 collects its garbage, then writes its process.memoryUsage() into its folder
// (LOCAL_STACK_DIR), whole or not at all, for the benchmark to read what is left.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heapReportFile } from './garbage.ts';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const file = join(process.env.LOCAL_STACK_DIR ?? '.', heapReportFile);
  writeFileSync(`${file}.partial`, JSON.stringify(process.memoryUsage()));
  renameSync(`${file}.partial`, file);
});
