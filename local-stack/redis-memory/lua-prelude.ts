// Lua run once per interpreter, before globals are locked: it turns fengari's Lua 5.3 into the
// Lua 5.1 environment Redis 7 gives scripts (same globals, LuaBitOp's `bit`, the `redis` table)
// and returns Redis's own error handler. Checked against `type(...)` of each name on Redis 7.0.
export const LUA_PRELUDE = `
local dbg = debug
local floor = math.floor

-- Lua 5.1 names that 5.3 dropped or moved.
unpack = table.unpack
loadstring = load
gcinfo = function() return floor(collectgarbage('count')) end
table.getn = function(t) return #t end
table.maxn = function(t)
  local max = 0
  for k in pairs(t) do
    if type(k) == 'number' and k > max then max = k end
  end
  return max
end
math.pow = function(x, y) return x ^ y end
math.log10 = function(x) return math.log(x, 10) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 end
  if math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
math.mod = math.fmod
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) return math.sinh(x) / math.cosh(x) end
string.gfind = string.gmatch
_VERSION = 'Lua 5.1'

-- Lua 5.1 converts strings with C's strtod, which also reads "inf" and "nan" (as in the scores
-- ZRANGE returns); Lua 5.3 does not.
local raw_tonumber = tonumber
tonumber = function(value, ...)
  local n = raw_tonumber(value, ...)
  if n ~= nil or select('#', ...) > 0 or type(value) ~= 'string' then return n end
  local sign, word = value:lower():match('^%s*([+-]?)(%a+)%s*$')
  if word == 'inf' or word == 'infinity' then
    return sign == '-' and -math.huge or math.huge
  end
  if word == 'nan' then return 0 / 0 end
  return nil
end

-- What Redis takes away.
debug, print, dofile, loadfile, rawlen = nil, nil, nil, nil, nil
table.pack, table.unpack, math.type, math.tointeger, math.ult = nil, nil, nil, nil, nil

-- LuaBitOp on fengari's 32-bit integers: every result is a signed 32-bit number.
local function tobit(x)
  local n = floor(x) % 4294967296
  if n >= 2147483648 then n = n - 4294967296 end
  return floor(n)
end
local function fold(op)
  return function(x, ...)
    local r = tobit(x)
    for i = 1, select('#', ...) do r = op(r, tobit((select(i, ...)))) end
    return r
  end
end
local function rol(x, n)
  x, n = tobit(x), tobit(n) & 31
  if n == 0 then return x end
  return tobit((x << n) | (x >> (32 - n)))
end
bit = {
  tobit = tobit,
  band = fold(function(a, b) return a & b end),
  bor = fold(function(a, b) return a | b end),
  bxor = fold(function(a, b) return a ~ b end),
  bnot = function(x) return ~tobit(x) end,
  lshift = function(x, n) return tobit(tobit(x) << (tobit(n) & 31)) end,
  rshift = function(x, n) return tobit(tobit(x) >> (tobit(n) & 31)) end,
  arshift = function(x, n) return tobit(floor(tobit(x) / 2.0 ^ (tobit(n) & 31))) end,
  rol = rol,
  ror = function(x, n) return rol(x, 32 - (tobit(n) & 31)) end,
  bswap = function(x)
    x = tobit(x)
    return tobit(((x >> 24) & 0xff) | ((x >> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24))
  end,
  tohex = function(x, n)
    x, n = tobit(x), n or 8
    local digits = n < 0 and '0123456789ABCDEF' or '0123456789abcdef'
    local out = {}
    for i = math.abs(n), 1, -1 do
      local d = x & 15
      out[i] = digits:sub(d + 1, d + 1)
      x = x >> 4
    end
    return table.concat(out)
  end,
}

-- The redis table already holds call, pcall, error_reply and sha1hex (JavaScript).
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = '7.0.15', 0x0007000f
redis.status_reply = function(status) return { ok = status } end
redis.log = function() end
redis.debug = function() end
redis.breakpoint = function() return false end
redis.setresp = function() end
redis.set_repl = function() end
redis.replicate_commands = function() return true end

-- Redis 7 makes the globals and every library table read-only inside the VM. Here each becomes
-- an empty proxy that reads through to the real table and refuses writes, and the raw accessors
-- that would bypass a proxy are wrapped to see the real table (or refuse, as Redis does).
local G = _G
local real_of = setmetatable({}, { __mode = 'k' })
local function refuse() error('Attempt to modify a readonly table', 2) end
local function proxy(t, index)
  local p = setmetatable({}, { __index = index or t, __newindex = refuse, __metatable = false })
  real_of[p] = t
  return p
end
local function real(t) return real_of[t] or t end
local raw_rawget, raw_rawset, raw_next = rawget, rawset, next
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local function refuse_raw(t)
  if real_of[t] then error('Attempt to modify a readonly table', 0) end
end
rawget = function(t, k) return raw_rawget(real(t), k) end
rawset = function(t, k, v)
  refuse_raw(t)
  return raw_rawset(t, k, v)
end
next = function(t, k) return raw_next(real(t), k) end
pairs = function(t) return next, t, nil end
setmetatable = function(t, mt)
  refuse_raw(t)
  return raw_setmetatable(t, mt)
end
local globals_metatable = {}
getmetatable = function(t)
  if t == G._G then return globals_metatable end
  if real_of[t] then return nil end
  return raw_getmetatable(t)
end
for _, name in ipairs({ 'redis', 'cjson', 'bit', 'string', 'math', 'table', 'coroutine' }) do
  raw_rawset(G, name, proxy(G[name]))
end
local globals = proxy(G, function(_, name)
  local value = raw_rawget(G, name)
  if value == nil then
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end
  return value
end)
raw_rawset(G, '_G', globals)

-- Redis 7's message handler records where the error happened, skipping native frames such as
-- error() and redis.call (fengari calls its JavaScript functions "J" where C Lua says "C") and
-- this prelude's wrappers. Lua 5.3's "a nil value (local 'x')" is reworded as Lua 5.1 says it.
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.what == 'J' or i.source == '=prelude') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then
    local text = tostring(err):gsub("attempt to (.-) a (%a+) value %((%a+) '(.-)'%)", "attempt to %1 %3 '%4' (a %2 value)")
    err = { err = 'ERR ' .. text }
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

return handler, globals
`;
