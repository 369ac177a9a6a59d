// What a search box's text becomes before it reaches FTS5: plain words, each quoted, so nothing a
// client types is read as query syntax (quotes, `*`, `-`, NEAR, AND, parentheses, column filters).
// FTS5 would refuse much of it with an error, and some of it (a leading `*`, a column filter) would
// change what is searched. The words are found the way FTS5's unicode61 tokenizer finds them:
// letters, digits and marks; everything else separates. The last word also matches as a prefix,
// for type-ahead, once it has the three characters the prefix index starts at: a shorter prefix
// matches most of the catalogue, to rank and count for nothing a user reads.
import { escapeHtml } from '../../lib/html.ts';

/** More words narrow a result no further in practice, and each costs a posting-list lookup. */
export const maxSearchWords = 12;
const maxWordLength = 64;
const minPrefixLength = 3;
const word = /[\p{L}\p{N}\p{M}]+/gu;

/** The FTS5 MATCH expression for `text`, or undefined when it holds no word at all. */
export function matchExpressionOf(text: string): string | undefined {
  const words = [
    ...new Set(
      (text.normalize('NFKC').match(word) ?? []).map((found) =>
        // By code point: a cut through a surrogate pair would leave text no JSON parser takes.
        Array.from(found.toLowerCase()).slice(0, maxWordLength).join(''),
      ),
    ),
  ].slice(0, maxSearchWords);
  if (words.length === 0) return undefined;
  const last = words.length - 1;
  // Quoted, a word is a plain string to FTS5 whatever it spells: NEAR, OR, name:.
  return words
    .map((found, index) =>
      index === last && Array.from(found).length >= minPrefixLength ? `"${found}"*` : `"${found}"`,
    )
    .join(' ');
}

/** Where snippet() marks a match: control characters no product text keeps (see the schemas). */
export const matchStart = '\u0002';
export const matchEnd = '\u0003';

/** A snippet as clients get it: HTML-escaped text, matches in <mark>. */
export function highlighted(snippet: string): string {
  return escapeHtml(snippet).replaceAll(matchStart, '<mark>').replaceAll(matchEnd, '</mark>');
}
