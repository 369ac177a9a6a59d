// Just enough MIME to read a message as a person would: its headers (decodeEncodedWords undoes
// RFC 2047 encoded words) and its text/plain and text/html parts, wherever they sit in a multipart
// message, decoded from quoted-printable or base64 in their charset. The mailbox page and the tests'
// SMTP inbox both read mail with it; everything else in the message is left alone.
export interface MailSummary {
  from: string;
  to: string;
  subject: string;
  date: string;
  messageId: string;
  /** The text/plain body; empty when the message has none. */
  text: string;
}

export interface ParsedMessage {
  /** Names in lower case, folded lines unfolded, the first of a repeated header; values as sent. */
  headers: Record<string, string>;
  /** The first text/plain part, decoded; undefined when the message has none. */
  text?: string;
  /** The first text/html part, decoded; undefined when the message has none. */
  html?: string;
}

type Headers = Map<string, string>;

/** A message or one of its parts, its header values and body one character per byte. */
interface Part {
  headers: Headers;
  body: string;
}

function splitMessage(raw: string): Part {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers: Headers = new Map();
  // A line that starts with white space continues the header above it.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function parameter(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** The message is read as latin1, one character per byte; this gets the bytes back. */
function bytesOf(latin1: string): Uint8Array {
  return Uint8Array.from(latin1, (character) => character.charCodeAt(0));
}

function decodeText(bytes: Uint8Array, charset = 'utf-8'): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}

function quotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
}

function decodeBody(body: string, encoding: string, charset: string | undefined): string {
  const transfer = encoding.trim().toLowerCase();
  const latin1 =
    transfer === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('latin1')
      : transfer === 'quoted-printable'
        ? quotedPrintable(body)
        : body;
  return decodeText(bytesOf(latin1), charset);
}

/** `=?utf-8?Q?Jos=C3=A9?=` → `José`; white space between two encoded words is dropped. */
export function decodeEncodedWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(
      /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g,
      (_, charset: string, kind: string, data: string) => {
        const latin1 =
          kind.toUpperCase() === 'B'
            ? Buffer.from(data, 'base64').toString('latin1')
            : quotedPrintable(data.replace(/_/g, ' '));
        return decodeText(bytesOf(latin1), charset);
      },
    );
}

const contentType = (part: Part) => part.headers.get('content-type') ?? 'text/plain';

const mediaType = (part: Part) => contentType(part).split(';')[0]?.trim().toLowerCase() ?? '';

/** The parts that are not multipart containers, in order, containers opened recursively. */
function leafParts(part: Part): Part[] {
  if (!mediaType(part).startsWith('multipart/')) return [part];
  const boundary = parameter(contentType(part), 'boundary');
  if (boundary === undefined) return [];
  return part.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((section) => !section.startsWith('--'))
    .flatMap((section) => leafParts(splitMessage(section.replace(/^\r?\n/, ''))));
}

/** Parses a raw message, given as received or as read from its .eml file. */
export function parseMessage(raw: Buffer): ParsedMessage {
  const message = splitMessage(raw.toString('latin1'));
  const leaves = leafParts(message);
  const decoded = (type: string) => {
    const part = leaves.find((leaf) => mediaType(leaf) === type);
    return (
      part &&
      decodeBody(
        part.body,
        part.headers.get('content-transfer-encoding') ?? '7bit',
        parameter(contentType(part), 'charset'),
      )
    );
  };
  const text = decoded('text/plain');
  const html = decoded('text/html');
  return {
    headers: Object.fromEntries(
      [...message.headers].map(([name, value]) => [name, decodeText(bytesOf(value))]),
    ),
    ...(text !== undefined && { text }),
    ...(html !== undefined && { html }),
  };
}

/** Summarises a raw message, given as read from its .eml file. */
export function summarise(raw: Buffer): MailSummary {
  const { headers, text } = parseMessage(raw);
  const header = (name: string) => decodeEncodedWords(headers[name] ?? '');
  return {
    from: header('from'),
    to: header('to'),
    subject: header('subject'),
    date: header('date'),
    messageId: header('message-id'),
    text: (text ?? '').replace(/\r\n/g, '\n').trimEnd(),
  };
}
