// The load's clients. Each is a loop of requests, one at a time, every answer read whole before
// the next request, over Node's fetch (undici's pool: one keep-alive connection per client busy
// at a time). A client is a run of visitors, each with an address of its own that no other client
// uses (sent as cf-connecting-ip, as Cloudflare would): a visitor leaves, and the next comes with
// a new address, before it would be over the general limit or the sign-up limit of its address.
// So the main traffic meets the default limits without being refused, and any 429 it gets is the
// limiter's mistake. Beside it, one group of clients shares one address and is meant to be
// refused (shared-address.ts).
import { currencies, productCategories } from '../../src/db/schema.ts';
import { jsonRequest } from '../../tests/support/json-request.ts';
import type { Recorder } from './recorder.ts';

export type Kind =
  | 'product read'
  | 'product list'
  | 'product search'
  | 'profile read'
  | 'user search'
  | 'product create'
  | 'product update'
  | 'registration'
  | 'login';

/** The signed-in clients' mix, by weight; sign-ups and sign-ins are few, as PBKDF2 is costly. */
const signedInMix: readonly [Kind, number][] = [
  ['product read', 30],
  ['product list', 10],
  ['product search', 10],
  ['profile read', 15],
  ['user search', 5],
  ['product create', 12],
  ['product update', 12],
  ['registration', 2],
  ['login', 4],
];

/** Anonymous visitors read the catalogue. */
const anonymousMix: readonly [Kind, number][] = [
  ['product read', 50],
  ['product list', 25],
  ['product search', 25],
];

export const kinds: readonly Kind[] = signedInMix.map(([kind]) => kind);

export interface Account {
  email: string;
  userId: string;
  accessToken: string;
}

/** What every client shares: where to send, what exists, and the limits it stays under. */
export interface LoadTarget {
  origin: string;
  productIds: readonly string[];
  /** Words of the seeded products' names, for searches and new products. */
  words: readonly string[];
  /** Every account with a session, those registered during the load included. */
  accounts: Account[];
  password: string;
  /** Each visitor's budget: the general limit's burst, and sign-ups per address. */
  limits: { general: number; signup: number };
  /** An address no one has used yet. */
  freshAddress(): string;
  /** A number no account has used yet, for a new account's email. */
  freshAccountNumber(): number;
  /** The products each user created, which they may change. */
  ownProducts: Map<string, string[]>;
}

/** A client waits this long for an answer before counting the request as failed. */
const requestTimeoutMs = 60_000;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one request and records its latency and status; undefined when no answer came. */
export async function send(
  target: LoadTarget,
  recorder: Recorder,
  kind: string,
  method: string,
  path: string,
  options: { ip: string; token?: string; body?: unknown; headers?: Record<string, string> },
): Promise<Answer | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(`${target.origin}${path}`, {
      ...jsonRequest(method, options),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    recorder.answered(kind, performance.now() - started, response.status, text);
    return { status: response.status, headers: response.headers, text };
  } catch (error) {
    recorder.failed(kind, performance.now() - started, error);
    return undefined;
  }
}

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('nothing to pick from');
  return item;
}

function pickKind(mix: readonly [Kind, number][], random: () => number): Kind {
  const total = mix.reduce((sum, [, weight]) => sum + weight, 0);
  let left = random() * total;
  for (const [kind, weight] of mix) {
    left -= weight;
    if (left < 0) return kind;
  }
  return mix[0]?.[0] ?? 'product read';
}

interface Visitor {
  ip: string;
  requests: number;
  signups: number;
}

const dataOf = (answer: Answer | undefined) =>
  (JSON.parse(answer?.text ?? '{}') as { data?: Record<string, unknown> }).data ?? {};

function signedIn(answer: Answer | undefined, email: string): Account | undefined {
  if (answer === undefined || (answer.status !== 200 && answer.status !== 201)) return undefined;
  const { user, session } = dataOf(answer) as {
    user?: { id?: string };
    session?: { accessToken?: string };
  };
  if (user?.id === undefined || session?.accessToken === undefined) return undefined;
  return { email, userId: user.id, accessToken: session.accessToken };
}

/** Registers a new account from `ip`: the answer, and the account signed in unless refused. */
export async function register(
  target: LoadTarget,
  recorder: Recorder,
  ip: string,
): Promise<{ answer: Answer | undefined; account: Account | undefined }> {
  const number = target.freshAccountNumber();
  const email = `visitor-${number}@load.bench.test`;
  const answer = await send(target, recorder, 'registration', 'POST', '/v1/auth/register', {
    ip,
    body: { email, name: `Visitor ${number}`, password: target.password },
  });
  const account = signedIn(answer, email);
  if (account !== undefined) target.accounts.push(account);
  return { answer, account };
}

function newProduct(target: LoadTarget, random: () => number) {
  const word = () => pick(target.words, random);
  return {
    name: `${word()} ${word()}`,
    description: `${word()} ${word()} ${word()}, made to last.`,
    category: pick(productCategories, random),
    price: { amount: 100 + Math.floor(random() * 99_900), currency: pick(currencies, random) },
    stock: Math.floor(random() * 500),
    tags: [...new Set([word().toLowerCase(), word().toLowerCase()])],
  };
}

function listPath(random: () => number): string {
  const variant = random();
  if (variant < 0.4) return '/v1/products?limit=20';
  if (variant < 0.7) return `/v1/products?category=${pick(productCategories, random)}&limit=20`;
  const page = 1 + Math.floor(random() * 25);
  return `/v1/products?sortBy=price&sortOrder=asc&page=${page}&limit=20`;
}

function searchPath(target: LoadTarget, random: () => number): string {
  const word = encodeURIComponent(pick(target.words, random).toLowerCase());
  const variant = random();
  // Type-ahead: a keystroke's prefix, three characters or more.
  if (variant < 0.3) return `/v1/products/search?q=${word.slice(0, 3 + Math.floor(random() * 3))}`;
  if (variant < 0.5) return `/v1/products/search?q=${word}&inStock=true`;
  return `/v1/products/search?q=${word}`;
}

/**
 * One client until `deadline` (performance.now()): anonymous, or signed in as `account`, which
 * changes when it signs in as someone else or registers.
 */
export async function runClient(
  target: LoadTarget,
  recorder: Recorder,
  random: () => number,
  deadline: number,
  signedInAs: Account | undefined,
): Promise<void> {
  let account = signedInAs;
  let visitor: Visitor = { ip: target.freshAddress(), requests: 0, signups: 0 };
  /** The visitor's address for one more request, after a new visitor if this one is spent. */
  const ipFor = (kind: Kind) => {
    const spent =
      visitor.requests >= target.limits.general ||
      (kind === 'registration' && visitor.signups >= target.limits.signup);
    if (spent) visitor = { ip: target.freshAddress(), requests: 0, signups: 0 };
    visitor.requests += 1;
    if (kind === 'registration') visitor.signups += 1;
    return visitor.ip;
  };
  const mix = account === undefined ? anonymousMix : signedInMix;
  while (performance.now() < deadline) {
    let kind = pickKind(mix, random);
    const token = account?.accessToken;
    const own = account === undefined ? [] : (target.ownProducts.get(account.userId) ?? []);
    // Nothing of one's own to change yet: make something first.
    if (kind === 'product update' && own.length === 0) kind = 'product create';
    const ip = ipFor(kind);
    const get = (path: string) => send(target, recorder, kind, 'GET', path, { ip, token });
    switch (kind) {
      case 'product read':
        await get(`/v1/products/${pick(target.productIds, random)}`);
        break;
      case 'product list':
        await get(listPath(random));
        break;
      case 'product search':
        await get(searchPath(target, random));
        break;
      case 'profile read':
        await get('/v1/me');
        break;
      case 'user search':
        await get(`/v1/users/search?q=${encodeURIComponent(`tor ${Math.floor(random() * 90)}`)}`);
        break;
      case 'product create': {
        // Half of the clients' creates carry an Idempotency-Key, as a retrying client's would.
        const headers: Record<string, string> =
          random() < 0.5 ? { 'idempotency-key': crypto.randomUUID() } : {};
        const answer = await send(target, recorder, kind, 'POST', '/v1/products', {
          ip,
          token,
          headers,
          body: newProduct(target, random),
        });
        const id = answer?.status === 201 ? dataOf(answer).id : undefined;
        if (account !== undefined && typeof id === 'string') {
          target.ownProducts.set(account.userId, [...own, id]);
        }
        break;
      }
      case 'product update':
        await send(target, recorder, kind, 'PATCH', `/v1/products/${pick(own, random)}`, {
          ip,
          token,
          body: {
            stock: Math.floor(random() * 500),
            price: { amount: 100 + Math.floor(random() * 99_900), currency: 'EUR' },
          },
        });
        break;
      case 'registration':
        account = (await register(target, recorder, ip)).account ?? account;
        break;
      case 'login': {
        const { email } = pick(target.accounts, random);
        const answer = await send(target, recorder, kind, 'POST', '/v1/auth/login', {
          ip,
          body: { email, password: target.password },
        });
        account = signedIn(answer, email) ?? account;
        break;
      }
    }
  }
}
