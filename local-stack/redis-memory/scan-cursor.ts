// SCAN-family cursors. Names are visited in order of a hash, and the cursor is the next hash to
// visit, so names added or deleted between calls never make a scan skip one that stayed.
import { RedisErrorReply } from '../redis-rest/backend.ts';
import { optionName } from './command.ts';
import { NOT_INTEGER, SYNTAX_ERROR } from './errors.ts';
import { globMatch } from './glob.ts';
import { parseInteger } from './numbers.ts';

export interface ScanRequest {
  start: number;
  pattern: string | null;
  count: number;
  type: string | null;
}

const CURSOR = /^[+-]?[0-9]+$/;
const CURSOR_LIMIT = 2n ** 64n;
const DEFAULT_COUNT = 10;

/** strtoul's reading of a cursor: "-1" wraps around to a huge cursor instead of failing. */
function parseCursor(text: string): number | null {
  if (!CURSOR.test(text)) return null;
  const value = BigInt(text);
  if (value >= CURSOR_LIMIT || -value >= CURSOR_LIMIT) return null;
  return Number(value < 0n ? CURSOR_LIMIT + value : value);
}

/** Reads "<cursor> [MATCH p] [COUNT n] [TYPE t]" starting at `cursorIndex`; TYPE only for SCAN. */
export function parseScanRequest(
  args: Buffer[],
  cursorIndex: number,
  allowType: boolean,
): ScanRequest | RedisErrorReply {
  const start = parseCursor(args[cursorIndex]?.toString('latin1') ?? '');
  if (start === null) return new RedisErrorReply('ERR invalid cursor');
  const request: ScanRequest = { start, pattern: null, count: DEFAULT_COUNT, type: null };
  for (let i = cursorIndex + 1; i < args.length; i += 2) {
    const option = optionName(args[i]);
    const value = args[i + 1];
    if (value === undefined) return SYNTAX_ERROR;
    if (option === 'MATCH') request.pattern = value.toString('latin1');
    else if (option === 'TYPE' && allowType) request.type = value.toString('latin1').toLowerCase();
    else if (option === 'COUNT') {
      const count = parseInteger(value);
      if (count === null) return NOT_INTEGER;
      if (count < 1) return SYNTAX_ERROR;
      request.count = count;
    } else return SYNTAX_ERROR;
  }
  return request;
}

/** FNV-1a over the latin1 name. */
function scanHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

// Redis keeps small hashes and sorted sets as one listpack (128 entries by default) and returns
// such a collection whole, in its own order, whatever COUNT says.
const SMALL_COLLECTION = 128;

function matching(names: string[], request: ScanRequest): string[] {
  return names.filter((name) => request.pattern === null || globMatch(request.pattern, name));
}

/** One page of names (MATCH applied after paging, as in Redis) and the cursor after it. */
export function scanPage(
  names: string[],
  request: ScanRequest,
): { cursor: Buffer; page: string[] } {
  // Cursors are hash + 1 so that 0 stays "start" / "done".
  const ordered = names
    .map((name) => ({ name, position: scanHash(name) + 1 }))
    .filter((entry) => entry.position >= request.start)
    .sort((a, b) => a.position - b.position || (a.name < b.name ? -1 : 1));
  let end = Math.min(request.count, ordered.length);
  // Names sharing a hash go out together, or the next cursor would skip the rest of them.
  while (end < ordered.length && ordered[end]?.position === ordered[end - 1]?.position) end++;
  const page = matching(
    ordered.slice(0, end).map((entry) => entry.name),
    request,
  );
  return { cursor: Buffer.from(String(ordered[end]?.position ?? 0)), page };
}

/** HSCAN / SSCAN / ZSCAN: `names` in the collection's own order. */
export function scanCollection(
  names: string[],
  request: ScanRequest,
): { cursor: Buffer; page: string[] } {
  if (names.length > SMALL_COLLECTION) return scanPage(names, request);
  return { cursor: Buffer.from('0'), page: matching(names, request) };
}
