// Just enough MIME to show a message on the mailbox page: the headers a list needs (with RFC 2047
// encoded words decoded) and the text/plain part, wherever it sits in a multipart message, decoded
// from quoted-printable or base64. Everything else in the message is left alone.
export interface MailSummary {
  from: string;
  to: string;
  subject: string;
  date: string;
  messageId: string;
  /** The text/plain body; empty when the message has none. */
  text: string;
}

type Headers = Map<string, string>;

function splitMessage(raw: string): { headers: Headers; body: string } {
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

function textPart(headers: Headers, body: string): string | undefined {
  const type = headers.get('content-type') ?? 'text/plain';
  const mediaType = type.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType.startsWith('multipart/')) {
    const boundary = parameter(type, 'boundary');
    if (boundary === undefined) return undefined;
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const inner = splitMessage(part.replace(/^\r?\n/, ''));
      const text = textPart(inner.headers, inner.body);
      if (text !== undefined) return text;
    }
    return undefined;
  }
  if (mediaType !== 'text/plain') return undefined;
  return decodeBody(
    body,
    headers.get('content-transfer-encoding') ?? '7bit',
    parameter(type, 'charset'),
  );
}

/** Summarises a raw message, given as read from its .eml file. */
export function summarise(raw: Buffer): MailSummary {
  const { headers, body } = splitMessage(raw.toString('latin1'));
  const header = (name: string) => decodeEncodedWords(decodeText(bytesOf(headers.get(name) ?? '')));
  return {
    from: header('from'),
    to: header('to'),
    subject: header('subject'),
    date: header('date'),
    messageId: header('message-id'),
    text: (textPart(headers, body) ?? '').replace(/\r\n/g, '\n').trimEnd(),
  };
}
