// What a careless or hostile client puts where a value belongs: in a path segment, a query value,
// a header, a JSON field or the whole body. Sizes are bounded so that a request stays under about
// 1 MiB, the Worker's default body limit (a few go just past it, for the 413).
import fc from 'fast-check';
import { hostileSearchTexts } from '../../../support/hostile-search-texts.ts';
import { outsideIds } from './known-ids.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Characters that cost 1 to 4 bytes in UTF-8, and 2 to 6 once escaped in JSON. */
const fillers = ['a', 'é', '漢', '😀', '\u0000', '"', '\\', '<', '\u202e', ' '] as const;

const bytesOf = (text: string) => new TextEncoder().encode(text).byteLength;

/** One filler repeated to about `bytes` bytes once written as a JSON string. */
function hugeText(filler: string, bytes: number): string {
  return filler.repeat(
    Math.max(1, Math.floor(bytes / bytesOf(JSON.stringify(filler).slice(1, -1)))),
  );
}

/** A text of 10 KiB to 900 KiB, as the body of a field. */
export const hugeString = fc
  .tuple(fc.constantFrom(...fillers), fc.integer({ min: 10 * KiB, max: 900 * KiB }))
  .map(([filler, bytes]) => hugeText(filler, bytes));

/** An array of up to 200,000 small items (at most about 800 KiB written). */
export const hugeArray = fc
  .tuple(fc.constantFrom<unknown>(0, 'x', null, {}, []), fc.integer({ min: 1_000, max: 200_000 }))
  .map(([item, count]) => Array.from({ length: count }, () => item));

/** Texts that have broken parsers, databases, templates, logs and terminals. */
const nastyTexts = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uD800',
  '\uDFFFa',
  '\uFEFF',
  '\u202Egnp.exe',
  'e\u0301\u0301\u0301',
  'Z̸̢̛͎͈a̵̡͔l̴̛͈g̸̨̛o',
  '\u2028\u2029',
  '𝕏𝕐😀👩‍👩‍👧',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "1'; SELECT sqlite_version(); --",
  '%',
  '%00',
  '%zz',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '<script>alert(1)</script>',
  '\u0024{jndi:ldap://x/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '9007199254740993',
  'null',
  'true',
  '\r\nX-Injected: 1',
  'a'.repeat(257),
] as const;

/** A short hostile text: from the list, the search texts, or any code points at all. */
export const hostileText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<string>(...nastyTexts) },
  { weight: 1, arbitrary: fc.constantFrom(...hostileSearchTexts.map(({ text }) => text)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);

/** Any JSON value of the wrong kind for a field: a stand-in for each type and its edges. */
export const wrongTypeValue = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -1e308, '', [], {}, [null], {
    '': '',
  }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  hostileText,
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** Keys a handler should never take from a body: prototype keys, ownership, roles, timestamps. */
export const extraKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'id',
    'ownerId',
    'userId',
    'role',
    'isAdmin',
    'emailVerified',
    'deletedAt',
    'createdAt',
    'passwordHash',
    '',
    'k'.repeat(1_000),
  ),
  fc.string({ maxLength: 12 }),
);

const deep = (open: string, inner: string, close: string, levels: number) =>
  open.repeat(levels) + inner + close.repeat(levels);

/** Whole bodies that are not the JSON a schema wants, or not JSON at all. */
export const hostileJsonText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'null',
    'true',
    '0',
    '-0',
    '"text"',
    '[]',
    '{}',
    '{',
    '}',
    '{"a":1,}',
    "{'a':1}",
    '{"a":NaN}',
    '{"a":1e999}',
    '{"a":-}',
    '{"a":01}',
    '\uFEFF{}',
    '{}{}',
    '{} trailing',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"a":"\u0000"}',
    '{"name":"a","name":1}',
    '{"__proto__":{"isAdmin":true,"role":"admin"}}',
    '{"constructor":{"prototype":{"role":"admin"}}}',
    '[{"__proto__":null}]',
    '9'.repeat(400),
    `{"a":${'9'.repeat(400)}}`,
    '{"a":"\\x41"}',
    '/* comment */ {}',
    '\u2028{}',
  ),
  // Ten thousand levels of nesting, closed and not: a recursive reader overflows its stack.
  fc.constantFrom(
    deep('[', '', ']', 10_000),
    '['.repeat(10_000),
    deep('{"a":', '1', '}', 10_000),
    '{"a":'.repeat(10_000),
    deep('[{"a":', '0', '}]', 5_000),
  ),
  fc.integer({ min: 1_000, max: 100_000 }).map((count) => `[${'1,'.repeat(count)}1]`),
  fc
    .integer({ min: 10 * KiB, max: 900 * KiB })
    .map((size) => `${' '.repeat(size)}{}${'\n'.repeat(64)}`),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** Bodies that are not UTF-8 text or are cut off: bytes as sent. */
export const hostileBytes = fc.oneof(
  fc.constantFrom(
    Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d),
    Uint8Array.of(0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d),
    Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d),
    Uint8Array.of(0x00, 0x00, 0x00, 0x00),
    new Uint8Array(Buffer.from('{"name":"utf-16"}', 'utf16le')),
    Uint8Array.of(0x1f, 0x8b, 0x08, 0x00),
  ),
  fc.uint8Array({ maxLength: 4 * KiB }),
);

/** Past the default body limit by a little: the 413 before anything reads the body. */
export const oversizedJson = fc
  .integer({ min: MiB + 1, max: MiB + 64 * KiB })
  .map((size) => `{"name":"${'a'.repeat(size)}"}`);

/** Where a path parameter goes: as the client writes it in the URL, already percent-encoded. */
export const hostileSegment = fc.oneof(
  fc.constantFrom(
    '',
    '%20',
    '0',
    '-1',
    '1',
    '99999999999999999999',
    '1e309',
    '0x10',
    '..%2F..%2Fetc%2Fpasswd',
    '..%2f',
    '%2e%2e',
    '%00',
    'a%00b',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '%u0041',
    '%252e%252e',
    ';',
    ';jsessionid=1',
    '%3Fa=1',
    '%23',
    '*',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '00000000-0000-0000-0000-000000000000',
    'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
    '{id}',
    ':id',
  ),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.uuid().map((id) => `${id}%20`),
  fc.uuid().map((id) => `${id}x`),
  fc.integer().map(String),
  fc.integer({ min: 1_000, max: 8_000 }).map((length) => 'a'.repeat(length)),
  fc.integer({ min: 200, max: 1_000 }).map((length) => '%F0%9F%98%80'.repeat(length)),
  hostileText.map(encodeText),
);

/** Where a query value goes: wrong types, huge, unicode, nothing. Percent-encoded. */
export const hostileQueryValue = fc.oneof(
  fc.constantFrom('', 'abc', '-1', '0', '1.5', '1e309', 'NaN', 'true', '[]', '{}', '%', '%00', '+'),
  fc.integer().map(String),
  fc.integer({ min: 1_000, max: 8_000 }).map((length) => 'x'.repeat(length)),
  hostileText.map(encodeText),
);

/** A query parameter nobody declared. */
export const unknownQueryName = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'toString', 'foo', 'limit[]', 'a[b]', '', '%00'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }).map(encodeText),
);

/**
 * Percent-encodes any text but the known-id placeholders in it, which are put in place when the
 * request is sent. A lone surrogate, which no URL can carry, becomes U+FFFD, as a browser writes it.
 */
export function encodeText(text: string): string {
  return outsideIds(text, (part) => encodeURIComponent(part.replace(/\p{Cs}/gu, '\uFFFD')));
}

/**
 * A header value as HTTP can carry it: Latin-1 without control characters, which is all a fetch
 * client lets through; anything else becomes `?`.
 */
export function headerText(text: string): string {
  return text.replace(/[^\t\x20-\x7E\x80-\xFF]/g, '?');
}

const base64Url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that look like ours and are not: unsigned, signed by nobody, malformed, huge. */
const forgedTokens = [
  `${base64Url({ alg: 'none', typ: 'JWT' })}.${base64Url({ sub: 'x', role: 'admin' })}.`,
  `${base64Url({ alg: 'HS256', kid: '../../etc/passwd' })}.${base64Url({ sub: 'x' })}.c2ln`,
  `${base64Url({ alg: 'RS256', kid: 'e2e-2026-05' })}.${base64Url({ sub: 'x' })}.c2ln`,
  `${base64Url({ alg: 'HS256', kid: 'e2e-2026-05' })}.e30.AAAA`,
  `${base64Url({ alg: 'HS256' })}.${base64Url({ exp: 1e300 })}.AAAA`,
  'a.b.c',
  '...',
  'eyJ',
  'not-a-token',
  'A'.repeat(8_000),
];

/** An Authorization header that is no credential of ours. */
export const junkAuthorization = fc.oneof(
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Basic YWRtaW46YWRtaW4=',
    'Digest username="admin"',
    'Bearer a b',
    'bearer not-a-token',
    'Bearer\tnot-a-token',
    'Bearer ÿÿÿÿ',
  ),
  fc.constantFrom(...forgedTokens).map((token) => `Bearer ${token}`),
  hostileText.map((text) => headerText(`Bearer ${text}`)),
);

/** An X-API-Key that is no key of ours. */
export const junkApiKey = fc.oneof(
  fc.constantFrom('sk_', 'sk_0', 'pk_test', 'k'.repeat(5_000), ' sk_x'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((text) => `sk_${text}`),
  hostileText.map(headerText),
);

const traceparents = [
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  '00-00000000000000000000000000000000-0000000000000000-01',
  'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra',
  '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
  '00-xyz-00f067aa0ba902b7-01',
  `00-${'a'.repeat(5_000)}`,
];

const cookies = [
  '__Host-session=not-a-token',
  '__Host-session=; __Host-session=x',
  '__Host-refresh=x; __Host-csrf=x',
  '__Host-csrf=token',
  'session=x; refresh=y; csrf=z',
  '=;=;=',
  '__Host-session=%E0%A4%A',
  `__Host-session=${'s'.repeat(8_000)}`,
  '; ; ;',
];

/**
 * One header a client should not send, or should not send like this. Junk credentials are the
 * junk credential's (requests.ts): here they would stand beside most valid ones and refuse them.
 */
export const oddHeader: fc.Arbitrary<[string, string]> = fc.oneof(
  fc
    .oneof(
      fc.uuid(),
      fc.constantFrom('', ' ', 'fuzz-shared-key', 'fuzz-shared-key-2', 'é', 'k'.repeat(300)),
    )
    .map((value): [string, string] => ['Idempotency-Key', value]),
  fc.constantFrom(...traceparents).map((value): [string, string] => ['traceparent', value]),
  fc
    .constantFrom('a=b', 'k'.repeat(600), ',,,', '=')
    .map((value): [string, string] => ['tracestate', value]),
  fc.constantFrom(...cookies).map((value): [string, string] => ['Cookie', value]),
  hostileText.map((text): [string, string] => ['X-CSRF-Token', headerText(text)]),
  fc
    .oneof(fc.constantFrom('', 'r'.repeat(2_000), 'a b', '../'), hostileText.map(headerText))
    .map((value): [string, string] => ['X-Request-Id', value]),
  fc
    .constantFrom('https://evil.example', 'null', 'file://', '*')
    .map((value): [string, string] => ['Origin', value]),
  fc
    .constantFrom('text/html', 'application/xml', '*/*', 'application/json;q=0', '')
    .map((value): [string, string] => ['Accept', value]),
  fc
    .constantFrom('gzip', 'br', 'deflate', 'compress', 'x-unknown')
    .map((value): [string, string] => ['Content-Encoding', value]),
  fc
    .constantFrom('bytes=0-10', 'bytes=abc', 'bytes=999999999-', 'bytes=5-1', 'items=0-1')
    .map((value): [string, string] => ['Range', value]),
  fc
    .constantFrom('*', '"junk"', 'W/"x"', '')
    .map((value): [string, string] => ['If-None-Match', value]),
  fc
    .constantFrom('DELETE', 'PUT', 'PROPFIND')
    .map((value): [string, string] => ['X-HTTP-Method-Override', value]),
  fc
    .constantFrom('1.2.3.4', 'unknown', '::1, 10.0.0.1', '')
    .map((value): [string, string] => ['X-Forwarded-For', value]),
  fc
    .constantFrom('PATCH', 'DELETE', 'X-API-Key', '*')
    .map((value): [string, string] => ['Access-Control-Request-Method', value]),
  fc
    .constantFrom(...['Upstash-Signature', 'X-Signature', 'webhook-signature', 'X-Timestamp'])
    .chain((name) => hostileText.map((text): [string, string] => [name, headerText(text)])),
);
