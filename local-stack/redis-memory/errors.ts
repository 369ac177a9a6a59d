// Redis 7's exact error texts: clients and scripts match on them, so they live in one place.
import { RedisErrorReply } from '../redis-rest/backend.ts';

export const WRONG_TYPE = new RedisErrorReply(
  'WRONGTYPE Operation against a key holding the wrong kind of value',
);
export const NOT_INTEGER = new RedisErrorReply('ERR value is not an integer or out of range');
export const NOT_FLOAT = new RedisErrorReply('ERR value is not a valid float');
export const SYNTAX_ERROR = new RedisErrorReply('ERR syntax error');
export const NO_SUCH_KEY = new RedisErrorReply('ERR no such key');
export const OVERFLOW = new RedisErrorReply('ERR increment or decrement would overflow');
export const NOT_POSITIVE = new RedisErrorReply('ERR value is out of range, must be positive');
export const NO_SCRIPT = new RedisErrorReply('NOSCRIPT No matching script. Please use EVAL.');
export const EXEC_ABORT = new RedisErrorReply(
  'EXECABORT Transaction discarded because of previous errors.',
);

export function wrongArity(name: string): RedisErrorReply {
  return new RedisErrorReply(`ERR wrong number of arguments for '${name}' command`);
}

export function unknownCommand(args: readonly Buffer[]): RedisErrorReply {
  const [name, ...rest] = args;
  const shown = rest.map((arg) => `'${arg.toString('latin1')}' `).join('');
  return new RedisErrorReply(
    `ERR unknown command '${name?.toString('latin1') ?? ''}', with args beginning with: ${shown}`,
  );
}

export function invalidExpireTime(command: string): RedisErrorReply {
  return new RedisErrorReply(`ERR invalid expire time in '${command}' command`);
}

export function isError(reply: unknown): reply is RedisErrorReply {
  return reply instanceof RedisErrorReply;
}
