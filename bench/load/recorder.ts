// What the clients saw, by kind of request: every answer's latency and status, and for each 5xx
// the error code its envelope carried.

export interface KindFigures {
  /** Milliseconds from sending the request to having read its whole answer. */
  latencies: number[];
  /** Answers by status ("200", "429"), and requests without one by what failed. */
  statuses: Map<string, number>;
}

const count = (counts: Map<string, number>, key: string) =>
  counts.set(key, (counts.get(key) ?? 0) + 1);

function errorCode(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? 'no error code';
  } catch {
    return 'not JSON';
  }
}

export class Recorder {
  readonly kinds = new Map<string, KindFigures>();
  /** 5xx answers by "<kind> <status> <code>". */
  readonly serverErrors = new Map<string, number>();

  #figures(kind: string): KindFigures {
    let figures = this.kinds.get(kind);
    if (figures === undefined) {
      figures = { latencies: [], statuses: new Map() };
      this.kinds.set(kind, figures);
    }
    return figures;
  }

  answered(kind: string, ms: number, status: number, text: string): void {
    const figures = this.#figures(kind);
    figures.latencies.push(ms);
    count(figures.statuses, String(status));
    if (status >= 500) count(this.serverErrors, `${kind} ${status} ${errorCode(text)}`);
  }

  /** A request that got no answer: a network error, or no answer within the client's timeout. */
  failed(kind: string, ms: number, error: unknown): void {
    const figures = this.#figures(kind);
    figures.latencies.push(ms);
    const cause = error instanceof Error ? ((error.cause as Error | undefined) ?? error) : error;
    const name =
      cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.name) : 'failure';
    count(figures.statuses, `no answer (${name})`);
  }
}
