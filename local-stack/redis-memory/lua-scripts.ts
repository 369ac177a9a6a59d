// Redis scripting on fengari: the script cache keyed by SHA-1, shebang flags, the `redis` library,
// value conversions both ways and Redis 7's error texts. Scripts run synchronously, so nothing
// else touches the keyspace while one runs: that is the atomicity Redis promises.
import { createHash } from 'node:crypto';
import type { LuaState } from 'fengari';
import type { RedisReply } from '../redis-rest/backend.ts';
import { RedisErrorReply, RedisStatusReply } from '../redis-rest/backend.ts';
import { arityMatches, type CommandSpec, type Scripts } from './command.ts';
import { NO_SCRIPT } from './errors.ts';
import { fengari } from './fengari-loader.ts';
import { installCjson } from './lua-cjson.ts';
import { pushBytes, raiseAt, reserveStack, setFunctions, stringAt } from './lua-interop.ts';
import { LUA_PRELUDE } from './lua-prelude.ts';
import { formatDouble, INT64_MIN } from './numbers.ts';

const { lua, lauxlib, lualib, to_luastring } = fengari;

export interface ScriptHost {
  lookup(name: string): CommandSpec | undefined;
  run(spec: CommandSpec, args: Buffer[]): RedisReply;
  /**
   * Redis lets a runaway script block the server until SCRIPT KILL; this single-threaded engine
   * could never receive that command, so it stops a script itself after this long.
   */
  scriptTimeLimitMs: number;
}

interface CompiledScript {
  /** Registry reference of the compiled chunk. */
  ref: number;
  readOnly: boolean;
}

const KNOWN_FLAGS = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
  // Upstash's own flag, which @upstash/ratelimit sends; it changes nothing on a single node.
  'allow-key-locking',
]);

const HOOK_EVERY_INSTRUCTIONS = 10_000;

function sha1hex(bytes: Uint8Array | string): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** Redis's luaPushErrorBuff: "-CODE text" keeps its code, bare text gets ERR. */
function errorTableText(message: string): string {
  let code = 'ERR';
  let text = message;
  if (message.startsWith('-')) {
    const space = message.indexOf(' ');
    if (space === -1) text = message.slice(1);
    else {
      code = message.slice(1, space);
      text = message.slice(space + 1);
    }
  }
  return `${code} ${text.replace(/^[\r\n]+|[\r\n]+$/g, '')}`;
}

function pushErrorTable(L: LuaState, message: string): void {
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_setfield(L, -2, 'err');
}

/** Redis → Lua: integer → number, bulk → string, nil → false, status → {ok}, error → {err}. */
function pushReply(L: LuaState, reply: RedisReply): void {
  reserveStack(L);
  if (reply === null) lua.lua_pushboolean(L, false);
  else if (typeof reply === 'number') lua.lua_pushnumber(L, reply);
  else if (Buffer.isBuffer(reply)) pushBytes(L, reply);
  else if (reply instanceof RedisStatusReply) {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, to_luastring(reply.status));
    lua.lua_setfield(L, -2, 'ok');
  } else if (reply instanceof RedisErrorReply) {
    pushErrorTable(L, errorTableText(`-${reply.message}`));
  } else {
    lua.lua_createtable(L, reply.length, 0);
    reply.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

function stringField(L: LuaState, index: number, name: string): Buffer | null {
  const type = lua.lua_getfield(L, index, name);
  const value = type === lua.LUA_TSTRING ? stringAt(L, -1) : null;
  lua.lua_settop(L, -2);
  return value;
}

/** Lua → Redis: number → integer (truncated), table → array up to the first nil, {ok}, {err}. */
function toReply(L: LuaState, index: number): RedisReply {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TSTRING) return stringAt(L, index);
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 1 : null;
  if (type === lua.LUA_TNUMBER) {
    // C's double → long long cast, as Redis does it on x86-64 (and never a negative zero).
    const value = Math.trunc(lua.lua_tonumber(L, index)) + 0;
    return Number.isFinite(value) && Math.abs(value) < 2 ** 63 ? value : Number(INT64_MIN);
  }
  if (type !== lua.LUA_TTABLE) return null;
  const absolute = index < 0 ? lua.lua_gettop(L) + index + 1 : index;
  const error = stringField(L, absolute, 'err');
  if (error !== null) return new RedisErrorReply(error.toString());
  const status = stringField(L, absolute, 'ok');
  if (status !== null) return new RedisStatusReply(status.toString());
  const items: RedisReply[] = [];
  for (let i = 1; lua.lua_rawgeti(L, absolute, i) !== lua.LUA_TNIL; i++) {
    items.push(toReply(L, -1));
    lua.lua_settop(L, -2);
  }
  lua.lua_settop(L, -2);
  return items;
}

type Shebang = { body: Buffer; readOnly: boolean } | RedisErrorReply;

/** Strips "#!lua flags=..." but keeps its newline, so error line numbers match the sent text. */
function parseShebang(source: Buffer): Shebang {
  if (source[0] !== 0x23 || source[1] !== 0x21) return { body: source, readOnly: false };
  const newline = source.indexOf(0x0a);
  const end = newline === -1 ? source.length : newline;
  const [engine, ...options] = source.subarray(0, end).toString('latin1').split(' ');
  if (engine !== '#!lua') {
    return new RedisErrorReply(`ERR Unexpected engine in script shebang: ${engine}`);
  }
  let readOnly = false;
  for (const option of options.filter((part) => part !== '')) {
    if (!option.startsWith('flags=')) {
      return new RedisErrorReply(`ERR Unknown lua shebang option: ${option}`);
    }
    const flags = option.slice('flags='.length).split(',');
    for (const flag of flags.filter((f) => f !== '')) {
      if (!KNOWN_FLAGS.has(flag)) {
        return new RedisErrorReply(`ERR Unexpected flag in script shebang: ${flag}`);
      }
      if (flag === 'no-writes') readOnly = true;
    }
  }
  return { body: source.subarray(end), readOnly };
}

interface Interpreter {
  L: LuaState;
  /** Registry references: Redis's message handler and the real (unproxied) globals table. */
  handler: number;
  globals: number;
}

export class LuaScripts implements Scripts {
  readonly #host: ScriptHost;
  #lua: Interpreter;
  #cache = new Map<string, CompiledScript>();
  /** Whether the script running now may only read (EVAL_RO or a no-writes shebang). */
  #readOnly = false;

  constructor(host: ScriptHost) {
    this.#host = host;
    this.#lua = this.#newInterpreter();
  }

  #newInterpreter(): Interpreter {
    const L = lauxlib.luaL_newstate();
    const libraries: [string, (L: LuaState) => number][] = [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
      ['coroutine', lualib.luaopen_coroutine],
      ['debug', lualib.luaopen_debug],
    ];
    for (const [name, open] of libraries) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_settop(L, 0);
    }
    this.#installRedisTable(L);
    installCjson(L);
    lua.lua_pushglobaltable(L);
    const globals = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    const prelude = to_luastring(LUA_PRELUDE);
    const name = to_luastring('=prelude');
    const loaded = lauxlib.luaL_loadbufferx(L, prelude, prelude.length, name, null);
    if (loaded !== lua.LUA_OK || lua.lua_pcall(L, 0, 2, 0) !== lua.LUA_OK) {
      throw new Error(`Lua prelude failed: ${stringAt(L, -1).toString()}`);
    }
    // Scripts compiled from now on see the read-only proxy as their globals.
    lua.lua_rawseti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    const handler = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    return { L, handler, globals };
  }

  #installRedisTable(L: LuaState): void {
    lua.lua_createtable(L, 0, 16);
    setFunctions(L, {
      call: (state) => this.#redisCall(state, true),
      pcall: (state) => this.#redisCall(state, false),
      error_reply: (state) => {
        if (lua.lua_gettop(state) !== 1 || lua.lua_type(state, 1) !== lua.LUA_TSTRING) {
          pushErrorTable(state, 'ERR wrong number or type of arguments');
          return 1;
        }
        const message = stringAt(state, 1).toString('latin1');
        pushErrorTable(state, errorTableText(message.startsWith('-') ? message : `-${message}`));
        return 1;
      },
      sha1hex: (state) => {
        if (lua.lua_gettop(state) !== 1) return raiseAt(state, 'wrong number of arguments');
        lua.lua_pushstring(state, to_luastring(sha1hex(stringAt(state, 1))));
        return 1;
      },
    });
    lua.lua_setglobal(L, to_luastring('redis'));
  }

  #raise(L: LuaState, message: string, raise: boolean): number {
    pushErrorTable(L, errorTableText(message));
    return raise ? lua.lua_error(L) : 1;
  }

  /** The command redis.call / redis.pcall asked for, or the reason Redis refuses it. */
  #scriptCommand(L: LuaState): { spec: CommandSpec; args: Buffer[] } | string {
    const argc = lua.lua_gettop(L);
    if (argc === 0) return 'Please specify at least one argument for this redis lib call';
    const args: Buffer[] = [];
    for (let i = 1; i <= argc; i++) {
      const type = lua.lua_type(L, i);
      if (type === lua.LUA_TSTRING) args.push(stringAt(L, i));
      else if (type === lua.LUA_TNUMBER)
        args.push(Buffer.from(formatDouble(lua.lua_tonumber(L, i))));
      else return 'Lua redis lib command arguments must be strings or integers';
    }
    const spec = this.#host.lookup(args[0]?.toString('latin1').toLowerCase() ?? '');
    if (spec === undefined) return 'Unknown Redis command called from script';
    if (spec.noScript) return 'This Redis command is not allowed from script';
    if (!arityMatches(spec, args.length)) {
      return 'Wrong number of args calling Redis command from script';
    }
    if (spec.write && this.#readOnly) {
      return 'Write commands are not allowed from read-only scripts.';
    }
    return { spec, args };
  }

  #redisCall(L: LuaState, raise: boolean): number {
    const command = this.#scriptCommand(L);
    if (typeof command === 'string') return this.#raise(L, command, raise);
    const reply = this.#host.run(command.spec, command.args);
    if (reply instanceof RedisErrorReply && raise) return this.#raise(L, `-${reply.message}`, true);
    pushReply(L, reply);
    return 1;
  }

  /** Compiles and caches a script; SCRIPT LOAD and EVAL both go through here. */
  load(source: Buffer): { sha: string; script: CompiledScript } | RedisErrorReply {
    const sha = sha1hex(source);
    const cached = this.#cache.get(sha);
    if (cached) return { sha, script: cached };
    const shebang = parseShebang(source);
    if (shebang instanceof RedisErrorReply) return shebang;
    const L = this.#lua.L;
    const body = new Uint8Array(shebang.body);
    const status = lauxlib.luaL_loadbufferx(
      L,
      body,
      body.length,
      to_luastring('@user_script'),
      to_luastring('t'),
    );
    if (status !== lua.LUA_OK) {
      const message = stringAt(L, -1).toString();
      lua.lua_settop(L, 0);
      return new RedisErrorReply(`ERR Error compiling script (new function): ${message}`);
    }
    const script = { ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX), readOnly: shebang.readOnly };
    this.#cache.set(sha, script);
    return { sha, script };
  }

  exists(sha: string): boolean {
    return this.#cache.has(sha.toLowerCase());
  }

  flush(): void {
    this.#cache.clear();
    this.#lua = this.#newInterpreter();
  }

  eval(source: Buffer, keys: Buffer[], argv: Buffer[], readOnly: boolean): RedisReply {
    const loaded = this.load(source);
    if (loaded instanceof RedisErrorReply) return loaded;
    return this.#run(loaded.sha, loaded.script, keys, argv, readOnly);
  }

  evalsha(sha: string, keys: Buffer[], argv: Buffer[], readOnly: boolean): RedisReply {
    const lower = sha.toLowerCase();
    const script = this.#cache.get(lower);
    if (script === undefined) return NO_SCRIPT;
    return this.#run(lower, script, keys, argv, readOnly);
  }

  #setGlobalArray(name: string, values: Buffer[]): void {
    const L = this.#lua.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.#lua.globals);
    lua.lua_pushstring(L, to_luastring(name));
    pushReply(L, values);
    lua.lua_rawset(L, -3);
    lua.lua_settop(L, 0);
  }

  #run(
    sha: string,
    script: CompiledScript,
    keys: Buffer[],
    argv: Buffer[],
    readOnly: boolean,
  ): RedisReply {
    const L = this.#lua.L;
    this.#setGlobalArray('KEYS', keys);
    this.#setGlobalArray('ARGV', argv);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.#lua.handler);
    const handlerIndex = lua.lua_gettop(L);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, script.ref);
    this.#readOnly = readOnly || script.readOnly;
    const deadline = performance.now() + this.#host.scriptTimeLimitMs;
    lua.lua_sethook(
      L,
      (state) => {
        if (performance.now() > deadline) {
          this.#raise(state, 'Script killed by user with SCRIPT KILL...', true);
        }
      },
      lua.LUA_MASKCOUNT,
      HOOK_EVERY_INSTRUCTIONS,
    );
    try {
      const status = lua.lua_pcall(L, 0, 1, handlerIndex);
      return status === lua.LUA_OK ? toReply(L, -1) : this.#failure(L, sha);
    } finally {
      this.#readOnly = false;
      lua.lua_sethook(L, null, 0, 0);
      lua.lua_settop(L, 0);
    }
  }

  /** Redis 7's "<error> script: <sha>, on @user_script:<line>." from the handler's table. */
  #failure(L: LuaState, sha: string): RedisErrorReply {
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      const message = stringAt(L, -1).toString() || 'execution failure';
      return new RedisErrorReply(`ERR Error running script ${sha}, ${message.slice(0, 100)}`);
    }
    const message = stringField(L, -1, 'err')?.toString() ?? 'ERR unknown error';
    const source = stringField(L, -1, 'source')?.toString();
    lua.lua_getfield(L, -1, 'line');
    const line = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : null;
    lua.lua_settop(L, -2);
    if (source === undefined || line === null) return new RedisErrorReply(message);
    return new RedisErrorReply(`${message} script: ${sha}, on ${source}:${line}.`);
  }
}
