// Names clients give their files, made safe to keep and to send back: no path to climb out of a
// folder with, nothing invisible, nothing that reorders the text on screen (`invoice\u202Efdp.exe`
// shows as `invoiceexe.pdf`), at most 255 UTF-8 bytes (what file systems and object stores take),
// and a Content-Disposition every browser reads the same way.

const maxNameBytes = 255;

/** Past this, what follows the last dot is no extension worth keeping whole when cutting. */
const maxExtensionBytes = 16;

const encoder = new TextEncoder();
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * The last segment of `name` (after any `/` or `\`) in NFC, without control characters (C0, DEL,
 * C1, each seen as a space), bidi controls, lone surrogates or leading dots, its whitespace
 * collapsed, cut to 255 UTF-8 bytes between characters as they are shown (keeping a short
 * extension); `fallback` when nothing is left.
 */
export function sanitizeFileName(name: string | undefined, fallback: string): string {
  const clean = (name ?? '')
    .normalize('NFC')
    .replace(/^.*[/\\]/su, '')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/[\p{Bidi_Control}\p{Cs}]/gu, '')
    .replace(/\s+/gu, ' ')
    .replace(/^[.\s]+/u, '')
    .trimEnd();
  const bounded = withinBytes(clean, maxNameBytes);
  return bounded === '' ? fallback : bounded;
}

function withinBytes(name: string, maxBytes: number): string {
  if (utf8Length(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const kept = utf8Length(extension) <= maxExtensionBytes ? extension : '';
  const stem = cutToBytes(name.slice(0, name.length - kept.length), maxBytes - utf8Length(kept));
  return stem === '' ? '' : stem + kept;
}

/** The longest start of `text` within `maxBytes` that splits no character as it is shown. */
function cutToBytes(text: string, maxBytes: number): string {
  let kept = '';
  let size = 0;
  for (const { segment } of graphemes.segment(text)) {
    size += utf8Length(segment);
    if (size > maxBytes) break;
    kept += segment;
  }
  return kept.trimEnd();
}

/** `Content-Disposition` for a download saved under `name` (sanitized here). */
export function contentDispositionAttachment(name: string): string {
  return contentDisposition('attachment', name);
}

/** `Content-Disposition` for content the browser may show, saved under `name` if it is saved. */
export function contentDispositionInline(name: string): string {
  return contentDisposition('inline', name);
}

// RFC 6266: browsers take `filename*` (RFC 5987, UTF-8 percent-encoded); `filename` is for the few
// that do not.
function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  const safe = sanitizeFileName(name, 'download');
  return `${type}; filename="${asciiFallback(safe)}"; filename*=UTF-8''${extValue(safe)}`;
}

/**
 * Accents dropped (é → e); any other character outside printable ASCII, the quote and backslash
 * (which would end or escape the quoted string) and `%` (which some clients decode) become `_`.
 */
function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7E]|["\\%]/gu, '_');
}

/** RFC 5987 attr-chars stay, every other byte is percent-encoded. */
function extValue(name: string): string {
  return encodeURIComponent(name).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
