-- Roberto Ierusalimschy's struct library as Redis 7.0 bundles it (the global "struct": pack, unpack,
-- size) on x86-64: native little-endian, long and size_t of 8 bytes, maximum alignment 8, and its
-- C conversions (negative numbers through long, others through unsigned long; integers wider than
-- 8 bytes keep their low 8). Error texts and argument numbers are lua_struct.c's. Run before
-- Prelude.lua, which seals the table.
local aux = ...
local type, select, tonumber, byte, sub, find, concat, spack, sunpack, tunpack, format =
  type, select, tonumber, string.byte, string.sub, string.find, table.concat, string.pack, string.unpack, table.unpack, string.format
local fail, argerror = aux.fail, aux.argerror
local mininteger, maxinteger = math.mininteger, math.maxinteger

local MAXINTSIZE, MAXALIGN, MAX_STACK = 32, 8, 8000
local sizes = {b = 1, B = 1, h = 2, H = 2, l = 8, L = 8, T = 8, f = 4, d = 8, x = 1}
local integers = {b = true, B = true, h = true, H = true, l = true, L = true, T = true, i = true, I = true}

-- getnum: the digits at fmt[pos], or the default; returns the number and the position after it.
local function getnum(fmt, pos, default)
  local digits = fmt:match('^%d+', pos)
  if not digits then return default, pos end
  local a = 0
  for i = 1, #digits do
    local d = byte(digits, i) - 48
    if a > 0x7fffffff // 10 or a * 10 > 0x7fffffff - d then fail('integral size overflow') end
    a = a * 10 + d
  end
  return a, pos + #digits
end

-- optsize: an option's size (0 for the options that take no room), and the position after it.
local function optsize(opt, fmt, pos)
  if sizes[opt] then return sizes[opt], pos end
  if opt == 'c' then return getnum(fmt, pos, 1) end
  if opt == 'i' or opt == 'I' then
    local size
    size, pos = getnum(fmt, pos, 4)
    if size > MAXINTSIZE then fail(format('integral size %d is larger than limit of %d', size, MAXINTSIZE)) end
    return size, pos
  end
  return 0, pos
end

local function gettoalign(len, h, opt, size)
  if size == 0 or opt == 'c' then return 0 end
  if size > h.align then size = h.align end
  return (size - (len & (size - 1))) & (size - 1)
end

-- controloptions: endianness, alignment, spaces; anything else is not an option.
local function controloptions(name, opt, fmt, pos, h)
  if opt == ' ' then return pos end
  if opt == '>' then h.little = false return pos end
  if opt == '<' then h.little = true return pos end
  if opt == '!' then
    local a
    a, pos = getnum(fmt, pos, MAXALIGN)
    if a <= 0 or (a & (a - 1)) ~= 0 then fail(format('alignment %d is not a power of 2', a)) end
    h.align = a
    return pos
  end
  argerror(name, 1, format("invalid format option '%s'", opt))
end

-- putinteger: the number as C converts it to an unsigned long, `size` bytes of it.
local function putinteger(n, little, size)
  local value
  if n ~= n then value = mininteger
  elseif n < 0 then value = aux.trunc(n)
  elseif n < 0x1p63 then value = aux.trunc(n)
  elseif n < 0x1p64 then value = aux.trunc(n - 0x1p63) ~ mininteger
  else value = 0 end
  local bytes = {}
  for i = 1, size do
    bytes[i] = i <= 8 and (value >> (8 * (i - 1))) & 0xff or 0
  end
  local out = {}
  for i = 1, size do out[i] = string.char(bytes[little and i or size - i + 1]) end
  return concat(out)
end

local function pack(...)
  local count = select('#', ...)
  local args = {...}
  local fmt = aux.checkstring('pack', 1, count, args[1])
  local h = {little = true, align = 1}
  local out, totalsize, arg, pos = {}, 0, 2, 1
  -- The C version pushes a nil mark after the arguments: the first missing one is "nil", not "no value".
  local function argument(i)
    if i == count + 1 then return nil, i end
    return args[i], count
  end
  while pos <= #fmt do
    local opt = sub(fmt, pos, pos)
    local size
    size, pos = optsize(opt, fmt, pos + 1)
    local toalign = gettoalign(totalsize, h, opt, size)
    totalsize = totalsize + toalign
    out[#out + 1] = string.rep('\0', toalign)
    if integers[opt] then
      local v, seen = argument(arg)
      out[#out + 1] = putinteger(aux.checknumber('pack', arg, seen, v), h.little, size)
      arg = arg + 1
    elseif opt == 'x' then
      out[#out + 1] = '\0'
    elseif opt == 'f' or opt == 'd' then
      local v, seen = argument(arg)
      out[#out + 1] = spack((h.little and '<' or '>') .. opt, aux.checknumber('pack', arg, seen, v))
      arg = arg + 1
    elseif opt == 'c' or opt == 's' then
      local v, seen = argument(arg)
      local s = aux.checkstring('pack', arg, seen, v)
      arg = arg + 1
      if size == 0 then size = #s end
      if #s < size then argerror('pack', arg, 'string too short') end
      out[#out + 1] = sub(s, 1, size)
      if opt == 's' then
        out[#out + 1] = '\0'
        size = size + 1
      end
    else
      pos = controloptions('pack', opt, fmt, pos, h)
    end
    totalsize = totalsize + size
  end
  return concat(out)
end

-- getinteger: `size` bytes as C reads them into an unsigned long (only the last 8 shifted in stay),
-- sign-extended for the signed options, as a double.
local function getinteger(data, pos, little, signed, size)
  local l = 0
  for i = 1, size do
    local at = little and pos + size - i or pos + i - 1
    l = (l << 8) | byte(data, at)
  end
  if signed then
    local mask = -1 << ((size * 8 - 1) & 63)
    if l & mask ~= 0 then l = l | mask end
    return aux.number(l)
  end
  if l >= 0 then return aux.number(l) end
  return aux.number((((l >> 1) | (l & 1)) + 0.0) * 2)
end

local function unpack(...)
  local count = select('#', ...)
  local fmt, data, init = ...
  fmt = aux.checkstring('unpack', 1, count, fmt)
  data = aux.checkstring('unpack', 2, count, data)
  local ld = #data
  local pos = aux.optinteger('unpack', 3, count, init, 1)
  if pos == 0 then argerror('unpack', 3, 'offset must be 1 or greater') end
  -- A size_t: a negative offset is huge, and so past the data.
  if pos < 0 then pos = maxinteger end
  pos = pos - 1
  local h = {little = true, align = 1}
  local results, n, at = {}, 0, 1
  while at <= #fmt do
    local opt = sub(fmt, at, at)
    local size
    size, at = optsize(opt, fmt, at + 1)
    pos = pos + gettoalign(pos, h, opt, size)
    if not (size <= ld and pos <= ld - size) then argerror('unpack', 2, 'data string too short') end
    if count + n + 2 > MAX_STACK then fail('stack overflow (too many results)') end
    if integers[opt] then
      n = n + 1
      results[n] = getinteger(data, pos + 1, h.little, opt:lower() == opt, size)
    elseif opt == 'f' or opt == 'd' then
      n = n + 1
      results[n] = aux.number(sunpack((h.little and '<' or '>') .. opt, data, pos + 1))
    elseif opt == 'c' then
      if size == 0 then
        local previous = n > 0 and tonumber(results[n])
        if not previous then fail("format 'c0' needs a previous size") end
        size = aux.trunc(previous)
        if size < 0 then size = maxinteger end -- a size_t
        n = n - 1
        if not (size <= ld and pos <= ld - size) then argerror('unpack', 2, 'data string too short') end
      end
      n = n + 1
      results[n] = sub(data, pos + 1, pos + size)
    elseif opt == 's' then
      local zero = find(data, '\0', pos + 1, true)
      if not zero then fail('unfinished string in data') end
      size = zero - pos
      n = n + 1
      results[n] = sub(data, pos + 1, zero - 1)
    elseif opt ~= 'x' then
      at = controloptions('unpack', opt, fmt, at, h)
    end
    pos = pos + size
  end
  n = n + 1
  results[n] = pos + 1
  return tunpack(results, 1, n)
end

local function size(...)
  local count = select('#', ...)
  local fmt = aux.checkstring('size', 1, count, (...))
  local h = {little = true, align = 1}
  local pos, at = 0, 1
  while at <= #fmt do
    local opt = sub(fmt, at, at)
    local optionsize
    optionsize, at = optsize(opt, fmt, at + 1)
    pos = pos + gettoalign(pos, h, opt, optionsize)
    if opt == 's' then argerror('size', 1, "option 's' has no fixed size")
    elseif opt == 'c' and optionsize == 0 then argerror('size', 1, "option 'c0' has no fixed size") end
    if not opt:match('%w') then at = controloptions('size', opt, fmt, at, h) end
    pos = pos + optionsize
  end
  return pos
end

struct = {
  pack = aux.entry(pack),
  unpack = aux.entry(unpack),
  size = aux.entry(size),
}
