// The mailbox page: every message, newest first, with its text body. Everything shown comes from
// mail anyone could send, so all of it is escaped; only http(s) URLs become links.
import { escapeHtml } from '../../src/lib/html.ts';
import type { MailSummary } from './mime.ts';

export interface StoredMail extends MailSummary {
  /** The .eml file's name in the mailbox folder. */
  file: string;
}

// Punctuation that ends a sentence is not part of the URL before it.
const urlPattern = /https?:\/\/[^\s<>"']+?(?=[.,;:!?)\]]*(?:\s|$|[<>"']))/g;

/** Escapes the text and turns each http(s) URL in it into a link. */
export function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(urlPattern)) {
    const url = match[0];
    out += escapeHtml(text.slice(last, match.index));
    out += `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${escapeHtml(url)}</a>`;
    last = match.index + url.length;
  }
  return out + escapeHtml(text.slice(last));
}

function messageHtml(mail: StoredMail): string {
  return `<article>
<h2>${escapeHtml(mail.subject || '(no subject)')}</h2>
<dl>
<dt>From</dt><dd>${escapeHtml(mail.from)}</dd>
<dt>To</dt><dd>${escapeHtml(mail.to)}</dd>
<dt>Date</dt><dd>${escapeHtml(mail.date)}</dd>
</dl>
<pre>${linkify(mail.text || '(no text part)')}</pre>
<p class="raw"><a href="/messages/${encodeURIComponent(mail.file)}">${escapeHtml(mail.file)}</a></p>
</article>`;
}

export function mailboxPage(mails: StoredMail[], folder: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nexus-edge mailbox (${mails.length})</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 56rem; padding: 0 1rem; color: #1f2328; }
article { border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
dl { display: grid; grid-template-columns: 4rem 1fr; margin: 0; color: #656d76; font-size: .9rem; }
dd { margin: 0; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .75rem; border-radius: 6px; }
.raw { font-size: .8rem; margin: 0; }
</style>
</head>
<body>
<h1>Mailbox</h1>
<p>${mails.length} message(s) in <code>${escapeHtml(folder)}</code>, newest first. Reload for new mail.</p>
${mails.map(messageHtml).join('\n')}
</body>
</html>
`;
}
