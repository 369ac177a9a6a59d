// The search text sanitizer: whatever a client types, FTS5 gets nothing but quoted plain words
// (the last one a prefix), so no text can be read as query syntax, refused by FTS5 with an error,
// or widen what is searched; and snippets come back HTML-escaped with matches in <mark>.
import { describe, expect, it } from 'vitest';
import {
  highlighted,
  matchEnd,
  matchExpressionOf,
  matchStart,
  maxSearchWords,
} from '../../src/modules/products/search-text.ts';
import {
  astralLetter,
  hostileSearchTexts,
  longHostileText,
} from '../support/hostile-search-texts.ts';

// Under the u flag a lone surrogate is a code point of its own and no letter: it fails here too.
const quotedWords = /^"[\p{L}\p{N}\p{M}]{1,64}"(?: "[\p{L}\p{N}\p{M}]{1,64}")*\*?$/u;

function wordsOf(expression: string): string[] {
  return expression.split(' ').map((quoted) => quoted.replace(/^"|"\*?$/g, ''));
}

describe('matchExpressionOf, words', () => {
  it('quotes each word, the last one as a prefix', () => {
    expect(matchExpressionOf('walnut desk lamp')).toBe('"walnut" "desk" "lamp"*');
  });

  it('lower-cases, so texts that differ in case share their cache entry', () => {
    expect(matchExpressionOf('Walnut LAMP')).toBe('"walnut" "lamp"*');
  });

  it('keeps diacritics for the tokenizer to fold, composing decomposed ones (NFKC)', () => {
    expect(matchExpressionOf('Café crème')).toBe('"café" "crème"*');
    expect(matchExpressionOf('Cafe\u0301')).toBe('"café"*');
  });

  it('folds compatibility forms: fullwidth letters are the plain word', () => {
    expect(matchExpressionOf('ｗａｌｎｕｔ')).toBe('"walnut"*');
  });

  it('drops repeated words, keeping the first place of each', () => {
    expect(matchExpressionOf('lamp Lamp LAMP desk lamp')).toBe('"lamp" "desk"*');
  });

  it(`keeps the first ${maxSearchWords} distinct words`, () => {
    const typed = Array.from({ length: 20 }, (_, index) => `word${index + 1}`);
    const expression = matchExpressionOf(typed.join(' '));
    expect(wordsOf(expression ?? '')).toEqual(typed.slice(0, maxSearchWords));
    expect(expression?.endsWith(`"word${maxSearchWords}"*`)).toBe(true);
  });

  it('cuts a word to 64 characters', () => {
    expect(matchExpressionOf('a'.repeat(100))).toBe(`"${'a'.repeat(64)}"*`);
  });

  it('cuts a word of astral letters between letters, never inside one', () => {
    // 'a' then 40 two-unit letters: 64 UTF-16 units end in the middle of the 32nd letter. A lone
    // surrogate is no Unicode text: JSON.stringify sends it as a `\ud840` escape, which strict
    // parsers such as Rust's serde_json (Turso's Hrana server) refuse.
    const expression = matchExpressionOf(`a${astralLetter.repeat(40)}`);
    expect(expression).toMatch(quotedWords);
    expect(expression).toMatch(/^"a\u{20000}+"\*$/u);
  });

  it('makes the last word a prefix only from three characters, where the prefix index starts', () => {
    expect(matchExpressionOf('w')).toBe('"w"');
    expect(matchExpressionOf('walnut l')).toBe('"walnut" "l"');
    expect(matchExpressionOf('wa')).toBe('"wa"');
    expect(matchExpressionOf('wal')).toBe('"wal"*');
    expect(matchExpressionOf('木')).toBe('"木"');
    expect(matchExpressionOf('木材店')).toBe('"木材店"*');
  });

  it('answers undefined when there is no word at all', () => {
    expect(matchExpressionOf('')).toBeUndefined();
    expect(matchExpressionOf('   ')).toBeUndefined();
  });
});

describe('matchExpressionOf, hostile text', () => {
  it.each([
    ['"walnut', '"walnut"*'],
    ['wal"nut lamp', '"wal" "nut" "lamp"*'],
    ['*', undefined],
    ['*walnut', '"walnut"*'],
    ['walnut*', '"walnut"*'],
    ['NEAR(a b)', '"near" "a" "b"'],
    ['NEAR("a" "b", 2)', '"near" "a" "b" "2"'],
    ['a OR b', '"a" "or" "b"'],
    ['lamp AND NOT desk', '"lamp" "and" "not" "desk"*'],
    ['-foo', '"foo"*'],
    ['-name:foo', '"name" "foo"*'],
    ['name:foo', '"name" "foo"*'],
    ['{name description}: foo', '"name" "description" "foo"*'],
    ['^foo', '"foo"*'],
    ['"a" + "b"', '"a" "b"'],
    ['((walnut', '"walnut"*'],
    ['walnut))', '"walnut"*'],
    ['""', undefined],
    ['!?.,;:()[]{}<>"\'*^-+/\\|', undefined],
    ['wal\u0000nut\u0001\u0002lamp\u0003\u001b[0m\u007f', '"wal" "nut" "lamp" "0m"'],
    ['🪑 chair 👍🏽', '"chair"*'],
    ['שלום עולם', '"שלום" "עולם"*'],
    ['\u200fمرحبا\u200f بالعالم\u202e', '"مرحبا" "بالعالم"*'],
  ])('reads %j as %j', (text, expected) => {
    expect(matchExpressionOf(text)).toBe(expected);
  });

  it('reads 10 KB of hostile text as its few distinct words', () => {
    expect(matchExpressionOf(longHostileText)).toBe('"near" "a" "b" "x" "y" "name" "z" "w" "or"');
  });

  it('reads 10 KB of a single word as its first 64 characters', () => {
    expect(matchExpressionOf('x'.repeat(10_240))).toBe(`"${'x'.repeat(64)}"*`);
  });

  it.each(hostileSearchTexts.map(({ label, text }) => [label, text] as const))(
    'leaves FTS5 only quoted words for %s',
    (_label, text) => {
      const expression = matchExpressionOf(text);
      if (expression === undefined) return;
      expect(expression).toMatch(quotedWords);
      expect(wordsOf(expression).length).toBeLessThanOrEqual(maxSearchWords);
    },
  );
});

describe('highlighted', () => {
  it('escapes the text as HTML and puts the matches in <mark>', () => {
    expect(highlighted(`<script>alert("x")</script> & ${matchStart}Walnut${matchEnd} 'lamp'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>Walnut</mark> &#39;lamp&#39;',
    );
  });

  it('marks every match of a snippet', () => {
    expect(highlighted(`${matchStart}a${matchEnd} b ${matchStart}c${matchEnd}…`)).toBe(
      '<mark>a</mark> b <mark>c</mark>…',
    );
  });
});
