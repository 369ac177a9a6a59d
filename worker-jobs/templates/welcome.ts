import { button, html, layout, type RenderedEmail } from './html.ts';

export function welcomeEmail(input: { name: string; appUrl: string }): RenderedEmail {
  const subject = 'Welcome to nexus-edge';
  return {
    subject,
    text: `Hi ${input.name},

your email address is confirmed and your nexus-edge account is ready:

${input.appUrl}
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>your email address is confirmed and your nexus-edge account is ready.</p>
${button('Open nexus-edge', input.appUrl)}`,
    ),
  };
}
