// The error-code table clients read is the catalogue the code answers from: a code added or
// changed in src/lib/errors.ts without `npm run docs:error-codes` fails here.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { errorCodesDocument, renderErrorCodes } from '../../scripts/error-codes.ts';

it('is the table generated from the error catalogue', async () => {
  const written = await readFile(errorCodesDocument, 'utf8');
  expect(written).toBe(renderErrorCodes());
});
