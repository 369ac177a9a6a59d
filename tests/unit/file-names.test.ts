// Client-given file names made safe: paths, control characters, bidi controls and leading dots go,
// the result stays within 255 UTF-8 bytes without splitting a character as it is shown (emoji
// sequences included) and keeps its extension; Content-Disposition values stay one header line
// with an ASCII fallback and the exact name in filename*.
import { describe, expect, it } from 'vitest';
import {
  contentDispositionAttachment,
  contentDispositionInline,
  sanitizeFileName,
} from '../../src/lib/file-names.ts';

const utf8Length = (text: string) => new TextEncoder().encode(text).byteLength;
const clean = (name: string | undefined) => sanitizeFileName(name, 'file');

describe('sanitizeFileName', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\x\\y.png', 'y.png'],
    ['/var/www/../uploads\\..\\shell.php', 'shell.php'],
    ['..\\..//a.txt', 'a.txt'],
  ])('keeps only the last segment of the path %j', (name, expected) => {
    expect(clean(name)).toBe(expected);
  });

  it.each([
    ['a\u0000b\u0007c.txt', 'a b c.txt'],
    ['two\r\nlines.txt', 'two lines.txt'],
    ['tab\there.txt', 'tab here.txt'],
    ['del\u007fand\u0085c1\u009bchars.txt', 'del and c1 chars.txt'],
  ])('turns control characters in %j into spaces', (name, expected) => {
    expect(clean(name)).toBe(expected);
  });

  it.each([
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['\u202Aa\u202Bb\u202Cc\u202Dd.txt', 'abcd.txt'],
    ['\u2066x\u2067y\u2068z\u2069.png', 'xyz.png'],
    ['mark\u200E\u200F\u061C.txt', 'mark.txt'],
  ])('drops the bidi controls in %j, so the name shows as it is', (name, expected) => {
    expect(clean(name)).toBe(expected);
  });

  it.each([
    ['.htaccess', 'htaccess'],
    ['...hidden', 'hidden'],
    [' . .x.txt', 'x.txt'],
    ['  many   spaces\u00a0\u2028here.txt  ', 'many spaces here.txt'],
  ])('strips leading dots and collapses whitespace in %j', (name, expected) => {
    expect(clean(name)).toBe(expected);
  });

  it('composes to NFC', () => {
    expect(clean('re\u0301sume\u0301.pdf')).toBe('r\u00e9sum\u00e9.pdf');
  });

  it('drops lone surrogates, which no encoding can carry', () => {
    expect(clean('a\uD800b\uDC00.txt')).toBe('ab.txt');
  });

  it.each([[undefined], [''], ['   '], ['..'], ['/'], ['dir/'], ['\u202E\u0000']])(
    'falls back when nothing is left of %j',
    (name) => {
      expect(sanitizeFileName(name, 'upload')).toBe('upload');
    },
  );

  it('cuts a 1000-character name to 255 bytes, keeping its extension', () => {
    const name = clean(`${'a'.repeat(1000)}.pdf`);
    expect(utf8Length(name)).toBe(255);
    expect(name).toBe(`${'a'.repeat(251)}.pdf`);
    expect(clean('b'.repeat(1000))).toBe('b'.repeat(255));
  });

  it('cuts multi-byte names between characters', () => {
    const name = clean(`${'é'.repeat(300)}.pdf`);
    expect(utf8Length(name)).toBeLessThanOrEqual(255);
    expect(name).toBe(`${'é'.repeat(125)}.pdf`);
    expect(clean('😀'.repeat(100))).toBe('😀'.repeat(63));
  });

  it('leaves out an emoji sequence that does not fit whole rather than splitting it', () => {
    const family = '👨‍👩‍👧‍👦'; // 25 bytes: four people joined by zero-width joiners
    expect(clean(`${'a'.repeat(240)}${family}.png`)).toBe(`${'a'.repeat(240)}.png`);
    expect(clean(`${'a'.repeat(226)}${family}.png`)).toBe(`${'a'.repeat(226)}${family}.png`);
    const flags = clean('🇫🇷'.repeat(40)); // 8 bytes a flag
    expect(flags).toBe('🇫🇷'.repeat(31));
  });

  it('does not keep an "extension" too long to be one', () => {
    const name = clean(`a.${'b'.repeat(300)}`);
    expect(name).toBe(`a.${'b'.repeat(253)}`);
  });

  it('changes nothing the second time', () => {
    for (const name of ['../x/invoice\u202Efdp.exe', `${'é'.repeat(300)}.pdf`, ' .a\r\nb ']) {
      expect(clean(clean(name))).toBe(clean(name));
    }
  });
});

describe('contentDispositionAttachment and contentDispositionInline', () => {
  it('names a plain file the same way in both parameters', () => {
    expect(contentDispositionAttachment('report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(contentDispositionInline('report.pdf')).toBe(
      `inline; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
  });

  it('replaces quotes and % in the fallback, and percent-encodes them in filename*', () => {
    expect(contentDispositionAttachment('say "hi" 100%.txt')).toBe(
      `attachment; filename="say _hi_ 100_.txt"; filename*=UTF-8''say%20%22hi%22%20100%25.txt`,
    );
  });

  it("percent-encodes RFC 5987's other reserved characters", () => {
    expect(contentDispositionAttachment("it's (1)*.txt")).toBe(
      `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`,
    );
  });

  it('gives non-ASCII names an ASCII fallback and their UTF-8 in filename*', () => {
    expect(contentDispositionAttachment('résumé.pdf')).toBe(
      `attachment; filename="resume.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
    );
    expect(contentDispositionAttachment('発注書.pdf')).toBe(
      `attachment; filename="___.pdf"; filename*=UTF-8''%E7%99%BA%E6%B3%A8%E6%9B%B8.pdf`,
    );
  });

  it('keeps a name with line breaks and a path on one safe header line', () => {
    const value = contentDispositionAttachment('..\\evil\r\nSet-Cookie: a=b.txt');
    expect(value).toBe(
      `attachment; filename="evil Set-Cookie: a=b.txt"; filename*=UTF-8''evil%20Set-Cookie%3A%20a%3Db.txt`,
    );
    expect(new Headers({ 'Content-Disposition': value }).get('Content-Disposition')).toBe(value);
  });

  it('says "download" when nothing of the name is left', () => {
    expect(contentDispositionInline('\u202E')).toBe(
      `inline; filename="download"; filename*=UTF-8''download`,
    );
  });
});
