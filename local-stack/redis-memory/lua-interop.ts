// Small bridges between fengari's stack API and Node: Lua strings are byte arrays, so every
// conversion goes through Buffers and never through JavaScript strings.
import type { LuaState } from 'fengari';
import { fengari } from './fengari-loader.ts';

const { lua, lauxlib, to_luastring } = fengari;

function toBuffer(bytes: Uint8Array | null): Buffer {
  return bytes === null ? Buffer.alloc(0) : Buffer.from(bytes);
}

export function stringAt(L: LuaState, index: number): Buffer {
  return toBuffer(lua.lua_tolstring(L, index));
}

export function pushBytes(L: LuaState, bytes: Uint8Array): void {
  lua.lua_pushstring(L, new Uint8Array(bytes));
}

/** A Lua error prefixed with the caller's position ("user_script:3: ..."), like luaL_error. */
export function raiseAt(L: LuaState, message: string): never {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

export function typeName(L: LuaState, type: number): string {
  return toBuffer(lua.lua_typename(L, type)).toString('latin1');
}

/** Room for a few more values before descending into a nested table or reply. */
export function reserveStack(L: LuaState): void {
  lauxlib.luaL_checkstack(L, 4, null);
}

/** Registers JavaScript functions as fields of the table on top of the stack. */
export function setFunctions(
  L: LuaState,
  functions: Record<string, (L: LuaState) => number>,
): void {
  for (const [name, fn] of Object.entries(functions)) {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setfield(L, -2, name);
  }
}
