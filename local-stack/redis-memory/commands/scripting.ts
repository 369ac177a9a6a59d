import type { RedisReply } from '../../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { isError, NOT_INTEGER, SYNTAX_ERROR, wrongArity } from '../errors.ts';
import { parseInteger } from '../numbers.ts';

function splitKeys(args: Buffer[]): { keys: Buffer[]; argv: Buffer[] } | RedisErrorReply {
  const count = parseInteger(arg(args, 2));
  if (count === null) return NOT_INTEGER;
  if (count < 0) return new RedisErrorReply("ERR Number of keys can't be negative");
  if (count > args.length - 3) {
    return new RedisErrorReply("ERR Number of keys can't be greater than number of args");
  }
  return { keys: args.slice(3, 3 + count), argv: args.slice(3 + count) };
}

function evalCommand(bySha: boolean, readOnly: boolean) {
  return (context: CommandContext, args: Buffer[]): RedisReply => {
    const split = splitKeys(args);
    if (isError(split)) return split;
    const script = arg(args, 1);
    return bySha
      ? context.scripts.evalsha(script.toString('latin1'), split.keys, split.argv, readOnly)
      : context.scripts.eval(script, split.keys, split.argv, readOnly);
  };
}

function script(context: CommandContext, args: Buffer[]): RedisReply {
  const subcommand = optionName(args[1]);
  const rest = args.slice(2);
  switch (subcommand) {
    case 'LOAD': {
      if (rest.length !== 1) return wrongArity('script|load');
      const loaded = context.scripts.load(arg(args, 2));
      return isError(loaded) ? loaded : Buffer.from(loaded.sha);
    }
    case 'EXISTS':
      if (rest.length === 0) return wrongArity('script|exists');
      return rest.map((sha) => (context.scripts.exists(sha.toString('latin1')) ? 1 : 0));
    case 'FLUSH': {
      const mode = optionName(rest[0]);
      if (rest.length > 1 || (rest.length === 1 && mode !== 'ASYNC' && mode !== 'SYNC')) {
        return SYNTAX_ERROR;
      }
      context.scripts.flush();
      return new RedisStatusReply('OK');
    }
    default:
      return new RedisErrorReply(
        `ERR unknown subcommand '${arg(args, 1).toString('latin1')}'. Try SCRIPT HELP.`,
      );
  }
}

export const scriptingCommands: CommandTable = {
  eval: { arity: -3, write: true, noScript: true, run: evalCommand(false, false) },
  evalsha: { arity: -3, write: true, noScript: true, run: evalCommand(true, false) },
  eval_ro: { arity: -3, write: false, noScript: true, run: evalCommand(false, true) },
  evalsha_ro: { arity: -3, write: false, noScript: true, run: evalCommand(true, true) },
  script: { arity: -2, write: false, noScript: true, run: script },
};
