// What the load's processes use while it runs: each one's RSS sampled every second,
// and the CPU each one, this process (the clients) and the whole machine spent, since the machine
// is shared and the figures mean little without knowing how much of it the run had.
import { availableParallelism } from 'node:os';
import { cpuSeconds, machineCpuSeconds, residentBytes } from '../process-usage.ts';
import type { Heap } from './garbage.ts';

export interface Watched {
  label: string;
  pid: number;
  /** Collects its garbage, where it can be asked to; answers its heap after the collection. */
  collect?: () => Promise<Heap>;
}

const sampleEveryMs = 1_000;

/** Each process's RSS, in bytes, sampled every second: the most seen, and every sample. */
export interface RssSamples {
  peaks: number[];
  series: number[][];
}

/** Samples the RSS of each of `watched` until stopped; stopping answers what was seen. */
export function sampleRss(watched: readonly Watched[]): () => RssSamples {
  const series = watched.map(({ pid }) => [residentBytes(pid)]);
  const timer = setInterval(() => {
    watched.forEach(({ pid }, i) => {
      series[i]?.push(residentBytes(pid));
    });
  }, sampleEveryMs);
  return () => {
    clearInterval(timer);
    return { peaks: series.map((samples) => Math.max(...samples)), series };
  };
}

interface CpuUse {
  /** Seconds, in the order of `watched`, then this process. */
  processes: number[];
  machineBusy: number;
  machineTotal: number;
}

function cpuUse(watched: readonly Watched[]): CpuUse {
  const { user, system } = process.cpuUsage();
  const machine = machineCpuSeconds();
  return {
    processes: [...watched.map(({ pid }) => cpuSeconds(pid)), (user + system) / 1e6],
    machineBusy: machine.busy,
    machineTotal: machine.total,
  };
}

/** Counts CPU from now; stopping answers a line saying where it went. */
export function countCpu(watched: readonly Watched[]): () => string {
  const before = cpuUse(watched);
  return () => {
    const after = cpuUse(watched);
    const used = after.processes.map((seconds, i) => seconds - (before.processes[i] ?? 0));
    const busy = after.machineBusy - before.machineBusy;
    const total = after.machineTotal - before.machineTotal;
    const seconds = (value: number) => `${value.toFixed(1)} s`;
    const labels = [...watched.map(({ label }) => label), 'this process (the clients)'];
    const each = labels.map((label, i) => `${label} ${seconds(used[i] ?? 0)}`);
    return (
      `CPU in the run: ${each.join(', ')}; together ${seconds(used.reduce((a, b) => a + b, 0))} ` +
      `of the machine's ${seconds(busy)} busy (${availableParallelism()} cores, ` +
      `${((busy / total) * 100).toFixed(0)}% busy)`
    );
  };
}
