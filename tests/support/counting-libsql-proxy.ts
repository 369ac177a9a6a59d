// A proxy in front of the local libSQL server that notes the SQL of every Hrana pipeline reaching
// it: the statements a request costs the database, and the round trips they took. Bodies are read
// with the server's own decoder, so the count is of what the server would run: an `execute` is one
// statement, a `batch` one per step, a `sequence` one per text. A batch's BEGIN, COMMIT and
// ROLLBACK steps, which @libsql/client wraps around every batch, are noted but are no query.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { decodePipelineRequest } from '../../local-stack/libsql/decode.ts';
import type { Stmt } from '../../local-stack/libsql/protocol.ts';

export interface CountedPipeline {
  path: string;
  /** The SQL of each statement, in order; `#<id>` for a stored statement stored elsewhere. */
  statements: string[];
  /** When the request arrived and when its answer left (performance.now()). */
  startedAt: number;
  endedAt: number;
}

const transactionControl = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/** The statements that read or write data: every one but the transaction's own. */
export function queriesOf(pipelines: readonly CountedPipeline[]): string[] {
  return pipelines.flatMap(({ statements }) =>
    statements.filter((statement) => !transactionControl.test(statement)),
  );
}

function statementsOf(body: string): string[] {
  const decoded = decodePipelineRequest(body);
  if (!decoded.ok) return [];
  // store_sql comes before the requests that name its id, in the same pipeline.
  const stored = new Map<number, string>();
  const sqlOf = ({ sql, sqlId }: Pick<Stmt, 'sql' | 'sqlId'>) =>
    sql ?? (sqlId === undefined ? '' : (stored.get(sqlId) ?? `#${sqlId}`));
  return decoded.value.requests.flatMap((request) => {
    switch (request.type) {
      case 'store_sql':
        stored.set(request.sqlId, request.sql);
        return [];
      case 'execute':
        return [sqlOf(request.stmt)];
      case 'batch':
        return request.steps.map((step) => sqlOf(step.stmt));
      case 'sequence':
        return sqlOf(request)
          .split(';')
          .filter((statement) => statement.trim() !== '');
      default:
        return [];
    }
  });
}

export interface CountingLibsqlProxy {
  readonly url: string;
  /** Every pipeline that came in, in order of arrival. */
  readonly pipelines: CountedPipeline[];
  /** Points the proxy at the server, for a Worker that must be given the proxy's URL first. */
  setTarget(url: string): void;
  close(): Promise<void>;
}

export async function countingLibsqlProxy(initialTarget = ''): Promise<CountingLibsqlProxy> {
  let target = initialTarget;
  const pipelines: CountedPipeline[] = [];
  const server: Server = createServer(async (incoming, outgoing) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = incoming.url ?? '/';
    let counted: CountedPipeline | undefined;
    if (/^\/v[23]\/pipeline$/.test(path)) {
      counted = { path, statements: statementsOf(body), startedAt, endedAt: Infinity };
      pipelines.push(counted);
    }
    try {
      const method = incoming.method ?? 'GET';
      const answer = await fetch(`${target}${path}`, {
        method,
        headers: {
          ...(incoming.headers.authorization !== undefined && {
            authorization: incoming.headers.authorization,
          }),
          ...(incoming.headers['content-type'] !== undefined && {
            'content-type': incoming.headers['content-type'],
          }),
        },
        ...(method !== 'GET' && method !== 'HEAD' && { body }),
      });
      const text = await answer.text();
      outgoing.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'text/plain',
      });
      if (counted !== undefined) counted.endedAt = performance.now();
      outgoing.end(text);
    } catch (error) {
      outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(String(error));
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pipelines,
    setTarget(url) {
      target = url;
    },
    close: () =>
      new Promise((closed, failed) => {
        server.closeAllConnections();
        server.close((error) => (error ? failed(error) : closed()));
      }),
  };
}
