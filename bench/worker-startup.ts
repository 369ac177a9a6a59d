// The Worker's start-up cost, from `wrangler check startup` (which builds the same bundle as
// `wrangler deploy` and profiles its top-level evaluation in local workerd), against the 100 ms
// budget. The figure is CPU on this machine, not Cloudflare's: read it as a trend, not a verdict.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runWrangler } from '../local-stack/wrangler.ts';
import type { Benchmark } from './benchmark.ts';

const budgetMs = 100;

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Busy time in the profile: every sample except those taken while the isolate sat idle. */
function activeMs(profile: CpuProfile): number {
  const idle = new Set(
    profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id),
  );
  let micros = 0;
  profile.samples.forEach((node, i) => {
    if (!idle.has(node)) micros += profile.timeDeltas[i] ?? 0;
  });
  return micros / 1000;
}

export const workerStartup: Benchmark = {
  name: 'worker-startup',
  async run(workDir) {
    const profilePath = join(workDir, 'startup.cpuprofile');
    await runWrangler(['check', 'startup', '--outfile', profilePath]);
    const profile = JSON.parse(await readFile(profilePath, 'utf8')) as CpuProfile;
    const active = activeMs(profile);
    const window = (profile.endTime - profile.startTime) / 1000;
    const within = active <= budgetMs;
    return {
      lines: [
        'top-level evaluation of the bundle in workerd (wrangler check startup)',
        `busy ${active.toFixed(1)} ms of a ${window.toFixed(1)} ms profile   budget ${budgetMs} ms: ${
          within ? 'within budget' : 'OVER'
        }`,
      ],
      overBudget: within ? [] : [`startup ${active.toFixed(1)} ms > ${budgetMs} ms`],
    };
  },
};
