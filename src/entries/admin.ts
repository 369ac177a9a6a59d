// `npm run admin -- <command>`: the routine work of running a deployment, from a shell with the
// deployment's own variables and no session: an administrator made or promoted, API keys listed
// and revoked, dead jobs inspected, requeued or deleted, the schedules synced, a partner's secret
// rotated. Each command calls its module's service, as the API's routes do, so the same rules,
// audit rows and cache clearing apply; the commands themselves are in admin/. Exits 0 when done,
// 1 when refused or failed (the message says why), 2 when the command line makes no sense.
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { AppError } from '../lib/errors.ts';
import { createAdminCommand, listApiKeysCommand, revokeApiKeyCommand } from './admin/accounts.ts';
import {
  type AdminContext,
  type Command,
  CommandFailed,
  type CommandInput,
  columns,
  UsageError,
} from './admin/cli.ts';
import { adminConfig, adminContext, backendVariables } from './admin/environment.ts';
import {
  deleteDeadJobCommand,
  listDeadJobsCommand,
  requeueDeadJobCommand,
  showDeadJobCommand,
  syncSchedulesCommand,
} from './admin/jobs.ts';
import { rotatePartnerSecretCommand } from './admin/partners.ts';

const commands: readonly Command[] = [
  createAdminCommand,
  listApiKeysCommand,
  revokeApiKeyCommand,
  listDeadJobsCommand,
  showDeadJobCommand,
  requeueDeadJobCommand,
  deleteDeadJobCommand,
  syncSchedulesCommand,
  rotatePartnerSecretCommand,
];

const run = 'npm run admin --';

const commandList = (shown: readonly Command[]) =>
  columns(
    shown.map((command) => [
      `  ${[command.name, ...command.arguments].join(' ')}`,
      command.summary,
    ]),
  );

const usage = `Usage: ${run} <command> [arguments] [options]

Routine administration of a deployment from a shell, with the deployment's own variables: no
session or API key. Each command applies the API's own rules, audit log and cache clearing.

Commands:
${commandList(commands)}

Options of every command:
  --json        Print the answer as JSON, for scripts (messages still go to stderr)
  -h, --help    Show this help, or a command's: ${run} dlq requeue --help

Configuration: the API's variables (docs/configuration.md), read from the environment with the
API's defaults. When none of ${backendVariables.join(', ')} is set and
APP_ENV is not production, the defaults are npm run dev's: its local stack on the fixed ports and
its development keys, so with npm run dev running no variable is needed. Against a deployment,
export its variables as the API has them, and APP_ENV=production so that nothing falls back.

Exit status: 0 done, 1 refused or failed (the message says why), 2 a usage error.

Examples:
  ${run} create-admin --email ops@example.com --name "Ops Team" < password.txt
  ${run} api-keys list --user grace@example.com
  ${run} dlq list --json | jq -r '.items[].id'
  ${run} partners rotate-secret 7d9f0c2e-4b1a-4c3d-8e5f-6a7b8c9d0e1f --grace 48h
`;

const helpOf = (command: Command) =>
  `Usage: ${run} ${command.synopsis} [--json]\n\n${command.summary}.\n\n${command.help}\n`;

const isHelp = (word: string | undefined) => word === '--help' || word === '-h';

function usageError(message: string, command?: Command): 2 {
  const how =
    command === undefined
      ? `Run \`${run} --help\` for the commands.`
      : `Usage: ${run} ${command.synopsis}\nRun \`${run} ${command.name} --help\` for more.`;
  console.error(`admin: ${message}\n${how}`);
  return 2;
}

/** A command line naming no command: a group's name alone, a misspelling, an option first. */
function noCommand(first: string, second: string | undefined): number {
  const group = commands.filter((command) => command.name.startsWith(`${first} `));
  if (group.length === 0) {
    return usageError(
      first.startsWith('-')
        ? `the command comes first: ${run} <command> [options]`
        : `unknown command "${first}"`,
    );
  }
  if (isHelp(second)) {
    process.stdout.write(`Usage: ${run} ${first} <command>\n\n${commandList(group)}\n`);
    return 0;
  }
  const names = group.map((command) => command.name.slice(first.length + 1)).join(', ');
  return usageError(
    second === undefined
      ? `${first} needs a command: ${names}`
      : `unknown command "${first} ${second}"; ${first} has ${names}`,
  );
}

const localStackHint =
  `\n(none of ${backendVariables.join(', ')} is set, so this used npm run dev's local stack: ` +
  'is npm run dev running?)';

function failureOf(command: Command, error: unknown, usesLocalStack: boolean): string {
  if (error instanceof CommandFailed) return error.message;
  if (error instanceof ConfigError) {
    // A variable that is simply missing is said so plainly; a malformed one gets the schema's words.
    const unset = error.variables.filter((name) => !process.env[name]);
    const problem =
      unset.length === error.variables.length
        ? `${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set`
        : error.message;
    return `${problem}\nSet the API's variables in the environment (docs/configuration.md).`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const reason = error instanceof AppError ? message : `${command.name} failed: ${message}`;
  return usesLocalStack ? `${reason}${localStackHint}` : reason;
}

async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === undefined) {
    process.stderr.write(usage);
    return 2;
  }
  if (isHelp(first)) {
    process.stdout.write(usage);
    return 0;
  }
  const command =
    commands.find((candidate) => candidate.name === `${first} ${second}`) ??
    commands.find((candidate) => candidate.name === first);
  if (command === undefined) return noCommand(first, second);

  let parsed: { values: CommandInput['values']; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv.slice(command.name.split(' ').length),
      options: {
        ...command.options,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error), command);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(helpOf(command));
    return 0;
  }
  const missing = command.arguments[positionals.length];
  if (missing !== undefined) return usageError(`missing ${missing}`, command);
  const extra = positionals[command.arguments.length];
  if (extra !== undefined) return usageError(`unexpected argument "${extra}"`, command);

  let usesLocalStack = false;
  let context: Promise<AdminContext> | undefined;
  const connect = () => {
    context ??= adminConfig(process.env).then((found) => {
      usesLocalStack = found.usesLocalStack;
      return adminContext(found.config);
    });
    return context;
  };
  try {
    const answer = await command.run({ args: positionals, values, context: connect });
    console.log(values.json === true ? JSON.stringify(answer.json, null, 2) : answer.text);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, command);
    console.error(`admin: ${failureOf(command, error, usesLocalStack)}`);
    return 1;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
