// The Worker bundle exactly as `wrangler deploy` uploads it (wrangler.toml: minify, no keep_names),
// against the 256 KiB gzip budget, with the packages that weigh most, read from esbuild's metafile.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runWrangler } from '../local-stack/wrangler.ts';
import { type Benchmark, kib } from './benchmark.ts';

const gzipBudgetBytes = 256 * 1024;
const partsShown = 10;

interface Metafile {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

/** "node_modules/@upstash/redis/..." → "@upstash/redis"; zod by layer, since it is the one we shape. */
function partOf(input: string): string {
  const inPackage = input.split('node_modules/').at(-1) ?? input;
  if (inPackage === input) return input.split('/')[0] ?? input;
  const segments = inPackage.split('/');
  if (segments[0] === 'zod') return segments.slice(0, 3).join('/');
  return segments.slice(0, segments[0]?.startsWith('@') ? 2 : 1).join('/');
}

function largestParts(metafile: Metafile): [string, number][] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const part = partOf(input);
      sizes.set(part, (sizes.get(part) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].sort((a, b) => b[1] - a[1]);
}

export const bundleSize: Benchmark = {
  name: 'bundle-size',
  async run(workDir) {
    const deployed = join(workDir, 'deployed');
    const unminified = join(workDir, 'unminified');
    const metafilePath = join(workDir, 'meta.json');
    await runWrangler(['deploy', '--dry-run', '--outdir', deployed, '--metafile', metafilePath]);
    await runWrangler(['deploy', '--dry-run', '--minify=false', '--outdir', unminified]);

    const bundle = await readFile(join(deployed, 'workers.js'));
    const raw = (await readFile(join(unminified, 'workers.js'))).length;
    // zlib's default level, as wrangler uses for the size it prints and Cloudflare checks.
    const gzip = gzipSync(bundle).length;
    const metafile = JSON.parse(await readFile(metafilePath, 'utf8')) as Metafile;
    const within = gzip <= gzipBudgetBytes;
    const verdict = within
      ? `within budget, ${kib(gzipBudgetBytes - gzip)} left`
      : `OVER by ${kib(gzip - gzipBudgetBytes)}`;
    return {
      lines: [
        'the Worker as `wrangler deploy` uploads it (wrangler deploy --dry-run)',
        `raw (unminified)  ${kib(raw).padStart(11)}`,
        `minified          ${kib(bundle.length).padStart(11)}`,
        `minified + gzip   ${kib(gzip).padStart(11)}   budget ${kib(gzipBudgetBytes)}: ${verdict}`,
        `largest parts of the minified bundle:`,
        ...largestParts(metafile)
          .slice(0, partsShown)
          .map(
            ([part, bytes]) =>
              `  ${kib(bytes).padStart(10)}  ${((100 * bytes) / bundle.length).toFixed(0).padStart(2)}%  ${part}`,
          ),
      ],
      overBudget: within ? [] : [`gzip ${kib(gzip)} > ${kib(gzipBudgetBytes)}`],
    };
  },
};
