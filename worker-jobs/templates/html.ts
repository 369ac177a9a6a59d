// HTML for emails, escaped by construction: `html` escapes every interpolated value unless it is
// already HTML built the same way, so a name like `<script>` arrives as text, never as markup.
import { escapeHtml } from '../../src/lib/html.ts';
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

function fragment(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(fragment).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  return new SafeHtml(
    strings.reduce(
      (out, part, index) => out + part + (index < values.length ? fragment(values[index]) : ''),
      '',
    ),
  );
}

export function button(label: string, url: string): SafeHtml {
  return html`<p style="margin:24px 0"><a href="${url}" style="background:#1f6feb;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${label}</a></p>`;
}

/** The one page every email's HTML part is: inline styles only, as mail clients drop <style>. */
export function layout(title: string, content: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>
<body style="margin:0;padding:24px;background:#f6f8fa;font-family:system-ui,sans-serif;color:#1f2328">
<div style="max-width:560px;margin:0 auto;background:#fff;padding:32px;border-radius:8px">
<h1 style="font-size:20px;margin:0 0 16px">${title}</h1>
${content}
<p style="margin-top:32px;color:#656d76;font-size:12px">nexus-edge</p>
</div>
</body>
</html>
`.value;
}
