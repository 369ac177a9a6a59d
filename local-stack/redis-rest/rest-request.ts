// What an HTTP request to the Upstash REST API asks for: one command (JSON array body on `/`, or
// the path form `/set/foo/bar`), a pipeline, or a transaction. Bad requests come back as values
// carrying the message the client will read.
import type { RedisCommand } from './backend.ts';

export type RestCall =
  | { kind: 'single'; command: RedisCommand }
  | { kind: 'pipeline' | 'multi-exec'; commands: RedisCommand[] };

export interface BadRequest {
  kind: 'bad-request';
  message: string;
}

function toArgument(value: unknown): Buffer | undefined {
  // @upstash/redis sends numbers and booleans as JSON values; Redis sees their text.
  if (typeof value === 'string') return Buffer.from(value);
  if (typeof value === 'number' && Number.isFinite(value)) return Buffer.from(String(value));
  if (typeof value === 'boolean') return Buffer.from(String(value));
  return undefined;
}

function toCommand(value: unknown): RedisCommand | BadRequest {
  if (!Array.isArray(value)) {
    return { kind: 'bad-request', message: 'ERR command must be a JSON array of strings' };
  }
  if (value.length === 0) return { kind: 'bad-request', message: 'ERR empty command' };
  const command: RedisCommand = [];
  for (const item of value) {
    const arg = toArgument(item);
    if (arg === undefined) {
      return {
        kind: 'bad-request',
        message: `ERR command arguments must be strings or numbers, got ${JSON.stringify(item)}`,
      };
    }
    command.push(arg);
  }
  return command;
}

function isBadRequest(value: RedisCommand | BadRequest): value is BadRequest {
  return !Array.isArray(value);
}

function parseJson(body: string): { value: unknown } | BadRequest {
  try {
    return { value: JSON.parse(body) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'bad-request', message: `ERR failed to parse request body as JSON: ${reason}` };
  }
}

function commandsFromBody(body: string, kind: 'pipeline' | 'multi-exec'): RestCall | BadRequest {
  const parsed = parseJson(body);
  if ('kind' in parsed) return parsed;
  if (!Array.isArray(parsed.value) || parsed.value.length === 0) {
    return {
      kind: 'bad-request',
      message: `ERR ${kind} body must be a non-empty array of commands`,
    };
  }
  const commands: RedisCommand[] = [];
  for (const item of parsed.value) {
    const command = toCommand(item);
    if (isBadRequest(command)) return command;
    commands.push(command);
  }
  return { kind, commands };
}

function commandFromBody(body: string): RestCall | BadRequest {
  const parsed = parseJson(body);
  if ('kind' in parsed) return parsed;
  const command = toCommand(parsed.value);
  return isBadRequest(command) ? command : { kind: 'single', command };
}

/** `/set/foo/bar?EX=100` with an optional raw body appended as the value, as Upstash documents. */
function commandFromPath(url: URL, body: Uint8Array): RestCall | BadRequest {
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const command: RedisCommand = [];
  try {
    for (const segment of segments) command.push(Buffer.from(decodeURIComponent(segment)));
  } catch {
    return { kind: 'bad-request', message: 'ERR malformed percent-encoding in path' };
  }
  if (body.length > 0) command.push(Buffer.from(body));
  for (const [name, value] of url.searchParams) {
    if (name === '_token') continue;
    command.push(Buffer.from(name));
    if (value !== '') command.push(Buffer.from(value));
  }
  return { kind: 'single', command };
}

export async function parseRestCall(request: Request): Promise<RestCall | BadRequest> {
  const url = new URL(request.url);
  const path = url.pathname.replace(/\/+$/, '');
  if (request.method === 'POST' && (path === '/pipeline' || path === '/multi-exec')) {
    return commandsFromBody(await request.text(), path === '/pipeline' ? 'pipeline' : 'multi-exec');
  }
  if (request.method === 'POST' && path === '') return commandFromBody(await request.text());
  if (path === '') return { kind: 'bad-request', message: 'ERR empty command' };
  return commandFromPath(url, new Uint8Array(await request.arrayBuffer()));
}
