-- lua-cmsgpack 0.4.0 as Redis 7.0 loads it (the global "cmsgpack"): the same bytes for the same Lua
-- 5.1 values (map entries come in 5.4's table order), its decoding, error texts and stack limits.
-- Run before Prelude.lua, which seals the table.
local aux = ...
local type, select, next, rawlen, rawget, concat, char, byte, sub, spack, sunpack, tunpack, format =
  type, select, next, rawlen, rawget, table.concat, string.char, string.byte, string.sub, string.pack, string.unpack, table.unpack, string.format
local mtype, tointeger, floor = math.type, math.tointeger, math.floor
local fail, fail_bare = aux.fail, aux.fail_bare

local MAX_NESTING = 16
-- Lua 5.1's LUAI_MAXCSTACK: a C function may hold at most this many stack slots.
local MAX_STACK = 8000

local function encode_int(n, out)
  if n >= 0 then
    if n <= 127 then out[#out + 1] = char(n)
    elseif n <= 0xff then out[#out + 1] = char(0xcc, n)
    elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xcd, n)
    elseif n <= 0xffffffff then out[#out + 1] = spack('>BI4', 0xce, n)
    else out[#out + 1] = spack('>Bi8', 0xcf, n) end
  else
    if n >= -32 then out[#out + 1] = spack('b', n)
    elseif n >= -128 then out[#out + 1] = spack('>Bb', 0xd0, n)
    elseif n >= -32768 then out[#out + 1] = spack('>Bi2', 0xd1, n)
    elseif n >= -2147483648 then out[#out + 1] = spack('>Bi4', 0xd2, n)
    else out[#out + 1] = spack('>Bi8', 0xd3, n) end
  end
end

-- 5.1 numbers are doubles: integral ones that fit in 64 bits go out as integers, the rest as a
-- float when a float holds them exactly, else as a double.
local function encode_number(n, out)
  local i = mtype(n) == 'integer' and n or (n >= -0x1p63 and n < 0x1p63 and tointeger(n))
  if i then return encode_int(i, out) end
  local single = spack('>f', n)
  local back = sunpack('>f', single)
  if back == n then out[#out + 1] = '\202' .. single
  else out[#out + 1] = spack('>Bd', 0xcb, n) end
end

local function encode_length(n, fix, tag16, tag32, out)
  if n <= 15 then out[#out + 1] = char(fix | n)
  elseif n <= 0xffff then out[#out + 1] = spack('>BI2', tag16, n)
  else out[#out + 1] = spack('>BI4', tag32, n) end
end

local function encode_string(s, out)
  local n = #s
  if n < 32 then out[#out + 1] = char(0xa0 | n)
  elseif n <= 0xff then out[#out + 1] = char(0xd9, n)
  elseif n <= 0xffff then out[#out + 1] = spack('>BI2', 0xda, n)
  else out[#out + 1] = spack('>BI4', 0xdb, n) end
  out[#out + 1] = s
end

-- table_is_an_array: every key a positive integral number that fits a C int, and as many keys as the largest.
local function is_array(t)
  local count, max = 0, 0
  for k in next, t do
    if type(k) ~= 'number' or k <= 0 or k ~= floor(k) or k > 0x7fffffff then return false end
    if k > max then max = k end
    count = count + 1
  end
  return max == count
end

local encode_value

local function encode_table(t, level, out)
  if is_array(t) then
    local n = rawlen(t)
    encode_length(n, 0x90, 0xdc, 0xdd, out)
    for i = 1, n do encode_value(t[i], level + 1, out) end
    return
  end
  local n = 0
  for _ in next, t do n = n + 1 end
  encode_length(n, 0x80, 0xde, 0xdf, out)
  for k, v in next, t do
    encode_value(k, level + 1, out)
    encode_value(v, level + 1, out)
  end
end

encode_value = function(v, level, out)
  local t = type(v)
  if t == 'string' then encode_string(v, out)
  elseif t == 'boolean' then out[#out + 1] = v and '\195' or '\194'
  elseif t == 'number' then encode_number(v, out)
  elseif t == 'table' and level < MAX_NESTING then encode_table(v, level, out)
  else out[#out + 1] = '\192' end -- nil, functions, userdata (cjson.null) and tables nested too deep
end

local function pack(...)
  local count = select('#', ...)
  if count == 0 then aux.argerror('pack', 0, 'MessagePack pack needs input.') end
  local out = {}
  for i = 1, count do encode_value((select(i, ...)), 0, out) end
  return concat(out)
end

-- Decoding: each function returns the value and the next position. A truncated or unknown input
-- fails at once (the C version stops there and its caller raises). `stack` counts the slots the C
-- version would hold at that point, for its "stack overflow" error.
local decode_value

local function need(s, pos, n)
  if pos + n - 1 > #s then fail('Missing bytes in input.') end
end

local function decode_array(s, pos, n, stack)
  if stack + 2 > MAX_STACK then fail('stack overflow (in function mp_decode_to_lua_array)') end
  local t = {}
  for i = 1, n do
    t[i], pos = decode_value(s, pos, stack + 2) -- the table and the index
  end
  return t, pos
end

local function decode_map(s, pos, n, stack)
  local t = {}
  for _ = 1, n do
    local k, v
    k, pos = decode_value(s, pos, stack + 1)
    v, pos = decode_value(s, pos, stack + 2)
    if k == nil then fail_bare('table index is nil') end
    if k ~= k then fail_bare('table index is NaN') end
    t[k] = v
  end
  return t, pos
end

local function decode_bytes(s, pos, header, n)
  need(s, pos, header + n)
  return sub(s, pos + header, pos + header + n - 1), pos + header + n
end

-- Fixed-size numbers: tag byte -> unpack format and size (5.1 holds every one as a double).
local fixed = {
  [0xcc] = {'>B', 1}, [0xcd] = {'>I2', 2}, [0xce] = {'>I4', 4}, [0xcf] = {'>i8', 8},
  [0xd0] = {'>b', 1}, [0xd1] = {'>i2', 2}, [0xd2] = {'>i4', 4}, [0xd3] = {'>i8', 8},
  [0xca] = {'>f', 4}, [0xcb] = {'>d', 8},
}
-- Tags with a big-endian length: tag -> size of the length, and what follows.
local sized = {
  [0xd9] = {1, 'bytes'}, [0xda] = {2, 'bytes'}, [0xdb] = {4, 'bytes'},
  [0xdc] = {2, 'array'}, [0xdd] = {4, 'array'}, [0xde] = {2, 'map'}, [0xdf] = {4, 'map'},
}

decode_value = function(s, pos, stack)
  need(s, pos, 1)
  if stack + 1 > MAX_STACK then
    fail('stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)')
  end
  local b = byte(s, pos)
  local number = fixed[b]
  if number then
    need(s, pos, 1 + number[2])
    return aux.number(sunpack(number[1], s, pos + 1)), pos + 1 + number[2]
  end
  local length = sized[b]
  if length then
    local size, kind = length[1], length[2]
    need(s, pos, 1 + size)
    local n = sunpack('>I' .. size, s, pos + 1)
    if kind == 'bytes' then return decode_bytes(s, pos, 1 + size, n) end
    if kind == 'array' then return decode_array(s, pos + 1 + size, n, stack) end
    return decode_map(s, pos + 1 + size, n, stack)
  end
  if b == 0xc0 then return nil, pos + 1 end
  if b == 0xc2 or b == 0xc3 then return b == 0xc3, pos + 1 end
  if b < 0x80 then return b, pos + 1 end
  if b >= 0xe0 then return b - 256, pos + 1 end
  if b >= 0xa0 and b <= 0xbf then return decode_bytes(s, pos, 1, b & 0x1f) end
  if b >= 0x90 and b <= 0x9f then return decode_array(s, pos + 1, b & 0xf, stack) end
  if b >= 0x80 and b <= 0x8f then return decode_map(s, pos + 1, b & 0xf, stack) end
  fail('Bad data format in input.')
end

-- mp_unpack_full: limit 0 with offset 0 decodes everything and returns no offset.
local function unpack_full(name, count, s, limit, offset)
  s = aux.checkstring(name, 1, count, s)
  local len = #s
  if offset < 0 or limit < 0 then
    fail(format('Invalid request to unpack with offset of %d and limit of %d.', aux.int32(offset), len))
  elseif offset > len then
    fail(format('Start offset %d greater than input length %d.', aux.int32(offset), len))
  end
  local all = limit == 0 and offset == 0
  if all then limit = 0x7fffffff end
  local results, n, pos = {}, 0, offset + 1
  while pos <= len and n < limit do
    n = n + 1
    results[n], pos = decode_value(s, pos, n)
  end
  if all then return tunpack(results, 1, n) end
  return (pos > len and -1 or pos - 1), tunpack(results, 1, n)
end

local function unpack(...)
  return unpack_full('unpack', select('#', ...), (...), 0, 0)
end

local function unpack_one(...)
  local count = select('#', ...)
  local s, offset = ...
  offset = aux.optinteger('unpack_one', 2, count, offset, 0)
  return unpack_full('unpack_one', count, s, 1, offset)
end

local function unpack_limit(...)
  local count = select('#', ...)
  local s, limit, offset = ...
  limit = aux.checkinteger('unpack_limit', 2, count, limit)
  offset = aux.optinteger('unpack_limit', 3, count, offset, 0)
  return unpack_full('unpack_limit', count, s, limit, offset)
end

cmsgpack = {
  _NAME = 'cmsgpack',
  _VERSION = 'lua-cmsgpack 0.4.0',
  _COPYRIGHT = 'Copyright (C) 2012, Salvatore Sanfilippo',
  _DESCRIPTION = 'MessagePack C implementation for Lua',
  pack = aux.entry(pack),
  unpack = aux.entry(unpack),
  unpack_one = aux.entry(unpack_one),
  unpack_limit = aux.entry(unpack_limit),
}
