// workerd's console during the load: the app's JSON lines at LOG_LEVEL info, one per request and
// then some. Only what is worth reading after the run is kept, counted: 5xx answers with their
// causes, other errors and warnings by message, and QStash's deliveries to the Worker's job
// endpoint by job and status. Lines are parsed only when their text says they may matter, so the
// thousands of ordinary request lines a second cost a substring search each.
import type { Readable } from 'node:stream';

type LogLine = Record<string, unknown>;

const count = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

const maxCauseLength = 240;

/**
 * The error a 5xx line carries, without its stack: code, backend and cause, or name and message.
 * A failed query's SQL is left out, so the driver's error that follows it shows.
 */
function causeOf(line: LogLine): string {
  const { stack: _, ...error } = (line.error ?? {}) as Record<string, unknown>;
  return JSON.stringify(error)
    .replace(/Failed query: .*?(?=: \w*Error: )/, 'Failed query (SQL left out)')
    .slice(0, maxCauseLength);
}

export class WorkerConsole {
  /** 5xx request lines by "<method> <route> <status> <cause>". */
  readonly serverErrors = new Map<string, number>();
  /** Warnings, and errors other than 5xx request lines, by "<level> <msg> <policy or reason>". */
  readonly problems = new Map<string, number>();
  /** Request lines of QStash's deliveries by "<path> <status>". */
  readonly jobDeliveries = new Map<string, number>();
  /** Lines that were not the app's JSON: workerd's own messages. */
  readonly text = new Map<string, number>();

  /** Forgets what was counted so far: what follows is one phase's. */
  clear(): void {
    for (const counts of [this.serverErrors, this.problems, this.jobDeliveries, this.text]) {
      counts.clear();
    }
  }

  /** Reads one of workerd's console streams (Miniflare's handleRuntimeStdio). */
  follow(stream: Readable): void {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.#add(line);
    });
  }

  #add(raw: string): void {
    if (raw.trim() === '') return;
    if (!raw.startsWith('{')) {
      count(this.text, raw.slice(0, maxCauseLength));
      return;
    }
    const job = raw.includes('"route":"/jobs/:type"');
    if (!job && !raw.includes('"level":"warn"') && !raw.includes('"level":"error"')) return;
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      count(this.text, raw.slice(0, maxCauseLength));
      return;
    }
    const status = typeof line.status === 'number' ? line.status : undefined;
    if (job) count(this.jobDeliveries, `${line.path} ${status}`);
    if (line.msg === 'request' && status !== undefined && status >= 500) {
      count(this.serverErrors, `${line.method} ${line.route} ${status} ${causeOf(line)}`);
    } else if (line.level === 'warn' || line.level === 'error') {
      const about = line.policy ?? line.reason ?? line.error ?? '';
      count(
        this.problems,
        `${line.level} ${line.msg} ${JSON.stringify(about)}`.slice(0, maxCauseLength),
      );
    }
  }
}
