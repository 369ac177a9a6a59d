import { button, html, layout, type RenderedEmail } from './html.ts';

export function passwordResetEmail(input: { name: string; link: string }): RenderedEmail {
  const subject = 'Reset your password';
  return {
    subject,
    text: `Hi ${input.name},

someone asked to reset the password of your nexus-edge account. To choose a new one, open:

${input.link}

If it was not you, ignore this email: your password stays as it is.
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>someone asked to reset the password of your nexus-edge account.</p>
${button('Choose a new password', input.link)}
<p>Or open this link: <a href="${input.link}">${input.link}</a></p>
<p>If it was not you, ignore this email: your password stays as it is.</p>`,
    ),
  };
}
