import { RedisStatusReply } from '../../redis-rest/backend.ts';
import { arg, type CommandContext, type CommandTable, optionName } from '../command.ts';
import { SYNTAX_ERROR, wrongArity } from '../errors.ts';

function flush(context: CommandContext, args: Buffer[]) {
  const mode = optionName(args[1]);
  if (args.length > 2 || (args.length === 2 && mode !== 'ASYNC' && mode !== 'SYNC')) {
    return SYNTAX_ERROR;
  }
  context.keyspace.clear();
  return new RedisStatusReply('OK');
}

export const serverCommands: CommandTable = {
  ping: {
    arity: -1,
    write: false,
    run: (_context, args) => {
      if (args.length > 2) return wrongArity('ping');
      return args[1] ?? new RedisStatusReply('PONG');
    },
  },
  echo: { arity: 2, write: false, run: (_context, args) => arg(args, 1) },
  time: {
    arity: 1,
    write: false,
    run: (context) => {
      const now = context.keyspace.now();
      const seconds = Math.floor(now / 1000);
      const micros = Math.round((now - seconds * 1000) * 1000);
      return [Buffer.from(String(seconds)), Buffer.from(String(micros))];
    },
  },
  dbsize: { arity: 1, write: false, run: (context) => context.keyspace.size() },
  flushdb: { arity: -1, write: true, run: flush },
  flushall: { arity: -1, write: true, run: flush },
};
