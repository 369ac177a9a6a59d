// `npm run bench [name ...]`: runs every benchmark (or the named ones) one after another, never in
// parallel (these machines are shared and noisy), prints each report, and exits 1 when a budget is
// exceeded.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark } from './benchmark.ts';
import { bundleSize } from './bundle-size.ts';
import { catalogue } from './catalogue.ts';
import { load } from './load.ts';
import { loginCpu } from './login-cpu.ts';
import { metrics } from './metrics.ts';
import { readCpu } from './read-cpu.ts';
import { roundTrips } from './round-trips.ts';
import { throughput } from './throughput.ts';
import { uploads } from './uploads.ts';
import { workerStartup } from './worker-startup.ts';

const benchmarks: Benchmark[] = [
  bundleSize,
  workerStartup,
  loginCpu,
  readCpu,
  metrics,
  roundTrips,
  throughput,
  catalogue,
  uploads,
  load,
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benchmarks.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`bench: no benchmark named ${unknown.join(', ')}`);
  console.error(`bench: available: ${benchmarks.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

const overBudget: string[] = [];
for (const benchmark of benchmarks) {
  if (wanted.length > 0 && !wanted.includes(benchmark.name)) continue;
  const workDir = await mkdtemp(join(tmpdir(), `nexus-bench-${benchmark.name}-`));
  try {
    const report = await benchmark.run(workDir);
    console.log(`\n${benchmark.name}`);
    for (const line of report.lines) console.log(`  ${line}`);
    overBudget.push(...report.overBudget.map((line) => `${benchmark.name}: ${line}`));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

if (overBudget.length > 0) {
  console.log(`\nover budget:\n  ${overBudget.join('\n  ')}`);
  process.exit(1);
}
console.log('\nevery budget met');
