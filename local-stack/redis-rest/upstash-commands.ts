// What Upstash answers where open-source Redis 7.0 refuses or answers otherwise, rewritten here so
// that either backend gives Upstash's answer:
// - COPY with the same source and destination: Redis refuses ("ERR source and destination
//   objects are the same"), Upstash answers 0, which @upstash/redis's copy() reads as NOT_COPIED.
// - SCAN's WITHTYPE flag (Upstash only): each key is followed by its type.
// - HGETDEL key FIELDS numfields field... (Redis 8.0), with Redis 8.0's replies and errors.
// The last two run as one Lua script each, so they stay atomic inside pipelines and transactions
// and work on the embedded engine too.
import { type RedisCommand, RedisErrorReply, type RedisReply } from './backend.ts';
import type { PreparedCommand } from './script-shebang.ts';

const keepReply = (reply: RedisReply): RedisReply => reply;

const SAME_OBJECTS = 'ERR source and destination objects are the same';

function copy(command: RedisCommand): PreparedCommand {
  return {
    command,
    adjustReply: (reply) =>
      reply instanceof RedisErrorReply && reply.message === SAME_OBJECTS ? 0 : reply,
  };
}

// The page and the types come from the same moment: a key deleted between a SCAN and a TYPE
// would otherwise show as "none".
const SCAN_WITH_TYPES = `local page = redis.pcall('SCAN', unpack(ARGV))
if page.err then return page end
local typed = {}
for i, key in ipairs(page[2]) do
  typed[2 * i - 1] = key
  typed[2 * i] = redis.call('TYPE', key).ok
end
return {page[1], typed}`;

const SCAN_OPTIONS_WITH_VALUE = new Set(['MATCH', 'COUNT', 'TYPE']);

function scan(command: RedisCommand): PreparedCommand | undefined {
  const kept: RedisCommand = [];
  let withType = false;
  for (let i = 2; i < command.length; i++) {
    const arg = command[i] ?? Buffer.alloc(0);
    const option = arg.toString('latin1').toUpperCase();
    if (option === 'WITHTYPE') {
      withType = true;
      continue;
    }
    kept.push(arg);
    const value = command[i + 1];
    if (SCAN_OPTIONS_WITH_VALUE.has(option) && value !== undefined) {
      kept.push(value);
      i++;
    }
  }
  if (!withType) return undefined;
  const cursor = command[1] ?? Buffer.alloc(0);
  return {
    command: [Buffer.from('EVAL'), Buffer.from(SCAN_WITH_TYPES), Buffer.from('0'), cursor, ...kept],
    adjustReply: keepReply,
  };
}

// Redis 8.0's hgetdelCommand: the type is checked first, then FIELDS and numfields; each field is
// read then deleted in turn (a field named twice comes back once), and an emptied hash is deleted.
const HGETDEL = `local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'hash' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
end
if string.upper(ARGV[1]) ~= 'FIELDS' then
  return redis.error_reply('ERR Mandatory argument FIELDS is missing or not at the right position')
end
local count = ARGV[2]
if not string.match(count, '^[1-9]%d*$') or #count > 19
    or (#count == 19 and count > '9223372036854775807') then
  return redis.error_reply('ERR Number of fields must be a positive integer')
end
if tonumber(count) ~= #ARGV - 2 then
  return redis.error_reply('ERR The \`numfields\` parameter must match the number of arguments')
end
local values = {}
for i = 3, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value then redis.call('HDEL', KEYS[1], ARGV[i]) end
  values[i - 2] = value
end
return values`;

function hgetdel(command: RedisCommand): PreparedCommand | RedisErrorReply {
  if (command.length < 5) {
    return new RedisErrorReply("ERR wrong number of arguments for 'hgetdel' command");
  }
  return {
    command: [Buffer.from('EVAL'), Buffer.from(HGETDEL), Buffer.from('1'), ...command.slice(1)],
    adjustReply: keepReply,
  };
}

/** The command as the backend must run it, or undefined when the backend answers it as Upstash. */
export function prepareUpstashCommand(
  command: RedisCommand,
): PreparedCommand | RedisErrorReply | undefined {
  switch (command[0]?.toString('latin1').toUpperCase()) {
    case 'COPY':
      return copy(command);
    case 'SCAN':
      return scan(command);
    case 'HGETDEL':
      return hgetdel(command);
    default:
      return undefined;
  }
}
