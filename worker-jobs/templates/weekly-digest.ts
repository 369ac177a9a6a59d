import { button, html, layout, type RenderedEmail } from './html.ts';

export interface DigestInput {
  name: string;
  weekOf: string;
  stats: { newUsers: number; activeApiKeys: number };
  appUrl: string;
}

export function weeklyDigestEmail(input: DigestInput): RenderedEmail {
  const subject = `Your nexus-edge week of ${input.weekOf}`;
  const { newUsers, activeApiKeys } = input.stats;
  return {
    subject,
    text: `Hi ${input.name},

the week of ${input.weekOf} on nexus-edge:

  New users:        ${newUsers}
  Active API keys:  ${activeApiKeys}

${input.appUrl}
`,
    html: layout(
      subject,
      html`<p>Hi ${input.name},</p>
<p>the week of ${input.weekOf} on nexus-edge:</p>
<table style="border-collapse:collapse">
<tr><td style="padding:4px 16px 4px 0">New users</td><td><strong>${newUsers}</strong></td></tr>
<tr><td style="padding:4px 16px 4px 0">Active API keys</td><td><strong>${activeApiKeys}</strong></td></tr>
</table>
${button('Open nexus-edge', input.appUrl)}`,
    ),
  };
}
