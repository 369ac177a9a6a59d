// A strength estimate in the spirit of zxcvbn, small enough for the Worker's bundle: a password is
// read left to right as the patterns an attacker tries first (common passwords, the person's own
// name and email, keyboard and alphabet runs, repeats), each costing a few bits, and whatever is
// left costs the full bits of its character pool. Too few bits in all: refused as guessable.
import { commonPasswords } from './common-passwords.ts';

export interface PasswordContext {
  email?: string;
  name?: string;
}

export interface StrengthIssue {
  rule: 'common_password' | 'personal_info' | 'guessable';
  message: string;
}

/**
 * About 2^40 guesses: days of offline work against one PBKDF2 hash at 100,000 iterations on one
 * GPU, far beyond any online attempt behind the login throttle. Eight random characters from the
 * four classes the policy demands carry about 52 bits.
 */
export const MIN_STRENGTH_BITS = 40;

const leet: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'l',
  '+': 't',
};

function unleet(text: string): string {
  return Array.from(text, (char) => leet[char] ?? char).join('');
}

/** What remains once the decorations people add around a word (digits, symbols) are removed. */
function core(text: string): string {
  return text.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
}

// Runs people type without thinking: rows and columns of a QWERTY keyboard, the alphabet, digits.
const sequences = [
  'abcdefghijklmnopqrstuvwxyz',
  '01234567890',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p',
  'qazwsxedcrfvtgbyhnujmikolp',
];

function isStep(from: string, to: string): boolean {
  return sequences.some((sequence) => {
    const at = sequence.indexOf(from);
    return at !== -1 && (sequence[at + 1] === to || sequence[at - 1] === to);
  });
}

function contextWords(context: PasswordContext): string[] {
  const local = context.email?.split('@')[0] ?? '';
  const parts = [local, ...local.split(/[^\p{L}\p{N}]+/u), ...(context.name ?? '').split(/\s+/)];
  return [...new Set(parts.map((part) => part.toLowerCase()).filter((part) => part.length >= 3))];
}

function poolBits(password: string): number {
  let pool = 0;
  if (/\p{Ll}/u.test(password)) pool += 26;
  if (/\p{Lu}/u.test(password)) pool += 26;
  if (/\p{Nd}/u.test(password)) pool += 10;
  if (/[^\p{L}\p{Nd}]/u.test(password)) pool += 33;
  return Math.log2(Math.max(pool, 2));
}

interface Match {
  length: number;
  bits: number;
}

const maxWordLength = 16;
const dictionaryBits = Math.log2(commonPasswords.size);

function longestWord(text: string, at: number, personal: string[]): Match | undefined {
  for (let end = Math.min(text.length, at + maxWordLength); end >= at + 3; end--) {
    const slice = text.slice(at, end);
    const plain = unleet(slice);
    if (personal.includes(slice) || personal.includes(plain)) {
      return { length: slice.length, bits: 2 };
    }
    if (slice.length >= 4 && (commonPasswords.has(slice) || commonPasswords.has(plain))) {
      return { length: slice.length, bits: dictionaryBits + 2 };
    }
  }
  return undefined;
}

function sequenceAt(text: string, at: number): Match | undefined {
  let end = at + 1;
  while (end < text.length && isStep(text[end - 1] ?? '', text[end] ?? '')) end++;
  const length = end - at;
  return length >= 3 ? { length, bits: Math.log2(sequences.length * 2 * 26) + 1 } : undefined;
}

/** Years are the digits people add most: 1900 to 2099 is about 7.6 bits. */
function yearAt(text: string, at: number): Match | undefined {
  return /^(19|20)\d\d/.test(text.slice(at, at + 4))
    ? { length: 4, bits: Math.log2(200) }
    : undefined;
}

function repeatAt(text: string, at: number, charBits: number): Match | undefined {
  const rest = text.slice(at);
  const block = /^(.+?)\1+/su.exec(rest);
  if (block === null || block[0].length < 3) return undefined;
  const unit = block[1] ?? '';
  const repeats = block[0].length / unit.length;
  return { length: block[0].length, bits: estimate(unit, charBits, []) + Math.log2(repeats) };
}

function estimate(text: string, charBits: number, personal: string[]): number {
  let bits = 0;
  let at = 0;
  while (at < text.length) {
    const candidates = [
      longestWord(text, at, personal),
      sequenceAt(text, at),
      yearAt(text, at),
      repeatAt(text, at, charBits),
    ].filter((match): match is Match => match !== undefined);
    const best = candidates.sort((a, b) => b.length - a.length || a.bits - b.bits)[0];
    if (best === undefined) {
      bits += charBits;
      at += 1;
    } else {
      bits += Math.min(best.bits, best.length * charBits);
      at += best.length;
    }
  }
  return bits;
}

/** The estimated strength in bits; words are also looked up without their leetspeak. */
export function strengthBits(password: string, context: PasswordContext = {}): number {
  return estimate(password.toLowerCase(), poolBits(password), contextWords(context));
}

export function checkPasswordStrength(
  password: string,
  context: PasswordContext = {},
): StrengthIssue[] {
  const lower = password.toLowerCase();
  const issues: StrengthIssue[] = [];
  const bases = [core(lower), unleet(core(lower)), core(unleet(lower))];
  if (bases.some((base) => commonPasswords.has(base))) {
    issues.push({ rule: 'common_password', message: 'This is one of the most common passwords' });
  }
  const personal = contextWords(context);
  if (personal.some((word) => lower.includes(word) || unleet(lower).includes(word))) {
    issues.push({ rule: 'personal_info', message: 'Must not contain your name or email' });
  }
  if (issues.length === 0 && strengthBits(password, context) < MIN_STRENGTH_BITS) {
    issues.push({
      rule: 'guessable',
      message: 'Too easy to guess: avoid common words, keyboard runs, sequences and repeats',
    });
  }
  return issues;
}
