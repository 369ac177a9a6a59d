// Search box texts that FTS5 would read as query syntax, refuse, or choke on if they reached MATCH
// as typed. The query sanitizer's unit tests and the search e2e tests run the same list, so what
// the unit tests prove safe is also what the real Worker is asked.
import { maxSearchTextLength } from '../../src/modules/products/products.schemas.ts';

/** A CJK ideograph outside the BMP: one letter, two UTF-16 code units. */
export const astralLetter = '\u{20000}';

/** Hostile fragments, repeated to the longest text the route accepts. */
export const longHostileText = 'NEAR(a b) "x* -y name:z ^w (( OR \u0000 ...!!'.repeat(
  // 40 characters a fragment: the last one ends whole.
  maxSearchTextLength / 40,
);

export const hostileSearchTexts: readonly { label: string; text: string }[] = [
  { label: 'an unbalanced double quote', text: '"walnut' },
  { label: 'a quote inside a word', text: 'wal"nut lamp' },
  { label: 'balanced quotes', text: '"walnut lamp"' },
  { label: 'an empty phrase', text: '""' },
  { label: 'a single quote', text: "l'été d'or" },
  { label: 'a lone star', text: '*' },
  { label: 'a leading star', text: '*walnut' },
  { label: 'a trailing star', text: 'walnut*' },
  { label: 'NEAR()', text: 'NEAR(a b)' },
  { label: 'NEAR() with a distance', text: 'NEAR("a" "b", 2)' },
  { label: 'OR', text: 'a OR b' },
  { label: 'AND and NOT', text: 'lamp AND NOT desk' },
  { label: 'an operator alone', text: 'OR' },
  { label: 'a dangling operator', text: 'lamp AND' },
  { label: 'a leading minus', text: '-foo' },
  { label: 'a column filter', text: 'name:foo' },
  { label: 'a column-set filter', text: '{name description}: foo' },
  { label: 'a negated column filter', text: '-name:foo' },
  { label: 'an initial-token caret', text: '^foo' },
  { label: 'a plus between phrases', text: '"a" + "b"' },
  { label: 'unbalanced opening parentheses', text: '((walnut' },
  { label: 'unbalanced closing parentheses', text: 'walnut))' },
  { label: 'SQL', text: "'; DROP TABLE products; --" },
  { label: 'only punctuation', text: '!?.,;:()[]{}<>"\'*^-+/\\|' },
  { label: 'only spaces', text: '   \t  ' },
  {
    label: 'NUL and control characters',
    text: 'wal\u0000nut\u0001\u0002lamp\u0003\u001b[0m\u007f',
  },
  { label: 'snippet markers', text: '\u0002mark\u0003' },
  { label: 'emoji', text: '🪑 chair 👍🏽 🏳️‍🌈' },
  { label: 'emoji with a variation selector only', text: '❤️' },
  { label: 'a lone combining mark', text: '\u0301' },
  { label: 'two lone combining marks', text: '\u0301\u0301' },
  { label: 'Hebrew (RTL)', text: 'שלום עולם' },
  { label: 'Arabic with RTL marks', text: '\u200fمرحبا\u200f بالعالم\u202e' },
  { label: 'fullwidth letters', text: 'ｗａｌｎｕｔ' },
  { label: 'a long word of astral letters, cut mid-pair', text: `a${astralLetter.repeat(40)}` },
  { label: `${maxSearchTextLength} characters of text`, text: longHostileText },
  {
    label: `a single word of ${maxSearchTextLength} characters`,
    text: 'x'.repeat(maxSearchTextLength),
  },
];
