-- What Lua 5.1's lauxlib gives the C libraries Redis bundles (cjson, cmsgpack, struct), for our Lua
-- versions of them: argument checks with 5.1's conversions and error texts, and entry points that
-- raise those errors at the script's line ("user_script:1: bad argument #1 to 'pack' (...)") as
-- luaL_error does. Run first; returns the helper table the library chunks receive.
local type, tostring, tonumber, error, pcall, setmetatable, getmetatable, format, floor, ceil =
  type, tostring, tonumber, error, pcall, setmetatable, getmetatable, string.format, math.floor, math.ceil
local mtype, tointeger, mininteger, getinfo = math.type, math.tointeger, math.mininteger, debug.getinfo

local aux = {}
local Failure = {}

-- Raised inside a library; its entry point re-raises the text at the caller's line.
function aux.fail(message) error(setmetatable({message}, Failure), 0) end

-- An error 5.1's VM raised from inside a C function: no position ("table index is nil").
function aux.fail_bare(message) error(message, 0) end

-- luaL_argerror. The function's name is the one its caller used: '?' when a C function (pcall) called it.
function aux.argerror(name, index, extra)
  error(setmetatable({format("bad argument #%d to '%s' (%s)", index, name, extra), anonymous = format("bad argument #%d to '?' (%s)", index, extra)}, Failure), 0)
end

-- luaL_typerror: an argument past the last one is "no value".
function aux.typeerror(name, index, expected, count, value)
  aux.argerror(name, index, expected .. ' expected, got ' .. (index > count and 'no value' or type(value) == 'userdata' and 'userdata' or type(value)))
end

-- (long long)d as x86-64 converts a double: truncation, and the minimum integer out of range.
function aux.trunc(d)
  if mtype(d) == 'integer' then return d end
  if d ~= d or d >= 0x1p63 or d < -0x1p63 then return mininteger end
  return d >= 0 and floor(d) or ceil(d)
end

-- A C int assigned from a long: the low 32 bits, signed.
function aux.int32(n) return ((n + 0x80000000) & 0xffffffff) - 0x80000000 end

-- A value 5.1 holds as a double, as the closest 5.4 value: integral doubles become integers (so they
-- print and concatenate as 5.1 printed them), others stay floats.
function aux.number(d)
  d = d + 0.0
  return tointeger(d) or d
end

-- 5.1's number-to-string conversion (lua_tolstring on a number).
function aux.tostr(v)
  if type(v) == 'number' then return format('%.14g', v) end
  return v
end

function aux.checknumber(name, index, count, value)
  local n = (type(value) == 'number' or type(value) == 'string') and tonumber(value)
  if not n then aux.typeerror(name, index, 'number', count, value) end
  return n + 0.0
end

function aux.checkinteger(name, index, count, value)
  return aux.trunc(aux.checknumber(name, index, count, value))
end

function aux.optinteger(name, index, count, value, default)
  if value == nil then return default end
  return aux.checkinteger(name, index, count, value)
end

function aux.checkstring(name, index, count, value)
  if type(value) ~= 'string' and type(value) ~= 'number' then aux.typeerror(name, index, 'string', count, value) end
  return aux.tostr(value)
end

-- luaL_checkoption: the index of the named option (0-based, as C's).
function aux.checkoption(name, index, count, value, options)
  local text = aux.checkstring(name, index, count, value)
  for i = 1, #options do
    if options[i] == text then return i - 1 end
  end
  aux.argerror(name, index, format("invalid option '%s'", text))
end

local function reraise(ok, ...)
  if ok then return ... end
  local e = ...
  -- Level 2: the caller of the entry point (this call replaced the entry point's frame).
  if getmetatable(e) == Failure then error(e.anonymous and getinfo(2, 'S').what == 'C' and e.anonymous or e[1], 2) end
  error(e, 0)
end

-- A library function as scripts call it: failures raised with aux.fail surface at the caller's line.
function aux.entry(f)
  return function(...) return reraise(pcall(f, ...)) end
end

return aux
