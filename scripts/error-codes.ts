// Writes docs/error-codes.md from the error catalogue in src/lib/errors.ts, so the table a client
// reads lists every code the API can answer, with the status the code always has.
// `npm run docs:error-codes`; a test fails when the file is stale.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorCodeTable } from '../src/lib/errors.ts';

export const errorCodesDocument = fileURLToPath(new URL('../docs/error-codes.md', import.meta.url));

/** A Markdown table with its columns padded, as the formatter lays tables out. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

export function renderErrorCodes(): string {
  const rows = errorCodeTable().map(({ code, status, when }) => [
    `\`${code}\``,
    String(status),
    when,
  ]);
  return [
    '# Error codes',
    '',
    'Every error answer carries one of these codes in `error.code`; the HTTP status follows from the',
    'code alone. Generated from `src/lib/errors.ts` by `npm run docs:error-codes`.',
    '',
    ...table(['code', 'status', 'when'], rows),
    '',
  ].join('\n');
}
if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(errorCodesDocument, renderErrorCodes());
  console.log(`wrote ${errorCodesDocument}`);
}
