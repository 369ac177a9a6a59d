// Why a signed request was refused: one stable code per failed check, so a partner (or an operator
// reading the log) knows which check to look at. Every refusal is a 401; none has a side effect.
import { AppError, type ErrorCode } from '../errors.ts';

export type SignatureRefusal =
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_BODY_MISMATCH'
  | 'SIGNATURE_WRONG_URL'
  | 'SIGNATURE_WRONG_ISSUER'
  | 'SIGNATURE_EXPIRED'
  | 'SIGNATURE_REPLAYED';

const messages: Record<SignatureRefusal, string> = {
  SIGNATURE_MISSING: 'The request is not signed',
  SIGNATURE_MALFORMED: 'The signature headers are malformed',
  SIGNATURE_INVALID: 'The signature does not match any active key',
  SIGNATURE_BODY_MISMATCH: 'The body is not the one that was signed',
  SIGNATURE_WRONG_URL: 'The signature was made for another URL',
  SIGNATURE_WRONG_ISSUER: 'The signature was made by another issuer',
  SIGNATURE_EXPIRED: 'The signature is outside its validity window',
  SIGNATURE_REPLAYED: 'This signature was already used',
};

export function signatureRefused(code: SignatureRefusal, scheme: string): AppError {
  return new AppError(code satisfies ErrorCode, messages[code], { details: { scheme } });
}
