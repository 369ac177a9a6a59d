// The slice of fengari (Lua 5.3 in JavaScript, untyped upstream) that the script engine uses.
// Lua strings are byte arrays; JavaScript strings are accepted where fengari converts them itself.
declare module 'fengari' {
  export interface LuaState {
    readonly __luaState: unique symbol;
  }
  export type LuaJsFunction = (L: LuaState) => number;

  interface Lua {
    LUA_OK: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_RIDX_GLOBALS: number;
    LUA_MASKCOUNT: number;
    LUA_REGISTRYINDEX: number;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushstring(L: LuaState, s: Uint8Array | string): Uint8Array;
    lua_pushjsfunction(L: LuaState, f: LuaJsFunction): void;
    lua_pushglobaltable(L: LuaState): void;
    lua_pushvalue(L: LuaState, index: number): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_setfield(L: LuaState, index: number, key: Uint8Array | string): void;
    lua_getfield(L: LuaState, index: number, key: Uint8Array | string): number;
    lua_rawseti(L: LuaState, index: number, n: number): void;
    lua_rawgeti(L: LuaState, index: number, n: number): number;
    lua_rawset(L: LuaState, index: number): void;
    lua_setglobal(L: LuaState, name: Uint8Array | string): void;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, index: number): void;
    lua_type(L: LuaState, index: number): number;
    lua_tolstring(L: LuaState, index: number): Uint8Array | null;
    lua_tonumber(L: LuaState, index: number): number;
    lua_toboolean(L: LuaState, index: number): boolean;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_error(L: LuaState): never;
    lua_concat(L: LuaState, n: number): void;
    lua_setmetatable(L: LuaState, index: number): void;
    lua_next(L: LuaState, index: number): number;
    lua_sethook(
      L: LuaState,
      hook: ((L: LuaState) => void) | null,
      mask: number,
      count: number,
    ): void;
    lua_pushlightuserdata(L: LuaState, pointer: object): void;
    lua_typename(L: LuaState, type: number): Uint8Array;
  }

  interface LuaAuxLib {
    luaL_newstate(): LuaState;
    luaL_loadbufferx(
      L: LuaState,
      buffer: Uint8Array,
      size: number,
      name: Uint8Array,
      mode: Uint8Array | null,
    ): number;
    luaL_ref(L: LuaState, table: number): number;
    luaL_where(L: LuaState, level: number): void;
    luaL_checkstack(L: LuaState, space: number, message: string | null): void;
    luaL_requiref(
      L: LuaState,
      name: Uint8Array | string,
      open: LuaJsFunction,
      global: number,
    ): void;
  }

  interface LuaLib {
    luaopen_base: LuaJsFunction;
    luaopen_table: LuaJsFunction;
    luaopen_string: LuaJsFunction;
    luaopen_math: LuaJsFunction;
    luaopen_coroutine: LuaJsFunction;
    luaopen_debug: LuaJsFunction;
  }

  const fengari: {
    lua: Lua;
    lauxlib: LuaAuxLib;
    lualib: LuaLib;
    to_luastring(s: string): Uint8Array;
  };
  export default fengari;
}
