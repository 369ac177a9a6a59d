// The error-code table clients read is the catalogue the code answers from: a code added or
// changed in src/lib/errors.ts without `npm run docs:error-codes` fails here.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { errorCodesDocument, renderErrorCodes } from '../../scripts/error-codes.ts';
import { errorCodes, statusOf } from '../../src/lib/errors.ts';

it('lists every error code with its status, as generated', async () => {
  const written = await readFile(errorCodesDocument, 'utf8');
  expect(written).toBe(renderErrorCodes());
  for (const code of errorCodes.options) {
    expect(written).toMatch(new RegExp(`\\| \`${code}\` +\\| ${statusOf(code)} +\\|`));
  }
});
