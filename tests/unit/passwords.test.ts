// Password hashing, the policy and the strength estimate, as the rest of the app relies on them.
import { describe, expect, it } from 'vitest';
import { strengthBits } from '../../src/modules/auth/password-strength.ts';
import {
  checkPasswordPolicy,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  PASSWORD_ITERATIONS,
  verifyPassword,
} from '../../src/modules/auth/passwords.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A stored hash made with other parameters, as an older release would have written it. */
async function legacyHash(password: string, iterations: number): Promise<string> {
  const salt = new Uint8Array(16).fill(7);
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
    256,
  );
  return `pbkdf2-sha256$${iterations}$${b64(salt)}$${b64(new Uint8Array(bits))}`;
}

describe('hashPassword / verifyPassword', () => {
  it('stays within the 100,000 iterations production Workers accept', () => {
    expect(PASSWORD_ITERATIONS).toBeLessThanOrEqual(100_000);
  });

  it('stores the algorithm, the iterations, a 16-byte salt and a 32-byte hash', async () => {
    const stored = await hashPassword('Quartz#Meadow7Lantern');
    const [algorithm, iterations, salt, hash] = stored.split('$');
    expect(algorithm).toBe('pbkdf2-sha256');
    expect(Number(iterations)).toBe(PASSWORD_ITERATIONS);
    expect(Buffer.from(salt ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(hash ?? '', 'base64')).toHaveLength(32);
    expect(stored).not.toContain('Quartz');
  });

  it('salts every hash: the same password twice gives two different hashes', async () => {
    expect(await hashPassword('Quartz#Meadow7Lantern')).not.toBe(
      await hashPassword('Quartz#Meadow7Lantern'),
    );
  });

  it('accepts the password and refuses any other', async () => {
    const stored = await hashPassword('Quartz#Meadow7Lantern');
    expect(await verifyPassword('Quartz#Meadow7Lantern', stored)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await verifyPassword('quartz#Meadow7Lantern', stored)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('verifies a hash made with older parameters and asks for a re-hash', async () => {
    const stored = await legacyHash('Quartz#Meadow7Lantern', 10_000);
    expect(await verifyPassword('Quartz#Meadow7Lantern', stored)).toEqual({
      ok: true,
      needsRehash: true,
    });
    expect((await verifyPassword('Wrong#Meadow7Lantern', stored)).ok).toBe(false);
  });

  it('never matches a malformed or foreign stored value, nor the dummy hash', async () => {
    for (const stored of [
      '',
      'plaintext',
      'bcrypt$10$abc$def',
      'pbkdf2-sha256$abc$AAAA$AAAA',
      'pbkdf2-sha256$200000$AAAA$AAAA',
      'pbkdf2-sha256$1000$%%%$AAAA',
      DUMMY_PASSWORD_HASH,
    ]) {
      expect(await verifyPassword('Quartz#Meadow7Lantern', stored), stored).toEqual({
        ok: false,
        needsRehash: false,
      });
    }
  });
});

describe('checkPasswordPolicy', () => {
  const rules = (password: string, context = {}) =>
    checkPasswordPolicy(password, context).map((issue) => issue.rule);

  it('accepts a long, mixed, unrelated password', () => {
    expect(
      checkPasswordPolicy('Quartz#Meadow7Lantern', { email: 'ada@example.com', name: 'Ada' }),
    ).toEqual([]);
  });

  it('names every character rule broken, each with a message', () => {
    expect(checkPasswordPolicy('abc')).toEqual(
      expect.arrayContaining([
        { rule: 'min_length', message: expect.any(String) },
        { rule: 'uppercase', message: expect.any(String) },
        { rule: 'digit', message: expect.any(String) },
        { rule: 'special', message: expect.any(String) },
      ]),
    );
    expect(rules('ALLUPPER#1X')).toContain('lowercase');
  });

  it('refuses more than 128 characters, which bounds the hashing work', () => {
    expect(rules(`Aa1#${'x7Q!'.repeat(40)}`)).toEqual(['max_length']);
  });

  it('refuses the most common passwords behind case, digits, symbols and leetspeak', () => {
    for (const password of [
      'Password123!',
      'P@ssw0rd2024!',
      'Summer2024!',
      '#Football99',
      'Qwerty123!',
    ]) {
      expect(rules(password), password).toContain('common_password');
    }
  });

  it('refuses the name and the email in the password', () => {
    const context = { email: 'grace.hopper@example.com', name: 'Grace Hopper' };
    expect(rules('Hopper#Cobol59x', context)).toContain('personal_info');
    expect(rules('Xy#9gr4ce-Fjord', context)).toContain('personal_info');
  });

  it('refuses keyboard runs, sequences and repeats as guessable', () => {
    for (const password of [
      '1qaz2wsX!',
      'Aaaaaaa1!',
      'Abcdefg1!',
      'Zxcvbnm1#',
      'Lovelove1!',
      'Monkey!Dragon9',
    ]) {
      expect(rules(password), password).toEqual(
        expect.arrayContaining([expect.stringMatching(/guessable|common_password/)]),
      );
    }
  });

  it('scores random characters far above patterns of the same length', () => {
    expect(strengthBits('Xk9#mPq2')).toBeGreaterThan(50);
    expect(strengthBits('Abcd1234')).toBeLessThan(30);
  });
});
