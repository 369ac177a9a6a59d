// Password hashing: PBKDF2-SHA-256 through Web Crypto, the one password KDF every runtime here
// has natively (Workers, Deno, Node). The parameters travel with each hash
// (`pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`), so they can be raised later and old hashes
// upgraded at the next login (needsRehash).

import { fromBase64, toBase64 } from '../../lib/base64.ts';
import { constantTimeEqual } from '../../lib/opaque-tokens.ts';
import {
  checkPasswordStrength,
  type PasswordContext,
  type StrengthIssue,
} from './password-strength.ts';

/**
 * Production Workers refuse PBKDF2 above 100,000 iterations (wrangler dev does not), so this is
 * both the cost and its ceiling; a test keeps it there.
 */
export const PASSWORD_ITERATIONS = 100_000;
export const PASSWORD_MIN_LENGTH = 8;
/** Bounds the CPU a single request can spend hashing (PBKDF2 hashes the password each round). */
export const PASSWORD_MAX_LENGTH = 128;

const algorithm = 'pbkdf2-sha256';
const saltBytes = 16;
const hashBytes = 32;

function fromBase64OrUndefined(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return fromBase64(text);
  } catch {
    return undefined;
  }
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  length: number,
) {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(saltBytes));
  const hash = await derive(password, salt, PASSWORD_ITERATIONS, hashBytes);
  return `${algorithm}$${PASSWORD_ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

interface StoredHash {
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  /** As stored (base64), compared as such. */
  hashText: string;
  hashLength: number;
}

function parseStored(stored: string): StoredHash | undefined {
  const [name, iterationsText, saltText, hashText, ...rest] = stored.split('$');
  if (name !== algorithm || rest.length > 0 || saltText === undefined || hashText === undefined) {
    return undefined;
  }
  const iterations = Number(iterationsText);
  // Never above the cap: a stored hash with more rounds could not be checked on Workers anyway.
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PASSWORD_ITERATIONS) {
    return undefined;
  }
  const salt = fromBase64OrUndefined(saltText);
  const hash = fromBase64OrUndefined(hashText);
  if (salt === undefined || hash === undefined || hash.length === 0) return undefined;
  return { iterations, salt, hashText, hashLength: hash.length };
}

export interface PasswordCheck {
  ok: boolean;
  /** The hash was made with other parameters than today's: store a fresh one. */
  needsRehash: boolean;
}

/** A malformed stored value never matches (and never throws: the caller answers 401 as usual). */
export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  const parsed = parseStored(stored);
  if (parsed === undefined) return { ok: false, needsRehash: false };
  const candidate = await derive(password, parsed.salt, parsed.iterations, parsed.hashLength);
  // Constant time: how long the comparison takes says nothing about where the first difference is.
  const ok = constantTimeEqual(toBase64(candidate), parsed.hashText);
  const needsRehash =
    ok &&
    (parsed.iterations !== PASSWORD_ITERATIONS ||
      parsed.salt.length !== saltBytes ||
      parsed.hashLength !== hashBytes);
  return { ok, needsRehash };
}

/**
 * Checked against when an email matches no account, so a login costs one full PBKDF2 either way
 * and its time does not tell whether the address is registered.
 */
export const DUMMY_PASSWORD_HASH = `${algorithm}$${PASSWORD_ITERATIONS}$${toBase64(new Uint8Array(saltBytes))}$${toBase64(new Uint8Array(hashBytes))}`;

export type PasswordPolicyRule =
  | 'min_length'
  | 'max_length'
  | 'uppercase'
  | 'lowercase'
  | 'digit'
  | 'special'
  | 'recently_used'
  | StrengthIssue['rule'];

export interface PasswordPolicyIssue {
  rule: PasswordPolicyRule;
  message: string;
}

/** Every rule the password breaks, each with a message for the person choosing it. */
export function checkPasswordPolicy(
  password: string,
  context: PasswordContext = {},
): PasswordPolicyIssue[] {
  const issues: PasswordPolicyIssue[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    issues.push({ rule: 'min_length', message: `At least ${PASSWORD_MIN_LENGTH} characters` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    issues.push({ rule: 'max_length', message: `At most ${PASSWORD_MAX_LENGTH} characters` });
    return issues;
  }
  if (!/\p{Lu}/u.test(password)) {
    issues.push({ rule: 'uppercase', message: 'At least one upper-case letter' });
  }
  if (!/\p{Ll}/u.test(password)) {
    issues.push({ rule: 'lowercase', message: 'At least one lower-case letter' });
  }
  if (!/\p{Nd}/u.test(password)) issues.push({ rule: 'digit', message: 'At least one digit' });
  if (!/[^\p{L}\p{Nd}]/u.test(password)) {
    issues.push({
      rule: 'special',
      message: 'At least one character that is not a letter or digit',
    });
  }
  issues.push(...checkPasswordStrength(password, context));
  return issues;
}
