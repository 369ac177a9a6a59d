// The records behind Idempotency-Key (src/middleware/idempotency.ts), in Upstash Redis: one key per
// caller and Idempotency-Key, `idempotency:<caller>:<SHA-256 of the key>`, holding JSON text:
// - `{"state":"running","fingerprint":…,"lease":…}` while the first request runs, written by one
//   SET NX PX GET: the claim and the read of whatever was there are one command, and a request
//   that never finishes (its isolate gone) frees the key when the lease ends;
// - `{"state":"done","fingerprint":…,"status":…,"answer":…}` for 24 hours once it has answered.
//   Storing and releasing compare the lease first (a Lua script), so a request that outlived its
//   lease cannot overwrite the claim of the one that came after it.
//
// The answer's headers and body are sealed with AES-GCM under a key derived from the
// Idempotency-Key, which Redis never sees (the key's name holds another hash of it). Some answers
// carry a secret shown once: a new API key, whose hash alone the database keeps; a session's
// tokens; a partner's signing secret. Sealed, they are no more readable in Redis than where they
// are kept, for as long as the Idempotency-Key cannot be guessed.
import { fromBase64, toBase64, toBase64Url } from '../lib/base64.ts';
import { sha256Hex } from '../lib/opaque-tokens.ts';
import type { Redis } from './redis.ts';

/** How long an answer is replayed: Stripe's 24 hours. */
export const answerTtlSeconds = 24 * 60 * 60;

/** Who a route's keys belong to: the signed-in user, or the client's address (registration). */
export type IdempotencyCaller = 'user' | 'address';

/** A request that sent a well-formed Idempotency-Key to a route that honours it. */
export interface IdempotentRequest {
  key: string;
  /** idempotencyKeyHash(key): what the slot's name holds of it. */
  keyHash: string;
  /** Method, path and query, and the body's SHA-256 (or a streamed upload's length), hashed. */
  fingerprint: string;
  caller: IdempotencyCaller;
}

/** Where one caller's Idempotency-Key lives, and the request that used it. */
export interface IdempotencySlot {
  name: string;
  fingerprint: string;
}

/** A claim started ahead, with the rate limit: the route's middleware takes its outcome. */
export interface PendingClaim {
  slot: IdempotencySlot;
  /** Once taken, the route answers for the claim; untaken, it is released after the response. */
  take(): Promise<ClaimOutcome>;
}

export interface RunningRecord {
  state: 'running';
  fingerprint: string;
  lease: string;
}

export interface DoneRecord {
  state: 'done';
  fingerprint: string;
  status: number;
  /** The headers and body, sealed (sealAnswer). */
  answer: string;
}

export type SlotRecord = RunningRecord | DoneRecord;

export type ClaimOutcome =
  | { claimed: true; lease: string }
  | { claimed: false; record: SlotRecord };

/** What is replayed of an answer, besides its status. */
export interface StoredAnswer {
  headers: [string, string][];
  body: Uint8Array;
}

export function idempotencyKeyHash(idempotencyKey: string): Promise<string> {
  return sha256Hex(`idempotency-name:${idempotencyKey}`);
}

/** `caller` as the rate limiter names a client (`ip:…`) or `user:<id>`. */
export function slotName(caller: string, keyHash: string): string {
  return `idempotency:${caller}:${keyHash}`;
}

// The client parses JSON text on read: a record arrives as an object.
function recordOf(raw: unknown): SlotRecord | undefined {
  if (typeof raw !== 'object' || raw === null || !('state' in raw) || !('fingerprint' in raw)) {
    return undefined;
  }
  if (raw.state === 'running' && 'lease' in raw) return raw as RunningRecord;
  if (raw.state === 'done' && 'status' in raw && 'answer' in raw) return raw as DoneRecord;
  return undefined;
}

function readable(raw: unknown): SlotRecord {
  const record = recordOf(raw);
  if (record === undefined) throw new Error('an idempotency record of unknown shape');
  return record;
}

// Compared as text by the scripts: the exact string the claim wrote.
const runningText = (fingerprint: string, lease: string) =>
  JSON.stringify({ state: 'running', fingerprint, lease } satisfies RunningRecord);

/**
 * Claims the slot for a new lease, or reads who holds it. Issued at once, not awaited here, so a
 * claim started in the rate limit's tick leaves in its round trip.
 */
export function claimSlot(
  redis: Redis,
  slot: IdempotencySlot,
  leaseMs: number,
): Promise<ClaimOutcome> {
  const lease = crypto.randomUUID();
  return redis
    .set<unknown>(slot.name, runningText(slot.fingerprint, lease), {
      nx: true,
      px: leaseMs,
      get: true,
    })
    .then((previous) =>
      previous === null ? { claimed: true, lease } : { claimed: false, record: readable(previous) },
    );
}

/** The slot's record; undefined once it was released or its lease ended. */
export async function readSlot(redis: Redis, name: string): Promise<SlotRecord | undefined> {
  const raw = await redis.get<unknown>(name);
  return raw === null ? undefined : readable(raw);
}

// Stores over our own claim, or over nothing if the lease ended unclaimed; never over another's.
const completeScript = `
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Replaces the claim by the answer, kept answerTtlSeconds. */
export async function completeSlot(
  redis: Redis,
  slot: IdempotencySlot,
  lease: string,
  done: Omit<DoneRecord, 'state' | 'fingerprint'>,
): Promise<void> {
  const record: DoneRecord = { state: 'done', fingerprint: slot.fingerprint, ...done };
  await redis.eval(
    completeScript,
    [slot.name],
    [runningText(slot.fingerprint, lease), JSON.stringify(record), String(answerTtlSeconds)],
  );
}

/** Frees the slot, if the claim is still ours, so a retry runs again. */
export async function releaseSlot(
  redis: Redis,
  slot: IdempotencySlot,
  lease: string,
): Promise<void> {
  await redis.eval(releaseScript, [slot.name], [runningText(slot.fingerprint, lease)]);
}

const ivBytes = 12;

async function answerKey(idempotencyKey: string): Promise<CryptoKey> {
  const secret = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`idempotency-answer:${idempotencyKey}`),
  );
  return crypto.subtle.importKey('raw', secret, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** `<iv b64url>.<ciphertext b64url>` of the answer as JSON, the body in base64. */
export async function sealAnswer(idempotencyKey: string, answer: StoredAnswer): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(ivBytes));
  const plaintext = JSON.stringify({ headers: answer.headers, body: toBase64(answer.body) });
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    await answerKey(idempotencyKey),
    new TextEncoder().encode(plaintext),
  );
  return `${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ciphertext))}`;
}

/** Throws for an answer not sealed under this Idempotency-Key, or altered since. */
export async function openAnswer(idempotencyKey: string, sealed: string): Promise<StoredAnswer> {
  const [iv, ciphertext] = sealed.split('.');
  if (iv === undefined || ciphertext === undefined) throw new Error('not a sealed answer');
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64(iv) },
    await answerKey(idempotencyKey),
    fromBase64(ciphertext),
  );
  const { headers, body } = JSON.parse(new TextDecoder().decode(plaintext)) as {
    headers: [string, string][];
    body: string;
  };
  return { headers, body: fromBase64(body) };
}
