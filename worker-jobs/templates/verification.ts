import { button, html, layout, type RenderedEmail } from './html.ts';

export function verificationEmail(input: { name: string; link: string }): RenderedEmail {
  const subject = 'Confirm your email address';
  return {
    subject,
    text: `Hi ${input.name},

please confirm your email address for nexus-edge by opening this link:

${input.link}

If you did not create an account, ignore this email.
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>please confirm your email address for nexus-edge.</p>
${button('Confirm email address', input.link)}
<p>Or open this link: <a href="${input.link}">${input.link}</a></p>
<p>If you did not create an account, ignore this email.</p>`,
    ),
  };
}
