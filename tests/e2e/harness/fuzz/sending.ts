// A generated request made concrete and sent: known ids and credentials put in place, signatures
// computed over the bytes that leave, and the answer read whole, through Miniflare's dispatchFetch
// or, for what fetch cannot send or read, over a socket of its own.
import { connect } from 'node:net';
import { signPartnerHmac } from '../../../../src/lib/signatures/partner-hmac.ts';
import { signUrl } from '../../../../src/lib/signed-urls.ts';
import type { E2eWorker } from '../worker.ts';
import { type IdPools, withKnownIds } from './known-ids.ts';
import type { ClientAddress, FuzzRequest } from './requests.ts';

/** What the run signs in with; a repair between batches may replace any of it. */
export interface FuzzCredentials {
  /** Each actor's sessions: a request takes the one its `session` names. */
  userTokens: string[];
  adminTokens: string[];
  userKey: string;
  adminKey: string;
  userCookie: { cookie: string; csrfToken: string };
  /** The active secret of the partner whose webhooks are signed. */
  partnerSecret: string;
  /** What the Worker signs its own URLs with: its first JWT key's secret. */
  urlSecret: string;
}

export interface FuzzTarget {
  worker: E2eWorker;
  origin: string;
  ids: IdPools;
  credentials: FuzzCredentials;
}

/** A request exactly as it leaves: what a failure report prints and a replay sends. */
export interface SentRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body?: Uint8Array<ArrayBuffer>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** The address the request's count goes to, as Cloudflare's CF-Connecting-IP would name it. */
export function addressOf(client: ClientAddress): string | undefined {
  if (client === 'hot') return '100.127.0.1';
  if ('header' in client) return client.header;
  return `100.64.${Math.floor(client.address / 250)}.${(client.address % 250) + 1}`;
}

const sessionOf = (tokens: string[], session: number) => tokens[session % tokens.length] ?? '';

function credentialHeaders(request: FuzzRequest, target: FuzzTarget): [string, string][] {
  const { credentials, origin } = target;
  switch (request.credential) {
    case 'user':
      return [['Authorization', `Bearer ${sessionOf(credentials.userTokens, request.session)}`]];
    case 'admin':
      return [['Authorization', `Bearer ${sessionOf(credentials.adminTokens, request.session)}`]];
    case 'userKey':
      return [['X-API-Key', credentials.userKey]];
    case 'adminKey':
      return [['X-API-Key', credentials.adminKey]];
    case 'userCookie':
      return [
        ['Cookie', credentials.userCookie.cookie],
        ['X-CSRF-Token', credentials.userCookie.csrfToken],
        ['Origin', origin],
      ];
    default:
      return [];
  }
}

async function signed(
  request: FuzzRequest,
  target: FuzzTarget,
  path: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<{ target: string; headers: [string, string][] }> {
  if (request.credential !== 'signature') return { target: path, headers: [] };
  const { credentials, origin } = target;
  if (path.startsWith('/webhooks/')) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = await signPartnerHmac(credentials.partnerSecret, timestamp, body);
    return {
      target: path,
      headers: [
        ['X-Timestamp', timestamp],
        ['X-Signature', signature],
      ],
    };
  }
  const url = await signUrl(
    credentials.urlSecret,
    request.method.toUpperCase() === 'GET' ? 'GET' : 'PUT',
    new URL(path, origin).href,
    new Date(Date.now() + 10 * 60_000),
  );
  const { pathname, search } = new URL(url);
  return { target: `${pathname}${search}`, headers: [] };
}

/** Headers of the partner schemes: a signed request sends its own and none of the others. */
const signatureHeaders = new Set([
  'x-timestamp',
  'x-signature',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

/** The request with its ids, credentials, address and signature in place. */
export async function concrete(request: FuzzRequest, target: FuzzTarget): Promise<SentRequest> {
  const path = withKnownIds(request.target, target.ids);
  const body =
    typeof request.body === 'string'
      ? new TextEncoder().encode(withKnownIds(request.body, target.ids))
      : request.body;
  const address = addressOf(request.client);
  const signature = await signed(request, target, path, body ?? new Uint8Array());
  return {
    method: request.method,
    target: signature.target,
    headers: [
      ...(address === undefined ? [] : [['cf-connecting-ip', address] as [string, string]]),
      ...credentialHeaders(request, target),
      ...signature.headers,
      ...(request.credential === 'signature'
        ? request.headers.filter(([name]) => !signatureHeaders.has(name.toLowerCase()))
        : request.headers),
    ],
    ...(body !== undefined && { body }),
  };
}

/** A chunked body, its chunks joined. */
function unchunked(bytes: Buffer): Buffer {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (lineEnd === -1 || !(size > 0)) return Buffer.concat(chunks);
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** The answer in what a socket received, up to its close. */
function answerIn(received: Buffer): Answer {
  const headEnd = received.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = received
    .subarray(0, headEnd)
    .toString('latin1')
    .split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1];
  if (headEnd === -1 || status === undefined) {
    throw new Error(
      `no HTTP answer: ${JSON.stringify(received.subarray(0, 200).toString('latin1'))}`,
    );
  }
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const rest = received.subarray(headEnd + 4);
  const body = /chunked/i.test(headers.get('transfer-encoding') ?? '')
    ? unchunked(rest)
    : rest.subarray(0, Number(headers.get('content-length') ?? rest.byteLength));
  return { status: Number(status), headers, body: body.toString('utf8') };
}

/**
 * The request written on a connection of its own, and whatever comes back before the server closes
 * it. The Worker may answer a large body it refuses (a bad signature, a wrong type) before the body
 * is written, then close the connection: fetch reports that as a failure, the socket reads the
 * answer. TRACE, which fetch refuses to send, goes this way too.
 */
function overSocket({ worker, origin }: FuzzTarget, sent: SentRequest): Promise<Answer> {
  const { pathname, search } = new URL(sent.target, worker.url);
  const length = sent.body === undefined ? [] : [`Content-Length: ${sent.body.byteLength}`];
  const head = [
    `${sent.method} ${pathname}${search} HTTP/1.1`,
    `Host: ${new URL(origin).host}`,
    'Connection: close',
    ...length,
    ...sent.headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(worker.url.port), worker.url.hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // Written to after the server answered and closed: the answer is what counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      try {
        resolve(answerIn(Buffer.concat(received)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'));
    socket.end(sent.body ?? new Uint8Array());
  });
}

export async function send(target: FuzzTarget, sent: SentRequest): Promise<Answer> {
  if (sent.method.toUpperCase() === 'TRACE') return overSocket(target, sent);
  if ((sent.body?.byteLength ?? 0) > 64 * 1024) {
    // Closing a connection whose body it did not read, workerd resets it, and a reset that arrives
    // before the answer is read discards the answer: then the same request is sent once more.
    return overSocket(target, sent).catch(() => overSocket(target, sent));
  }
  const headers = new Headers();
  for (const [name, value] of sent.headers) headers.append(name, value);
  const response = await target.worker.fetch(sent.target, {
    method: sent.method,
    headers,
    redirect: 'manual',
    ...(sent.body !== undefined && { body: sent.body }),
  });
  return {
    status: response.status,
    headers: response.headers as Headers,
    body: await response.text(),
  };
}
