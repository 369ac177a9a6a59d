// What every admin CLI command shares: how a command is described, the two ways it fails (a
// command line that makes no sense exits 2, a refusal or a fault exits 1), and how its answer is
// shown: aligned columns for a person, JSON for a script.
import type { ParseArgsOptionsConfig } from 'node:util';
import type { Config } from '../../config.ts';
import type { Deps } from '../../deps.ts';
import type { Pagination } from '../../lib/envelope.ts';
import { AppError } from '../../lib/errors.ts';
import { defaultPageSize, maxPageSize } from '../../lib/pagination.ts';
import type { Cache } from '../../platform/cache.ts';

/** The deployment a command works on (environment.ts). */
export interface AdminContext {
  config: Config;
  deps: Deps;
  /** The app's cache in the deployment's Redis: a change clears what the API has cached of it. */
  cache: Cache;
}

/** What a command answers: the value `--json` prints, and the lines a person reads. */
export interface Answer {
  json: unknown;
  text: string;
}

export interface CommandInput {
  /** The positional arguments, one for each name in `Command.arguments`. */
  args: string[];
  values: Record<string, string | boolean | undefined>;
  /** The backends, connected to on first use: a command checks its input before. */
  context: () => Promise<AdminContext>;
}

export interface Command {
  /** The words that name it, e.g. `dlq requeue`. */
  name: string;
  /** Positional arguments, all required, as the synopsis names them. */
  arguments: readonly string[];
  options: ParseArgsOptionsConfig;
  /** The command line, after `npm run admin --`. */
  synopsis: string;
  summary: string;
  /** What it does, its options and examples, for `<command> --help`. */
  help: string;
  run(input: CommandInput): Promise<Answer>;
}

/** The command line makes no sense: exit 2, with the command's synopsis. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and could not do what was asked: exit 1, with this message alone. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
}

/** The service's 404 in the CLI's words, which name what was looked for. */
export async function orNotFound<T>(work: Promise<T>, message: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError && error.code === 'NOT_FOUND') throw new CommandFailed(message);
    throw error;
  }
}

export function stringValue(input: CommandInput, option: string): string | undefined {
  const value = input.values[option];
  return typeof value === 'string' ? value : undefined;
}

export function wholeNumber(option: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/** `--limit` and `--page` of a list, with the API's bounds. */
export const pageOptions = {
  limit: { type: 'string' },
  page: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const pageOptionsHelp = `  --limit N     Rows per page, 1 to ${maxPageSize} (default ${defaultPageSize})
  --page N      Which page, from 1 (default 1)`;

export function pageOf(input: CommandInput): { page: number; limit: number } {
  const limit = stringValue(input, 'limit');
  const page = stringValue(input, 'page');
  return {
    limit: limit === undefined ? defaultPageSize : wholeNumber('limit', limit, 1, maxPageSize),
    page: page === undefined ? 1 : wholeNumber('page', page, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Under a list: how much of it was shown, and how to see the rest. */
function pageFooter(
  pagination: Pagination,
  [one, many]: readonly [string, string],
  shown: number,
): string {
  const { page, total, totalPages, hasNext } = pagination;
  if (total === 0) return `no ${many}`;
  if (totalPages === 1) return `${total} ${total === 1 ? one : many}`;
  const more = hasNext ? `; --page ${page + 1} for more` : '';
  return `${shown} of ${total} ${many} (page ${page} of ${totalPages})${more}`;
}

/** A page of a list: the items and their pagination for `--json`, a table and its footer to read. */
export function pageAnswer(
  page: { items: unknown[]; pagination: Pagination },
  nouns: readonly [string, string],
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): Answer {
  const footer = pageFooter(page.pagination, nouns, page.items.length);
  return {
    json: page,
    text: page.items.length === 0 ? footer : `${table(headers, rows)}\n${footer}`,
  };
}

/** Columns padded to their widest cell, two spaces apart, with no trailing blanks. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return columns([headers, ...rows]);
}

/** An instant to the second, or `-` for none: milliseconds only widen a table. */
export function shownTime(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z');
}
