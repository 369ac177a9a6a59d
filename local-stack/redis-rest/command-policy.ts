// An Upstash database is one keyspace reached over stateless HTTP. Commands that change the state
// of a connection would leak into every other request sharing the backend's connection, so they
// are refused as Upstash refuses them; FLUSHALL empties this database only, as on Upstash.
import { type RedisCommand, RedisErrorReply } from './backend.ts';

const CONNECTION_STATE_COMMANDS = new Set([
  'AUTH',
  'CLIENT',
  'DISCARD',
  'EXEC',
  'HELLO',
  'MONITOR',
  'MOVE',
  'MULTI',
  'PSUBSCRIBE',
  'PSYNC',
  'PUNSUBSCRIBE',
  'QUIT',
  'REPLICAOF',
  'RESET',
  'SELECT',
  'SHUTDOWN',
  'SLAVEOF',
  'SSUBSCRIBE',
  'SUBSCRIBE',
  'SUNSUBSCRIBE',
  'SWAPDB',
  'SYNC',
  'UNSUBSCRIBE',
  'UNWATCH',
  'WATCH',
]);

export function applyCommandPolicy(command: RedisCommand): RedisCommand | RedisErrorReply {
  const name = command[0]?.toString('latin1').toUpperCase() ?? '';
  if (CONNECTION_STATE_COMMANDS.has(name)) {
    return new RedisErrorReply(`ERR Command is not available: '${name}'`);
  }
  if (name === 'FLUSHALL') return command.with(0, Buffer.from('FLUSHDB'));
  return command;
}
