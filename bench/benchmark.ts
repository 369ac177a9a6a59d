// What `npm run bench` runs: each benchmark measures one thing and says whether it is within its
// budget. A new benchmark is a file exporting one of these, listed in main.ts.
export interface BenchmarkReport {
  /** Lines for a person, printed as they are. */
  lines: string[];
  /** Budgets this run exceeded, one line each; empty when everything is within budget. */
  overBudget: string[];
}

export interface Benchmark {
  name: string;
  run(workDir: string): Promise<BenchmarkReport>;
}

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
