// Splits SQL text into statements. The embedded driver prepares only the first statement of a
// string and says nothing about the rest, so the server needs its own boundaries: to refuse an
// `execute` of several statements as sqld does, and to run a `sequence` one statement at a time
// (a statement that meets a lock is retried alone, never the ones before it).

// SQLite's identifier characters: letters, digits, `_`, `$` and every non-ASCII character.
const wordPattern = /[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/y;

/** Index just past a quoted token starting at `start`; a doubled closing quote is an escape. */
function skipQuoted(sql: string, start: number, close: string): number {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === close) {
      if (close !== ']' && sql[index + 1] === close) {
        index += 2;
        continue;
      }
      return index + 1;
    }
    index += 1;
  }
  return sql.length;
}

/** Index just past a comment starting at `start`, or `start` when there is none. */
function skipComment(sql: string, start: number): number {
  if (sql.startsWith('--', start)) {
    const end = sql.indexOf('\n', start);
    return end === -1 ? sql.length : end + 1;
  }
  if (sql.startsWith('/*', start)) {
    const end = sql.indexOf('*/', start + 2);
    return end === -1 ? sql.length : end + 2;
  }
  return start;
}

/**
 * Tracks CREATE TRIGGER bodies, whose `;` do not end the statement: the body runs from BEGIN to
 * the matching END, and CASE ... END pairs may nest inside it.
 */
class TriggerTracker {
  words: string[] = [];
  inBody = false;
  caseDepth = 0;

  isTrigger(): boolean {
    const [first, second, third] = this.words;
    if (first !== 'CREATE') return false;
    return (
      second === 'TRIGGER' || ((second === 'TEMP' || second === 'TEMPORARY') && third === 'TRIGGER')
    );
  }

  see(word: string): void {
    const upper = word.toUpperCase();
    if (this.words.length < 3) this.words.push(upper);
    if (!this.isTrigger()) return;
    if (!this.inBody) {
      if (upper === 'BEGIN') this.inBody = true;
      return;
    }
    if (upper === 'CASE') this.caseDepth += 1;
    else if (upper === 'END') {
      if (this.caseDepth > 0) this.caseDepth -= 1;
      else this.inBody = false;
    }
  }

  splitsHere(): boolean {
    return !this.inBody;
  }
}

type Token =
  | { kind: 'word' | 'param'; text: string }
  | { kind: 'semicolon'; at: number }
  | { kind: 'other' };

/** `?`, `?NNN`, or a prefix and a name, which may hold Tcl's `::` and end in `(...)` as in SQLite. */
const paramPattern = /[?][0-9]*|[:@$#](?:[\w$\u0080-\uffff]|::)+(?:\([^\s)]*\))?/y;

function matchAt(pattern: RegExp, sql: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(sql)?.[0];
}

/** SQLite's tokens, as far as statement boundaries and parameters need them. */
function* tokens(sql: string): Generator<Token> {
  let index = 0;
  while (index < sql.length) {
    const char = sql[index] ?? '';
    const afterComment = skipComment(sql, index);
    if (afterComment !== index) {
      index = afterComment;
      continue;
    }
    if (char === ';') {
      yield { kind: 'semicolon', at: index };
      index += 1;
      continue;
    }
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    if (char === "'" || char === '"' || char === '`' || char === '[') {
      index = skipQuoted(sql, index, char === '[' ? ']' : char);
      yield { kind: 'other' };
      continue;
    }
    const word = matchAt(wordPattern, sql, index);
    const param = word === undefined ? matchAt(paramPattern, sql, index) : undefined;
    if (word !== undefined) yield { kind: 'word', text: word };
    else if (param !== undefined) yield { kind: 'param', text: param };
    else yield { kind: 'other' };
    index += (word ?? param ?? char).length;
  }
}

/** The statements of `sql`, each with its text as written; empty ones (only `;`) are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasContent = false;
  let trigger = new TriggerTracker();
  const finish = (end: number) => {
    if (hasContent) statements.push(sql.slice(start, end).trim());
    start = end + 1;
    hasContent = false;
    trigger = new TriggerTracker();
  };
  for (const token of tokens(sql)) {
    if (token.kind === 'semicolon') {
      if (trigger.splitsHere()) finish(token.at);
      continue;
    }
    if (token.kind === 'word') trigger.see(token.text);
    hasContent = true;
  }
  finish(sql.length);
  return statements;
}

/**
 * The parameters of one statement by index - 1, numbered as SQLite numbers them: a bare `?` takes
 * the largest index so far + 1, `?NNN` takes index NNN, a new name takes the largest index so far
 * + 1 and a repeated name its first index. Each entry is what sqlite3_bind_parameter_name gives
 * for that index: the first name that took it, with its prefix (":id", "?3"), or null when only a
 * bare `?` (or nothing, in a gap below a `?NNN`) took it.
 */
export function parameterNames(sql: string): (string | null)[] {
  const names: (string | null)[] = [];
  const seen = new Set<string>();
  for (const token of tokens(sql)) {
    if (token.kind !== 'param') continue;
    const name = token.text;
    if (name === '?') {
      names.push(null);
      continue;
    }
    if (seen.has(name)) continue;
    const index = name.startsWith('?') ? Number(name.slice(1)) : names.length + 1;
    while (names.length < index) names.push(null);
    names[index - 1] ??= name;
    seen.add(name);
  }
  return names;
}
