// The app served by Deno (src/entries/deno.ts) with the project's own node_modules: Deno reads
// package.json and resolves npm packages from node_modules ("manual" mode), and --cached-only
// makes any attempt to download fail, so the test proves it runs offline.
import { join } from 'node:path';
import { describeServedEntry, projectRoot } from './served-entry.ts';

describeServedEntry('Deno', {
  command: join(projectRoot, 'node_modules', '.bin', 'deno'),
  args: [
    'run',
    '--node-modules-dir=manual',
    '--cached-only',
    '--no-prompt',
    '--allow-net',
    '--allow-env',
    '--allow-read',
    'src/entries/deno.ts',
  ],
});
