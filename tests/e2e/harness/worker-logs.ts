// What the Worker wrote to its console, as workerd prints it (or what the Node worker's logger
// wrote): one JSON object per line from the app's logger, anything else kept as text. A log line
// is written when the response leaves, so tests wait for it (boundedly) rather than expect it to
// be there already.
import type { Readable } from 'node:stream';

export type LogLine = Record<string, unknown>;

interface Waiter {
  matches: (line: LogLine) => boolean;
  found: (line: LogLine) => void;
}

export class WorkerLogs {
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON: workerd's own messages, stray console output. */
  readonly text: string[] = [];
  #waiters = new Set<Waiter>();

  /** Reads a console stream of workerd's (see Miniflare's handleRuntimeStdio). */
  follow(stream: Readable): void {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) this.add(line);
    });
  }

  /** Takes one line as a logger writes it. */
  add(raw: string): void {
    if (raw.trim() === '') return;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      this.text.push(raw);
      return;
    }
    if (line === null || typeof line !== 'object') {
      this.text.push(raw);
      return;
    }
    this.lines.push(line as LogLine);
    for (const waiter of this.#waiters) {
      if (waiter.matches(line as LogLine)) waiter.found(line as LogLine);
    }
  }

  /** The first line (already written or still to come) that matches, within `timeoutMs`. */
  waitFor(matches: (line: LogLine) => boolean, timeoutMs = 5_000): Promise<LogLine> {
    const existing = this.lines.find(matches);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        matches,
        found: (line) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; lines so far:\n${this.lines
              .map((line) => JSON.stringify(line))
              .join('\n')}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The request log line of the request with this id. */
  requestLine(requestId: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitFor(
      (line) => line.msg === 'request' && line.requestId === requestId,
      timeoutMs,
    );
  }
}
