// The load's figures as lines for a person: latencies and statuses by kind of request, the
// processes' memory, and each budget's verdict.
import type { Heap } from './garbage.ts';
import type { KindFigures } from './recorder.ts';

const mib = 1024 * 1024;

/** The nearest-rank percentile of `sorted`, ascending. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

/** Statuses, most frequent first: "200 x4512, 201 x310". */
export const statusList = (statuses: ReadonlyMap<string, number>) =>
  [...statuses]
    .sort(([, a], [, b]) => b - a)
    .map(([status, times]) => `${status} x${times}`)
    .join(', ');

/** All of `parts` as one kind: their latencies and statuses together. */
export function together(parts: readonly KindFigures[]): KindFigures {
  const statuses = new Map<string, number>();
  for (const part of parts) {
    for (const [status, times] of part.statuses) {
      statuses.set(status, (statuses.get(status) ?? 0) + times);
    }
  }
  return { latencies: parts.flatMap((part) => part.latencies), statuses };
}

export const tableHeader = `${'kind'.padEnd(16)} ${'requests'.padStart(9)} ${'req/s'.padStart(7)} ${'p50'.padStart(8)} ${'p99'.padStart(9)} ${'max'.padStart(9)}   statuses`;

/** One row: how many, how fast, the latencies' p50, p99 and max, and the statuses. */
export function tableRow(label: string, figures: KindFigures, seconds: number): string {
  const sorted = [...figures.latencies].sort((a, b) => a - b);
  return [
    label.padEnd(16),
    String(sorted.length).padStart(9),
    (sorted.length / seconds).toFixed(0).padStart(7),
    ms(percentile(sorted, 50)).padStart(8),
    ms(percentile(sorted, 99)).padStart(9),
    ms(sorted.at(-1) ?? 0).padStart(9),
    `  ${statusList(figures.statuses)}`,
  ].join(' ');
}

const inMib = (bytes: number) => `${(bytes / mib).toFixed(1)} MiB`;
const signedMib = (bytes: number) => `${bytes < 0 ? '-' : '+'}${inMib(Math.abs(bytes))}`;
const verdict = (met: boolean) => (met ? 'PASS' : 'MISS');

export interface ProcessMemory {
  label: string;
  /** RSS after setup, before any load. */
  idle: number;
  /** After the warm-up, a settle and a collection: the baseline. */
  start: number;
  /** The most sampled during the run. */
  peak: number;
  /** Sampled every second during the run. */
  series: number[];
  /** After the run, a settle and a collection. */
  end: number;
  /** The heap after those collections, where the process can be asked. */
  heapStart: Heap | undefined;
  heapEnd: Heap | undefined;
}

const seriesEverySeconds = 5;

const heapText = ({ used, total }: Heap) =>
  `${(used / mib).toFixed(1)}/${(total / mib).toFixed(1)} MiB`;

/** Memory rows, each judged against `budgetMib` of growth from start to end. */
export function memoryLines(processes: readonly ProcessMemory[], budgetMib: number) {
  const widths = [22, 11, 11, 11, 11, 12];
  const row = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join(' ');
  const overBudget: string[] = [];
  const rows = processes.map((watched) => {
    const growth = watched.end - watched.start;
    const flat = growth < budgetMib * mib;
    if (!flat) {
      overBudget.push(
        `${watched.label}: RSS grew ${inMib(growth)} under load, not < ${budgetMib} MiB`,
      );
    }
    const cells = [watched.idle, watched.start, watched.peak, watched.end].map(inMib);
    const heap =
      watched.heapStart === undefined || watched.heapEnd === undefined
        ? 'none to ask'
        : `${heapText(watched.heapStart)} -> ${heapText(watched.heapEnd)}`;
    return `${row([watched.label, ...cells, signedMib(growth)])}   ${verdict(flat)}   ${heap}`;
  });
  const timelines = processes.map(
    ({ label, series }) =>
      `  ${label.padEnd(20)} ${series
        .filter((_, second) => second % seriesEverySeconds === 0)
        .map((bytes) => (bytes / mib).toFixed(0))
        .join(' ')}`,
  );
  return {
    lines: [
      `${row(['RSS', 'idle', 'start', 'peak', 'end', 'end - start'])}   budget < +${budgetMib} MiB` +
        '   heap used/size after collection, start -> end',
      ...rows,
      `RSS in MiB during the run, every ${seriesEverySeconds} s:`,
      ...timelines,
    ],
    overBudget,
  };
}
