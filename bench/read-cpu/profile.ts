// Where the replayed cached read of the read-cpu benchmark spends its CPU:
// `npx node bench/read-cpu/profile.ts [out.cpuprofile]` (npx: the project's Node 24). Starts a
// local stack, warms the read up, then samples it with V8's profiler (through node:inspector, so
// only the measured requests are in the profile) and prints the functions with the most self time,
// overall, under src/ and in hono, and those under src/ and in hono with the most total time (their
// callees included; an async function's total covers its code up to its first await, what follows
// runs from the microtask queue). The profile is written to the path given, for Chrome DevTools.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../local-stack/wrangler.ts';
import { withStackProcess } from '../app-on-stack.ts';
import { createReplay } from './replay.ts';
import { signedIn } from './signed-in.ts';

const warmUpRequests = 3000;
const profiledRequests = 10_000;
const samplingIntervalUs = 100;

type Profile = Awaited<ReturnType<typeof profileOf>>;

async function profileOf(work: () => Promise<void>) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  await work();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile;
}

interface Place {
  name: string;
  where: string;
  self: number;
  total: number;
}

/** Samples per function (self) and per function on the stack (total), keyed by name and place. */
function places(profile: Profile): Place[] {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  const placeOf = new Map<number, Place>();
  const byKey = new Map<string, Place>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const file = url.replace(pathToFileURL(projectRoot).href, '').replace(/^.*node_modules\//, '');
    const where = url === '' ? '' : `${file}:${lineNumber + 1}:${columnNumber + 1}`;
    const key = `${functionName} ${where}`;
    let place = byKey.get(key);
    if (place === undefined) {
      place = { name: functionName || '(anonymous)', where, self: 0, total: 0 };
      byKey.set(key, place);
    }
    placeOf.set(node.id, place);
  }
  for (const sample of profile.samples ?? []) {
    const self = placeOf.get(sample);
    if (self !== undefined) self.self += 1;
    // A recursive function is on the stack more than once: its total counts the sample once.
    const seen = new Set<Place>();
    for (let id: number | undefined = sample; id !== undefined; id = parentOf.get(id)) {
      const place = placeOf.get(id);
      if (place !== undefined) seen.add(place);
    }
    for (const place of seen) place.total += 1;
  }
  return [...byKey.values()];
}

function table(
  title: string,
  all: Place[],
  keep: (place: Place) => boolean,
  by: 'self' | 'total',
  samples: number,
): string[] {
  const top = all
    .filter(keep)
    .sort((a, b) => b[by] - a[by])
    .slice(0, 15);
  return [
    `\n${title}, by ${by} time (% of the samples)`,
    ...top.map(
      (p) =>
        `${((100 * p[by]) / samples).toFixed(1).padStart(5)}%  ${p.name.padEnd(34)} ${p.where}`,
    ),
  ];
}

const workDir = await mkdtemp(join(tmpdir(), 'nexus-read-cpu-profile-'));
try {
  await withStackProcess(workDir, async (stack) => {
    const { userId, read } = await signedIn(stack.env);
    const replay = createReplay();
    const path = `/v1/users/${userId}`;
    const requests = (count: number) => async () => {
      for (let i = 0; i < count; i += 1) await read(path);
    };
    await replay.run(requests(warmUpRequests));
    const profile = await replay.run(() => profileOf(requests(profiledRequests)));
    const all = places(profile);
    const samples = profile.samples?.length ?? 0;
    const inSrc = (p: Place) => p.where.startsWith('src/');
    const inHono = (p: Place) => p.where.startsWith('hono/') || p.where.startsWith('@hono/');
    console.log(
      [
        `${profiledRequests} replayed cached reads, ${samples} samples, ${((profile.endTime - profile.startTime) / profiledRequests).toFixed(0)} us of wall time per request`,
        ...table('overall', all, () => true, 'self', samples),
        ...table('under src/', all, inSrc, 'self', samples),
        ...table('in hono', all, inHono, 'self', samples),
        ...table('under src/', all, inSrc, 'total', samples),
        ...table('in hono', all, inHono, 'total', samples),
      ].join('\n'),
    );
    const out = process.argv[2];
    if (out !== undefined) await writeFile(out, JSON.stringify(profile));
  });
} finally {
  await rm(workDir, { recursive: true, force: true });
}
