-- Run once on a fresh Lua 5.4 state, before any user script: makes it look like the Lua 5.1
-- Redis 7.0 embeds (the names 5.4 renamed or dropped), builds the redis.* table over the host's
-- raw functions, and seals the sandbox. Returns the error handler and the environment scripts run in.
--
-- The host's functions never raise (a Lua error raised from managed code would longjmp across it):
-- they return an error table plus true, and the wrappers here raise it. The error handler skips the
-- frames of this chunk, so errors point at the user's line as Redis's C functions do.

local aux, raw_call, raw_pcall, raw_command_exists, raw_sha1hex, raw_log, raw_setresp, raw_rand, raw_srand = ...
local dbg = debug
local error, type, tostring, tonumber, select, setmetatable, next, pairs = error, type, tostring, tonumber, select, setmetatable, next, pairs
local floor, mtype, tointeger, lua_load = math.floor, math.type, math.tointeger, load

-- Lua 5.1 names.
_VERSION = 'Lua 5.1'
unpack = table.unpack
rawlen = nil
load = function(chunk, name)
  if type(chunk) ~= 'function' then
    error("bad argument #1 to 'load' (function expected, got " .. (chunk == nil and 'no value' or type(chunk)) .. ")", 2)
  end
  return lua_load(chunk, name, 't')
end
loadstring = function(chunk, name) return lua_load(chunk, name, 't') end
gcinfo = function() return floor(collectgarbage('count')) end
-- 5.1 had only doubles and printed them with %.14g ("5", "1e+15", "9.007199254741e+15"); 5.4
-- prints integral floats as "5.0" and integers in full.
local tostring54, format = tostring, string.format
tostring = function(v)
  if type(v) == 'number' then return format('%.14g', v) end
  return tostring54(v)
end
_G.tostring = tostring
-- 5.1's error() prefixed the position to numbers too. Not a tail call: the level counts this frame.
local lua_error = error
_G.error = function(message, level)
  level = level or 1
  if type(message) == 'number' then message = tostring(message) end
  lua_error(message, level > 0 and level + 1 or 0)
end
table.getn = function(t) return #t end
table.setn = function() error("'setn' is obsolete", 2) end
table.maxn = function(t)
  local max = 0
  for k in pairs(t) do
    if type(k) == 'number' and k > max then max = k end
  end
  return max
end
table.foreach = function(t, f)
  for k, v in pairs(t) do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
table.foreachi = function(t, f)
  for i = 1, #t do
    local r = f(i, t[i])
    if r ~= nil then return r end
  end
end
math.mod = math.fmod
math.pow = function(x, y) return x ^ y end
math.atan2 = function(y, x) return math.atan(y, x) end
math.log10 = function(x) return math.log(x, 10) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.frexp = function(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(math.log(math.abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  if math.abs(m) >= 1 then m, e = m / 2, e + 1 elseif math.abs(m) < 0.5 then m, e = m * 2, e - 1 end
  return m, e
end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) local a, b = math.exp(x), math.exp(-x) return (a - b) / (a + b) end
string.gfind = string.gmatch

-- 5.1 library functions whose 5.4 versions differ. Each calls the original through a local of the
-- original's name, so the original's argument errors name it as 5.1 did; the error handler puts the
-- script's line in place of this chunk's.
-- string.format: 5.1 converted the argument of %d, %i, %o, %x, %X and %c to an integer as C casts
-- (3.7 gives 3); 5.4 refuses a number with no integer representation.
local find, match, tunpack = string.find, string.match, table.unpack
local integer_conversions = {d = true, i = true, o = true, x = true, X = true, c = true}
string.format = function(fmt, ...)
  local args
  if type(fmt) == 'string' then
    local n, k, pos = select('#', ...), 0, 1
    while true do
      local at = find(fmt, '%', pos, true)
      if not at then break end
      local conversion, after = match(fmt, '^[-+ #0]*%d*%.?%d*(.)()', at + 1)
      pos = after or at + 1
      if conversion ~= '%' then
        k = k + 1
        if integer_conversions[conversion] and k <= n then
          args = args or {...}
          local v = args[k]
          if type(v) == 'string' then v = tonumber(v) or v end
          if mtype(v) == 'float' then args[k] = aux.trunc(v) end
        end
      end
    end
    if args then return format(fmt, tunpack(args, 1, n)) end
  end
  return format(fmt, ...)
end
-- string.rep: 5.1 took the count as a C int (2^31 wraps to a negative count: ""), and had no separator.
local rep = string.rep
string.rep = function(...)
  if select('#', ...) < 2 then return rep(...) end
  local s, n = ...
  local count = tonumber(n)
  if count then n = aux.int32(aux.trunc(count)) end
  return rep(s, n)
end
-- ipairs wanted a table; math.max and math.min numbers (or numeric strings), every one of them.
local lua_ipairs = ipairs
ipairs = function(...)
  local t = ...
  if type(t) ~= 'table' then
    error("bad argument #1 to 'ipairs' (table expected, got " .. (select('#', ...) == 0 and 'no value' or type(t)) .. ')', 2)
  end
  return lua_ipairs(t)
end
local function extreme(name, better)
  return function(...)
    local n = select('#', ...)
    local best
    for i = 1, n > 0 and n or 1 do
      local v = select(i, ...)
      local x = (type(v) == 'number' or type(v) == 'string') and tonumber(v)
      if not x then error(format("bad argument #%d to '%s' (number expected, got %s)", i, name, i > n and 'no value' or type(v)), 2) end
      if best == nil or better(x, best) then best = x end
    end
    return best
  end
end
math.max = extreme('max', function(a, b) return a > b end)
math.min = extreme('min', function(a, b) return a < b end)

-- Redis 7.0's pcall hands back an error table's err text, as the message a 5.1 script expects.
local lua_pcall = pcall
local function pcall_result(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'table' then
    local text = e.err
    if type(text) == 'string' or type(text) == 'number' then return false, text end
  end
  return false, e
end
_G.pcall = function(...) return pcall_result(lua_pcall(...)) end

-- Redis's math.random: its own rand48 sequence, shared by all scripts, so results match Redis's.
local REDIS_LRAND48_MAX = 2147483647
math.random = function(...)
  local r = (raw_rand() % REDIS_LRAND48_MAX) / REDIS_LRAND48_MAX
  local n = select('#', ...)
  if n == 0 then return r end
  local l, u = 1, ...
  if n == 2 then l, u = ... elseif n > 2 then error('wrong number of arguments', 2) end
  l, u = floor(tonumber(l) or 0), floor(tonumber(u) or 0)
  if l > u then error("bad argument #" .. n .. " to 'random' (interval is empty)", 2) end
  return floor(r * (u - l + 1)) + l
end
math.randomseed = function(seed) raw_srand(floor(tonumber(seed) or 0)) end

-- What 5.4 added and 5.1 scripts never saw.
table.pack, table.unpack, table.move = nil, nil, nil
string.pack, string.unpack, string.packsize = nil, nil, nil
math.ult, math.tointeger, math.type, math.maxinteger, math.mininteger = nil, nil, nil, nil, nil
coroutine.close, coroutine.isyieldable = nil, nil

-- LuaBitOp 1.0 ("bit"), as Redis loads it: operations on 32-bit signed integers. Arguments round to
-- the nearest integer (ties to even) and wrap modulo 2^32, as its 2^52+2^51 bias trick does.
local function bit_arg(x, i, name)
  local n = tonumber(x)
  if n == nil or (type(x) ~= 'number' and type(x) ~= 'string') then
    error("bad argument #" .. i .. " to '" .. name .. "' (number expected, got " .. (x == nil and 'no value' or type(x)) .. ")", 3)
  end
  if mtype(n) == 'float' then
    if n ~= n or n == math.huge or n == -math.huge then return 0 end
    local f = floor(n)
    local d = n - f
    if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
    n = tointeger(math.fmod(f, 4294967296.0)) or 0
  end
  return n & 0xffffffff
end
local function signed32(u)
  u = u & 0xffffffff
  if u >= 0x80000000 then return u - 0x100000000 end
  return u
end
local function bit_fold(name, op)
  return function(...)
    local acc = bit_arg((...), 1, name)
    for i = 2, select('#', ...) do acc = op(acc, bit_arg((select(i, ...)), i, name)) end
    return signed32(acc)
  end
end
bit = {
  tobit = function(x) return signed32(bit_arg(x, 1, 'tobit')) end,
  bnot = function(x) return signed32(~bit_arg(x, 1, 'bnot')) end,
  band = bit_fold('band', function(a, b) return a & b end),
  bor = bit_fold('bor', function(a, b) return a | b end),
  bxor = bit_fold('bxor', function(a, b) return a ~ b end),
  lshift = function(x, n) return signed32(bit_arg(x, 1, 'lshift') << (bit_arg(n, 2, 'lshift') & 31)) end,
  rshift = function(x, n) return signed32(bit_arg(x, 1, 'rshift') >> (bit_arg(n, 2, 'rshift') & 31)) end,
  arshift = function(x, n) return signed32(x ~= nil and signed32(bit_arg(x, 1, 'arshift')) // (1 << (bit_arg(n, 2, 'arshift') & 31))) end,
  rol = function(x, n)
    local b, k = bit_arg(x, 1, 'rol'), bit_arg(n, 2, 'rol') & 31
    return signed32((b << k) | (b >> (32 - k)))
  end,
  ror = function(x, n)
    local b, k = bit_arg(x, 1, 'ror'), bit_arg(n, 2, 'ror') & 31
    return signed32((b >> k) | (b << (32 - k)))
  end,
  bswap = function(x)
    local b = bit_arg(x, 1, 'bswap')
    return signed32(((b & 0xff) << 24) | ((b & 0xff00) << 8) | ((b >> 8) & 0xff00) | (b >> 24))
  end,
  tohex = function(x, n)
    local b = bit_arg(x, 1, 'tohex')
    local digits = n == nil and 8 or signed32(bit_arg(n, 2, 'tohex'))
    local format = '%08x'
    if digits < 0 then digits, format = -digits, '%08X' end
    if digits > 8 then digits = 8 end
    return string.format(format, b):sub(9 - digits)
  end,
}

-- Raises an error table as Redis's luaPushError + luaError do.
local function fail(message) error({err = message}) end

local function error_table(text)
  -- Redis's luaPushErrorBuff: "-CODE msg" keeps its code, anything else becomes "ERR msg".
  if text:sub(1, 1) ~= '-' then text = '-' .. text end
  local space = text:find(' ', 1, true)
  local code, msg
  if space then code, msg = text:sub(2, space - 1), text:sub(space + 1) else code, msg = 'ERR', text:sub(2) end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end

local function single_field(field, ...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  return {[field] = value}
end

local lib = {
  REDIS_VERSION = '7.0.15',
  REDIS_VERSION_NUM = 0x07000f,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
}
lib.call = function(...)
  local reply, failed = raw_call(...)
  if failed then error(reply) end
  return reply
end
lib.pcall = raw_pcall
lib.acl_check_cmd = function(...)
  local allowed, failed = raw_command_exists(...)
  if failed then error(allowed) end
  return allowed
end
lib.error_reply = function(...)
  local value = ...
  if select('#', ...) ~= 1 or type(value) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  return error_table(value)
end
lib.status_reply = function(...) return single_field('ok', ...) end
lib.sha1hex = function(...)
  if select('#', ...) ~= 1 then fail('ERR wrong number of arguments') end
  return raw_sha1hex(...)
end
lib.log = function(...)
  if select('#', ...) < 2 then fail('ERR redis.log() requires two arguments or more.') end
  local level = tonumber((...))
  if not level then fail('ERR First argument must be a number (log level).') end
  if level < 0 or level > 3 then fail('ERR Invalid debug level.') end
  raw_log(floor(level), select(2, ...))
end
lib.setresp = function(...)
  if select('#', ...) ~= 1 then fail('ERR redis.setresp() requires one argument.') end
  local resp = tonumber((...)) or 0
  resp = resp >= 0 and floor(resp) or -floor(-resp)
  if resp ~= 2 and resp ~= 3 then fail('ERR RESP version must be 2 or 3.') end
  raw_setresp(resp)
end
lib.set_repl = function(...)
  if select('#', ...) ~= 1 then fail('ERR redis.set_repl() requires two arguments.') end
  local flags = floor(tonumber((...)) or 0)
  if flags & ~3 ~= 0 then fail('ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.') end
end
lib.replicate_commands = function() return true end
lib.breakpoint = function() return false end
lib.debug = function() end

-- Redis's __redis__err__handler: any error becomes a table {err=..., source=..., line=...} naming the
-- user's line (the caller, when a C function or a wrapper of this chunk raised it). 5.4's runtime
-- messages are reworded as 5.1 wrote them ("attempt to index local 'x' (a nil value)").
local function error_handler(err)
  local level = 2
  local info = dbg.getinfo(level, 'nSl')
  if info and info.what == 'C' then
    level = 3
    info = dbg.getinfo(level, 'nSl')
  end
  while info and info.what == 'Lua' and info.source:sub(1, 1) == '=' do -- the engine's own chunks
    level = level + 1
    info = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then
    local text = tostring(err):gsub("attempt to (.-) a (%a+) value %((%a+) '(.-)'%)", "attempt to %1 %3 '%4' (a %2 value)")
    -- 5.4 coerces strings in arithmetic through string metamethods, with a message of their own.
    text = text:gsub("attempt to %a+ a '(%a+)' with a '(%a+)'", function(a, b)
      return 'attempt to perform arithmetic on a ' .. (a == 'number' and b or a) .. ' value'
    end)
    -- An error in a library function wrapped here: at the script's line, as the original's.
    if info then text = text:gsub('^Prelude%.lua:%d+:', 'user_script:' .. info.currentline .. ':') end
    err = {err = 'ERR ' .. text}
  end
  if info then
    err['source'] = info.source
    err['line'] = info.currentline
  end
  return err
end

-- The sandbox: no files, processes, modules or debug library; library tables and globals read-only.
io, os, package, require, dofile, loadfile, print, utf8, debug, warn = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
__redis__err__handler = error_handler

local function readonly_error() error('Attempt to modify a readonly table', 2) end

local function readonly(t)
  return setmetatable({}, {__index = t, __newindex = readonly_error, __pairs = function() return next, t, nil end})
end

string, table, math, coroutine = readonly(string), readonly(table), readonly(math), readonly(coroutine)
getmetatable('').__index = string
redis = readonly(lib)
bit = readonly(bit)
cjson = readonly(cjson)
cmsgpack = readonly(cmsgpack)
struct = readonly(struct)

local globals = _G
setmetatable(globals, {
  __index = function(_, name) error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2) end,
  __newindex = readonly_error,
})
local env = setmetatable({}, {__index = globals, __newindex = readonly_error})
return error_handler, env
