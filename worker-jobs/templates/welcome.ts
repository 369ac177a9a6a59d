import { button, html, layout, type RenderedEmail } from './html.ts';

// Sent at registration, before the address is confirmed: it says so, and points at the other
// email, whose link confirms the address.
export function welcomeEmail(input: { name: string; appUrl: string }): RenderedEmail {
  const subject = 'Welcome to nexus-edge';
  return {
    subject,
    text: `Hi ${input.name},

your nexus-edge account is ready:

${input.appUrl}

One step is left: confirm your email address with the link in the separate email we have just
sent ("Confirm your email address"). Until then you can sign in, but not create API keys.
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>your nexus-edge account is ready.</p>
${button('Open nexus-edge', input.appUrl)}
<p>One step is left: confirm your email address with the link in the separate email we have just
sent (&ldquo;Confirm your email address&rdquo;). Until then you can sign in, but not create API
keys.</p>`,
    ),
  };
}
