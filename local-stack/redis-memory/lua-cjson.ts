// The `cjson` library Redis gives scripts, with lua-cjson's defaults: numbers as "%.14g", "/"
// escaped, empty tables as objects, sparse arrays up to its ratio, cjson.null for JSON null.
// Object key order follows fengari's table order, which is not Redis's.
import type { LuaState } from 'fengari';
import { fengari } from './fengari-loader.ts';
import {
  pushBytes,
  raiseAt,
  reserveStack,
  setFunctions,
  stringAt,
  typeName,
} from './lua-interop.ts';
import { formatGeneral } from './numbers.ts';

const { lua, to_luastring } = fengari;

const MAX_DEPTH = 1000;
const SPARSE_RATIO = 2;
const SPARSE_SAFE = 10;
const NULL = Object.freeze({ cjson: 'null' });

class EncodeError extends Error {}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** Escapes a byte string; bytes from 0x80 up pass through untouched, as in lua-cjson. */
function quote(bytes: Buffer): string {
  let out = '"';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    const escaped = ESCAPES[char];
    if (escaped !== undefined) out += escaped;
    else if (byte < 0x20 || byte === 0x7f) out += `\\u${byte.toString(16).padStart(4, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

function number(value: number): string {
  if (!Number.isFinite(value))
    throw new EncodeError('Cannot serialise number: must not be NaN or Inf');
  return formatGeneral(value, 14);
}

/** lua-cjson's lua_array_length: the array size, or -1 for a table that must be an object. */
function arrayLength(L: LuaState, table: number): number {
  let max = 0;
  let items = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, table) !== 0) {
    const key = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : Number.NaN;
    lua.lua_settop(L, -2);
    if (!Number.isInteger(key) || key < 1) {
      lua.lua_settop(L, -2);
      return -1;
    }
    max = Math.max(max, key);
    items++;
  }
  if (max > SPARSE_SAFE && max > items * SPARSE_RATIO) {
    throw new EncodeError('Cannot serialise table: excessively sparse array');
  }
  return max;
}

function encodeTable(L: LuaState, table: number, depth: number): string {
  if (depth > MAX_DEPTH) throw new EncodeError(`Cannot serialise, excessive nesting (${depth})`);
  reserveStack(L);
  const length = arrayLength(L, table);
  if (length > 0) {
    const items: string[] = [];
    for (let i = 1; i <= length; i++) {
      lua.lua_rawgeti(L, table, i);
      items.push(encode(L, lua.lua_gettop(L), depth));
      lua.lua_settop(L, -2);
    }
    return `[${items.join(',')}]`;
  }
  const members: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, table) !== 0) {
    const keyType = lua.lua_type(L, -2);
    let key: string;
    if (keyType === lua.LUA_TSTRING) key = quote(stringAt(L, -2));
    else if (keyType === lua.LUA_TNUMBER) key = `"${number(lua.lua_tonumber(L, -2))}"`;
    else {
      throw new EncodeError(
        `Cannot serialise ${typeName(L, keyType)}: table key must be a number or string`,
      );
    }
    members.push(`${key}:${encode(L, lua.lua_gettop(L), depth)}`);
    lua.lua_settop(L, -2);
  }
  return `{${members.join(',')}}`;
}

function encode(L: LuaState, index: number, depth: number): string {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TNIL || type === lua.LUA_TLIGHTUSERDATA) return 'null';
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 'true' : 'false';
  if (type === lua.LUA_TNUMBER) return number(lua.lua_tonumber(L, index));
  if (type === lua.LUA_TSTRING) return quote(stringAt(L, index));
  if (type === lua.LUA_TTABLE) return encodeTable(L, index, depth + 1);
  throw new EncodeError(`Cannot serialise ${typeName(L, type)}: type not supported`);
}

function push(L: LuaState, value: unknown): void {
  reserveStack(L);
  if (value === null) lua.lua_pushlightuserdata(L, NULL);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') lua.lua_pushnumber(L, value);
  else if (typeof value === 'string') pushBytes(L, Buffer.from(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      push(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(value as Record<string, unknown>);
    lua.lua_createtable(L, 0, entries.length);
    for (const [key, item] of entries) {
      pushBytes(L, Buffer.from(key));
      push(L, item);
      lua.lua_rawset(L, -3);
    }
  }
}

/** Creates the global `cjson` table. */
export function installCjson(L: LuaState): void {
  lua.lua_createtable(L, 0, 3);
  setFunctions(L, {
    encode: (state) => {
      if (lua.lua_gettop(state) !== 1)
        return raiseAt(state, "bad argument #1 to 'encode' (expected 1 argument)");
      try {
        pushBytes(state, Buffer.from(encode(state, 1, 0), 'latin1'));
      } catch (error) {
        if (error instanceof EncodeError) return raiseAt(state, error.message);
        throw error;
      }
      return 1;
    },
    decode: (state) => {
      const text = stringAt(state, 1).toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        const position = /position (\d+)/.exec(String(error))?.[1] ?? String(text.length);
        return raiseAt(
          state,
          `Expected value but found invalid token at character ${Number(position) + 1}`,
        );
      }
      push(state, value);
      return 1;
    },
  });
  lua.lua_pushlightuserdata(L, NULL);
  lua.lua_setfield(L, -2, 'null');
  lua.lua_setglobal(L, to_luastring('cjson'));
}
