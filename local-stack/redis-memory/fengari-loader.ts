// fengari is Lua 5.3; Redis runs Lua 5.1, where every number is a double printed with "%.14g"
// (tostring(3.0) is "3", tostring(1e15) is "1e+15"). Two adjustments make scripts build the same
// strings as on Redis, and both must happen before fengari's modules load: LUA_COMPAT_FLOATSTRING,
// read from the environment, drops the ".0" of integral floats, and luaconf's number formatter,
// which fengari's core copies at load time, is swapped for a real "%.14g".
import { createRequire } from 'node:module';
import type fengariModule from 'fengari';
import { formatGeneral } from './numbers.ts';

const LUA_NUMBER_PRECISION = 14;

function formatLuaNumber(value: number): string {
  // x86 produces NaN with the sign bit set (0/0), which glibc prints as "-nan".
  if (Number.isNaN(value)) return '-nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return formatGeneral(value, LUA_NUMBER_PRECISION);
}

function loadFengari(): typeof fengariModule {
  const require = createRequire(import.meta.url);
  const previous = process.env.FENGARICONF;
  process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
  try {
    // defs.js first: it is what loads luaconf.js in fengari's own order (the reverse is a cycle).
    require('fengari/src/defs.js');
    const luaconf = require('fengari/src/luaconf.js') as { lua_number2str: (n: number) => string };
    luaconf.lua_number2str = formatLuaNumber;
    return require('fengari') as typeof fengariModule;
  } finally {
    if (previous === undefined) delete process.env.FENGARICONF;
    else process.env.FENGARICONF = previous;
  }
}

export const fengari = loadFengari();
