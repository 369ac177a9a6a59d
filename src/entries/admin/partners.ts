// Partners from the command line: a new signing secret, as POST /v1/admin/partners/{id}/secrets
// issues one (src/modules/partners/partners.service.ts), audited with no actor.
import { createPartnersRepository } from '../../modules/partners/partners.repository.ts';
import { defaultGraceHours, maxGraceHours } from '../../modules/partners/partners.schemas.ts';
import { rotateSecret } from '../../modules/partners/partners.service.ts';
import { type Command, orNotFound, shownTime, stringValue, UsageError } from './cli.ts';

const hoursPerUnit = { h: 1, d: 24 } as const;

/** `24h`, `2d` or `0`, as whole hours within the API's bounds. */
function graceHoursOf(text: string): number {
  const match = /^(\d+)([hd])$/.exec(text);
  const hours =
    text === '0'
      ? 0
      : match === null
        ? Number.NaN
        : Number(match[1]) * hoursPerUnit[match[2] as keyof typeof hoursPerUnit];
  if (!(hours >= 0 && hours <= maxGraceHours)) {
    throw new UsageError(
      `--grace must be hours or days up to ${maxGraceHours}h, e.g. 24h, 2d or 0, not "${text}"`,
    );
  }
  return hours;
}

export const rotatePartnerSecretCommand: Command = {
  name: 'partners rotate-secret',
  arguments: ['PARTNER_ID'],
  options: { grace: { type: 'string' } },
  synopsis: 'partners rotate-secret PARTNER_ID [--grace 24h]',
  summary: "Issue a partner's new signing secret, printed once",
  help: `Issues a new signing secret for the partner, in its scheme's format, and prints it this
once: only its sealed form is kept. The partner's other secrets keep verifying for the grace
period, so it can switch without a refused delivery; 0 ends them now (a leaked secret), and then
the API's cached copy is cleared before this answers.

Options:
  --grace G     How long the other secrets keep verifying: hours or days up to ${maxGraceHours}h, e.g.
                24h, 2d, or 0 (default ${defaultGraceHours}h)

Examples:
  npm run admin -- partners rotate-secret 7d9f0c2e-4b1a-4c3d-8e5f-6a7b8c9d0e1f
  npm run admin -- partners rotate-secret 7d9f0c2e-4b1a-4c3d-8e5f-6a7b8c9d0e1f --grace 0 --json`,
  async run(input) {
    const [partnerId = ''] = input.args;
    const grace = stringValue(input, 'grace');
    const graceHours = grace === undefined ? defaultGraceHours : graceHoursOf(grace);
    const { deps, config, cache } = await input.context();
    const secret = await orNotFound(
      rotateSecret(
        { partners: createPartnersRepository(deps.db), clock: deps.clock, config, cache },
        null,
        partnerId,
        graceHours,
      ),
      `no active partner ${partnerId}`,
    );
    const othersExpireAt = new Date(
      new Date(secret.createdAt).getTime() + graceHours * 3_600_000,
    ).toISOString();
    const others =
      graceHours === 0
        ? 'its other secrets stopped verifying now'
        : `its other secrets verify until ${shownTime(othersExpireAt)} at the latest (${graceHours}h)`;
    return {
      json: { partnerId, ...secret, graceHours, othersExpireAt },
      text:
        `new secret for partner ${partnerId}, shown this once:\n  ${secret.secret}\n` +
        `secret id ${secret.id}, ending in ${secret.hint}; ${others}`,
    };
  },
};
