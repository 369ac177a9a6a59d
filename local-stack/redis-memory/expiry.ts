// Turning EX / PX / EXAT / PXAT arguments into absolute deadlines, shared by SET, GETEX, SETEX,
// PSETEX and the EXPIRE family.
import type { RedisErrorReply } from '../redis-rest/backend.ts';
import { invalidExpireTime, NOT_INTEGER } from './errors.ts';
import { parseInteger } from './numbers.ts';

export type ExpiryUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';

export function isExpiryUnit(option: string): option is ExpiryUnit {
  return option === 'EX' || option === 'PX' || option === 'EXAT' || option === 'PXAT';
}

export function toDeadline(unit: ExpiryUnit, amount: number, now: number): number {
  switch (unit) {
    case 'EX':
      return now + amount * 1000;
    case 'PX':
      return now + amount;
    case 'EXAT':
      return amount * 1000;
    case 'PXAT':
      return amount;
  }
}

/** SET / GETEX / SETEX: the amount must be a positive integer. */
export function parseDeadline(
  unit: ExpiryUnit,
  bytes: Buffer | undefined,
  now: number,
  command: string,
): number | RedisErrorReply {
  const amount = bytes === undefined ? null : parseInteger(bytes);
  if (amount === null) return NOT_INTEGER;
  const deadline = toDeadline(unit, amount, now);
  if (amount <= 0 || !Number.isSafeInteger(deadline)) return invalidExpireTime(command);
  return deadline;
}
