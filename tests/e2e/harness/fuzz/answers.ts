// What every answer must be, whatever was sent: never a 5xx; a 4xx is the error envelope, with a
// code of the catalogue and the status the catalogue gives it, and the request id of its header;
// no failure shows a stack frame, SQL or a file path. Successful answers may be anything (files,
// exports, metrics, the docs page).
import { errorCodeTable } from '../../../../src/lib/errors.ts';
import type { Answer, SentRequest } from './sending.ts';

const statusOfCode = new Map<string, number>(
  errorCodeTable().map(({ code, status }) => [code, status]),
);

/** What must never reach a client: the inside of the server. */
const leaks = [
  { what: 'a stack frame', pattern: /\bat [\w$.<>]+ \(|\.(?:js|ts|mjs):\d+:\d+/ },
  {
    what: 'SQL or a database error',
    pattern:
      /\bSELECT\s[^"]{0,200}\sFROM\s|\bINSERT INTO\b|\bDELETE FROM\b|\bCREATE TABLE\b|SQLITE_[A-Z]+|LibsqlError|no such (?:table|column)/i,
  },
  {
    what: 'a file path',
    pattern: /\/(?:work|home|tmp|usr|root|app|src)\/[\w.-]+\/|node_modules|file:\/\/\//,
  },
];

const isoTimestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Text the request itself carried, which an answer may quote back without leaking anything. */
function sentText(sent: SentRequest): string {
  const body = sent.body === undefined ? '' : new TextDecoder().decode(sent.body);
  let target = sent.target;
  try {
    target = decodeURIComponent(sent.target);
  } catch {
    // Malformed escapes were sent as they are.
  }
  return [target, body, ...sent.headers.map(([, value]) => value)].join('\n');
}

function envelopeProblems(answer: Answer): string[] {
  const contentType = answer.headers.get('content-type') ?? '';
  if (!contentType.startsWith('application/json')) {
    return [`a ${answer.status} answered as ${contentType || 'no content type'}`];
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return [`a ${answer.status} whose body is not JSON`];
  }
  const { success, error, meta } = (body ?? {}) as {
    success?: unknown;
    error?: { code?: unknown; message?: unknown };
    meta?: { requestId?: unknown; timestamp?: unknown; version?: unknown };
  };
  const problems: string[] = [];
  if (success !== false) problems.push('an error envelope without success: false');
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const expected = code === undefined ? undefined : statusOfCode.get(code);
  if (expected === undefined) {
    problems.push(`error.code ${String(error?.code)} is not in the catalogue`);
  } else if (expected !== answer.status) {
    problems.push(`error.code ${code} answered with ${answer.status}, not ${expected}`);
  }
  if (typeof error?.message !== 'string' || error.message === '') {
    problems.push('an error without a message');
  }
  // A replay under an Idempotency-Key is the first answer byte for byte, its request id included.
  const requestId = answer.headers.has('idempotent-replayed')
    ? meta?.requestId
    : answer.headers.get('x-request-id');
  if (typeof meta?.requestId !== 'string' || meta.requestId !== requestId) {
    problems.push('meta.requestId is not the X-Request-Id header');
  }
  if (typeof meta?.timestamp !== 'string' || !isoTimestamp.test(meta.timestamp)) {
    problems.push('meta.timestamp is not an ISO timestamp');
  }
  if (typeof meta?.version !== 'string') problems.push('meta.version is missing');
  return problems;
}

/** Every way this answer breaks the rules above; none when it keeps them. */
export function problemsOf(sent: SentRequest, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}`);
  const allowed = answer.headers.get('allow')?.split(/,\s*/) ?? [];
  if (answer.status === 405 && allowed.includes(sent.method.toUpperCase())) {
    problems.push(`405 for ${sent.method} with Allow: ${allowed.join(', ')}`);
  }
  // A HEAD answer has no body to check.
  if (sent.method.toUpperCase() === 'HEAD' || answer.status < 400) return problems;
  if (answer.status < 500) problems.push(...envelopeProblems(answer));
  const carried = sentText(sent);
  for (const { what, pattern } of leaks) {
    const found = pattern.exec(answer.body)?.[0];
    if (found !== undefined && !carried.includes(found)) problems.push(`shows ${what}: ${found}`);
  }
  return problems;
}
