// What the local libSQL server answers to requests no correct client sends, checked with raw
// fetch against sqld's answers (status, content type, body); the server keeps serving afterwards.
import { type Client, createClient } from '@libsql/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningHttpServer } from '../../local-stack/http-server.ts';
import { startTempLibsqlServer } from '../../local-stack/libsql/temp-server.ts';

const authToken = 'bad-input-token';
const maxBodyBytes = 64 * 1024;
const idleTimeoutMs = 200;
let server: RunningHttpServer;
let client: Client;

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${authToken}`,
      'content-type': 'application/json',
      ...headers,
    },
    body,
  });
}

function pipeline(body: unknown, version = 2): Promise<Response> {
  return post(`/v${version}/pipeline`, JSON.stringify(body));
}

const execute = (sql: string) => ({ type: 'execute', stmt: { sql } });

async function expectText(response: Response, status: number, text: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('text/plain');
  expect(await response.text()).toContain(text);
}

/** A baton for a stream left open by a pipeline without `close`. */
async function openStreamBaton(): Promise<string> {
  const response = await pipeline({ requests: [execute('SELECT 1')] });
  const body = (await response.json()) as { baton: string };
  return body.baton;
}

beforeAll(async () => {
  server = await startTempLibsqlServer({
    authToken,
    maxBodyBytes,
    streamIdleTimeoutMs: idleTimeoutMs,
  });
  client = createClient({ url: server.url, authToken });
});

afterEach(async () => {
  const stillServing = await client.execute('SELECT 42 AS answer');
  expect(stillServing.rows[0]?.answer).toBe(42);
});

afterAll(async () => {
  client.close();
  await server.close();
});

describe('request bodies', () => {
  it('answers 400 text to malformed JSON', async () => {
    await expectText(
      await post('/v2/pipeline', '{"requests": ['),
      400,
      'Cannot deserialize client message from JSON',
    );
  });

  it('answers 400 text to an unknown request type, running none of the pipeline', async () => {
    await client.execute('CREATE TABLE IF NOT EXISTS untouched (v INTEGER)');
    const response = await pipeline({
      requests: [execute('INSERT INTO untouched VALUES (1)'), { type: 'frobnicate' }],
    });
    await expectText(response, 400, 'unknown variant `frobnicate`');
    const count = await client.execute('SELECT count(*) AS n FROM untouched');
    expect(count.rows[0]?.n).toBe(0);
  });

  it('answers 400 text to a body of the wrong shape', async () => {
    await expectText(await pipeline({ requests: 'execute' }), 400, 'expected `requests`');
    await expectText(
      await pipeline({ requests: [{ type: 'execute', stmt: { sql: 'SELECT ?', args: [7] } }] }),
      400,
      'Cannot deserialize client message from JSON',
    );
  });

  it('answers 413 to a body over the limit', async () => {
    const huge = 'x'.repeat(maxBodyBytes + 1);
    const response = await pipeline({ requests: [execute(`SELECT '${huge}'`)] });
    expect(response.status).toBe(413);
  });

  it('answers 400 text to a request for an unknown sql_id', async () => {
    const response = await pipeline({
      requests: [{ type: 'execute', stmt: { sql_id: 99 } }, { type: 'close' }],
    });
    await expectText(response, 400, 'SQL text 99 not found');
  });

  it('answers 400 text to a request after `close` on the same stream', async () => {
    const response = await pipeline({ requests: [{ type: 'close' }, execute('SELECT 1')] });
    await expectText(response, 400, 'Stream for this baton was closed');
  });
});

describe('per-request errors', () => {
  it('keeps running the pipeline after a failing request', async () => {
    const response = await pipeline({
      requests: [execute('SELECT * FROM missing_table'), execute('SELECT 1, 2'), { type: 'close' }],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { baton: unknown; results: unknown[] };
    expect(body.baton).toBeNull();
    expect(body.results).toEqual([
      {
        type: 'error',
        error: { message: expect.stringContaining('no such table'), code: 'SQL_INPUT_ERROR' },
      },
      {
        type: 'ok',
        response: {
          type: 'execute',
          result: expect.objectContaining({
            cols: [
              { name: '1', decltype: null },
              { name: '2', decltype: null },
            ],
            rows: [
              [
                { type: 'integer', value: '1' },
                { type: 'integer', value: '2' },
              ],
            ],
            affected_row_count: 0,
            last_insert_rowid: null,
          }),
        },
      },
      { type: 'ok', response: { type: 'close' } },
    ]);
  });

  it('refuses an execute of several statements or of none', async () => {
    const response = await pipeline({
      requests: [execute('SELECT 1; SELECT 2'), execute(' -- nothing\n;'), { type: 'close' }],
    });
    const body = (await response.json()) as { results: { error?: { code: string } }[] };
    expect(body.results.map((result) => result.error?.code)).toEqual([
      'SQL_MANY_STATEMENTS',
      'SQL_NO_STATEMENT',
      undefined,
    ]);
  });
});

describe('batons', () => {
  it('answers 400 text to a baton that was never issued', async () => {
    const forged = Buffer.alloc(48, 7).toString('base64');
    await expectText(
      await pipeline({ baton: forged, requests: [execute('SELECT 1')] }),
      400,
      'Received an invalid baton',
    );
    await expectText(
      await pipeline({ baton: 'not-a-baton', requests: [execute('SELECT 1')] }),
      400,
      'Received an invalid baton',
    );
  });

  it('answers 400 text to a baton used twice, and the newer baton still works', async () => {
    const baton = await openStreamBaton();
    const next = (await (await pipeline({ baton, requests: [execute('SELECT 1')] })).json()) as {
      baton: string;
    };
    await expectText(
      await pipeline({ baton, requests: [execute('SELECT 1')] }),
      400,
      'Received a baton that has already been used',
    );
    const closed = await pipeline({ baton: next.baton, requests: [{ type: 'close' }] });
    expect(closed.status).toBe(200);
    expect(((await closed.json()) as { baton: unknown }).baton).toBeNull();
  });

  it('answers 500 STREAM_EXPIRED to the baton of an expired stream', async () => {
    const baton = await openStreamBaton();
    await new Promise((resolve) => setTimeout(resolve, idleTimeoutMs * 2));
    const response = await pipeline({ baton, requests: [execute('SELECT 1')] });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({
      message: 'The stream has expired due to inactivity',
      code: 'STREAM_EXPIRED',
    });
  });
});

describe('tokens and routes', () => {
  it('answers 401 JSON to a wrong or missing token', async () => {
    const wrong = await post('/v2/pipeline', '{"requests":[]}', { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: expect.stringContaining('Unauthorized') });
    const missing = await fetch(`${server.url}/v2/pipeline`, {
      method: 'POST',
      body: '{"requests":[]}',
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: expect.stringContaining('Authorization') });
  });

  it('answers the version probes and health checks as sqld does', async () => {
    expect((await fetch(`${server.url}/v2`)).status).toBe(200);
    expect((await fetch(`${server.url}/v3`)).status).toBe(200);
    expect((await fetch(`${server.url}/v3-protobuf`)).status).toBe(404);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/no/such/path`)).status).toBe(404);
    expect((await fetch(`${server.url}/v2/pipeline`)).status).toBe(405);
  });

  it('answers get_autocommit and the is_autocommit condition on v3 only', async () => {
    await expectText(
      await pipeline({ requests: [{ type: 'get_autocommit' }] }, 2),
      400,
      'only supported in protocol version hrana3',
    );
    const response = await pipeline(
      {
        requests: [
          { type: 'get_autocommit' },
          {
            type: 'batch',
            batch: {
              steps: [
                { stmt: { sql: 'BEGIN' } },
                { condition: { type: 'is_autocommit' }, stmt: { sql: 'SELECT 1' } },
                {
                  condition: { type: 'not', cond: { type: 'is_autocommit' } },
                  stmt: { sql: 'SELECT 2' },
                },
              ],
            },
          },
          { type: 'get_autocommit' },
          { type: 'close' },
        ],
      },
      3,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      results: { response: { is_autocommit?: boolean; result?: { step_results: unknown[] } } }[];
    };
    expect(body.results[0]?.response.is_autocommit).toBe(true);
    const steps = body.results[1]?.response.result?.step_results ?? [];
    expect(steps.map((step) => step !== null)).toEqual([true, false, true]);
    expect(body.results[2]?.response.is_autocommit).toBe(false);
  });
});
