import { html, layout, type RenderedEmail } from './html.ts';

export function passwordChangedEmail(input: { name: string; appUrl: string }): RenderedEmail {
  const subject = 'Your password was changed';
  return {
    subject,
    text: `Hi ${input.name},

the password of your nexus-edge account was just changed, and every other session was signed out.

If it was not you, reset your password at once from ${input.appUrl} and contact us.
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>the password of your nexus-edge account was just changed, and every other session was signed out.</p>
<p>If it was not you, reset your password at once from <a href="${input.appUrl}">${input.appUrl}</a> and contact us.</p>`,
    ),
  };
}
