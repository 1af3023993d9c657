-- lua-cjson 2.1.0 as Redis 7.0 loads it (the global "cjson"): encode and decode with its defaults
-- (14-digit numbers, sparse arrays up to ratio 2 / safe 10 refused, NaN/Inf refused on encode and
-- accepted on decode, nesting limited to 1000), its configuration functions (each module's own
-- settings; cjson.new makes a module with fresh ones) and its error texts. Run before Prelude.lua.
local aux, null = ...
local type, tostring, tonumber, pairs, select, floor, format, byte, char, sub, find, concat =
  type, tostring, tonumber, pairs, select, math.floor, string.format, string.byte, string.char, string.sub, string.find, table.concat
local huge = math.huge
local fail, argerror = aux.fail, aux.argerror

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
for c = 0, 31 do
  local ch = char(c)
  if not escapes[ch] then escapes[ch] = format('\\u%04x', c) end
end
escapes['\127'] = '\\u007f'

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\/\127]', escapes) .. '"'
end

-- encode_invalid_numbers: 0 refuses NaN and Inf, 1 writes them as C prints them, 2 as null.
local function encode_number(cfg, n)
  if n ~= n or n == huge or n == -huge then
    if cfg.encode_invalid == 0 then fail('Cannot serialise number: must not be NaN or Inf') end
    if cfg.encode_invalid == 2 then return 'null' end
    if n ~= n then return 'nan' end
  end
  return format(cfg.number_format, n)
end

-- lua-cjson's lua_array_length: the largest index when every key is a positive integer, else -1
-- (and -1 for an excessively sparse array when encode_sparse_array converts those to objects).
local function array_length(cfg, t)
  local max, items = 0, 0
  for k in pairs(t) do
    if type(k) ~= 'number' or k < 1 or floor(k) ~= k then return -1 end
    if k > max then max = k end
    items = items + 1
  end
  if cfg.sparse_ratio > 0 and max > items * cfg.sparse_ratio and max > cfg.sparse_safe then
    if cfg.sparse_convert == 0 then fail('Cannot serialise table: excessively sparse array') end
    return -1
  end
  return max
end

local encode_value

local function encode_table(cfg, t, depth, out)
  if depth > cfg.encode_max_depth then fail('Cannot serialise, excessive nesting (' .. depth .. ')') end
  local length = array_length(cfg, t)
  if length > 0 then
    out[#out + 1] = '['
    for i = 1, length do
      if i > 1 then out[#out + 1] = ',' end
      encode_value(cfg, t[i], depth, out)
    end
    out[#out + 1] = ']'
    return
  end
  out[#out + 1] = '{'
  local first = true
  for k, v in pairs(t) do
    if not first then out[#out + 1] = ',' end
    first = false
    if type(k) == 'string' then out[#out + 1] = encode_string(k)
    elseif type(k) == 'number' then out[#out + 1] = '"' .. encode_number(cfg, k) .. '"'
    else fail('Cannot serialise ' .. type(k) .. ': table key must be a number or string') end
    out[#out + 1] = ':'
    encode_value(cfg, v, depth, out)
  end
  out[#out + 1] = '}'
end

encode_value = function(cfg, v, depth, out)
  local t = type(v)
  if t == 'string' then out[#out + 1] = encode_string(v)
  elseif t == 'number' then out[#out + 1] = encode_number(cfg, v)
  elseif t == 'boolean' then out[#out + 1] = tostring(v)
  elseif t == 'nil' or v == null then out[#out + 1] = 'null'
  elseif t == 'table' then encode_table(cfg, v, depth + 1, out)
  else fail('Cannot serialise ' .. t .. ': type not supported') end
end

-- Decoding: a tokenizer over the text, as lua-cjson's json_next_token, and a recursive parser.
local TOKEN_END = 'T_END'

local function utf8_char(code)
  if code < 0x80 then return char(code) end
  if code < 0x800 then return char(0xC0 | (code >> 6), 0x80 | (code & 0x3F)) end
  if code < 0x10000 then return char(0xE0 | (code >> 12), 0x80 | ((code >> 6) & 0x3F), 0x80 | (code & 0x3F)) end
  return char(0xF0 | (code >> 18), 0x80 | ((code >> 12) & 0x3F), 0x80 | ((code >> 6) & 0x3F), 0x80 | (code & 0x3F))
end

local simple_escapes = {['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f', n = '\n', r = '\r', t = '\t'}

-- Reads a string token starting after its opening quote; returns the value and the next position,
-- or nil, the error and its position.
local function read_string(s, pos)
  local parts = {}
  while true do
    -- A NUL ends the text, as in C.
    local stop = find(s, '["\\\0]', pos)
    if not stop or sub(s, stop, stop) == '\0' then return nil, 'unexpected end of string', stop or #s + 1 end
    parts[#parts + 1] = sub(s, pos, stop - 1)
    if sub(s, stop, stop) == '"' then return concat(parts), stop + 1 end
    local e = sub(s, stop + 1, stop + 1)
    if e == '' then return nil, 'unexpected end of string', #s + 1 end
    if simple_escapes[e] then
      parts[#parts + 1] = simple_escapes[e]
      pos = stop + 2
    elseif e == 'u' then
      local hex = s:match('^%x%x%x%x', stop + 2)
      if not hex then return nil, 'invalid unicode escape code', stop end
      local code = tonumber(hex, 16)
      pos = stop + 6
      if code >= 0xD800 and code <= 0xDBFF then
        local low = s:match('^\\u(%x%x%x%x)', pos)
        low = low and tonumber(low, 16)
        if not low or low < 0xDC00 or low > 0xDFFF then return nil, 'invalid unicode escape code', stop end
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        pos = pos + 6
      elseif code >= 0xDC00 and code <= 0xDFFF then
        return nil, 'invalid unicode escape code', stop
      end
      parts[#parts + 1] = utf8_char(code)
    else
      return nil, 'invalid escape code', stop
    end
  end
end

-- C's strtod at pos: the longest prefix that is a number (with inf, infinity and nan), or nil.
local function read_number(s, pos)
  local text = s:match('^[-+%w%.]+', pos) or ''
  while #text > 0 do
    local n = tonumber(text)
    local lower = text:lower()
    if not n then
      if lower == 'nan' or lower == '-nan' or lower == '+nan' then n = 0 / 0
      elseif lower == 'inf' or lower == 'infinity' or lower == '+inf' or lower == '+infinity' then n = huge
      elseif lower == '-inf' or lower == '-infinity' then n = -huge end
    end
    if n then return aux.number(n), pos + #text end
    text = sub(text, 1, -2)
  end
  return nil
end

-- json_is_invalid_number: what JSON does not allow but strtod reads (a leading + or zero, hex, inf, nan).
local function is_invalid_number(s, pos)
  local c = byte(s, pos)
  if c == 43 then return true end -- +
  if c == 45 then pos = pos + 1 c = byte(s, pos) end -- -
  if c == 48 then -- 0
    local next = byte(s, pos + 1) or 0
    return (next | 0x20) == 0x78 or (next >= 48 and next <= 57)
  end
  if c == nil or c <= 57 or c >= 128 then return false end -- an ordinary number (C's char is signed)
  local three = sub(s, pos, pos + 2):lower()
  return three == 'inf' or three == 'nan'
end

local punctuation = {['{'] = 'T_OBJ_BEGIN', ['}'] = 'T_OBJ_END', ['['] = 'T_ARR_BEGIN', [']'] = 'T_ARR_END', [':'] = 'T_COLON', [','] = 'T_COMMA'}

local function number_token(s, pos)
  local n, after = read_number(s, pos)
  if n then return 'T_NUMBER', n, pos, after end
  return 'T_ERROR', 'invalid number', pos, pos
end

-- json_next_token: returns kind, value, start, next position; kind 'T_ERROR' carries the error
-- text as value. The text ends at its end or at a NUL, as a C string does.
local function next_token(cfg, s, pos)
  pos = find(s, '[^ \t\n\r]', pos) or #s + 1
  local c = sub(s, pos, pos)
  if c == '' or c == '\0' then return TOKEN_END, nil, pos, pos end
  if punctuation[c] then return punctuation[c], nil, pos, pos + 1 end
  if c == '"' then
    local value, after, errpos = read_string(s, pos + 1)
    if value == nil then return 'T_ERROR', after, errpos, errpos end
    return 'T_STRING', value, pos, after
  end
  if c == '-' or find(c, '%d') then
    if cfg.decode_invalid == 0 and is_invalid_number(s, pos) then return 'T_ERROR', 'invalid number', pos, pos end
    return number_token(s, pos)
  end
  if sub(s, pos, pos + 3) == 'true' then return 'T_BOOLEAN', true, pos, pos + 4 end
  if sub(s, pos, pos + 4) == 'false' then return 'T_BOOLEAN', false, pos, pos + 5 end
  if sub(s, pos, pos + 3) == 'null' then return 'T_NULL', null, pos, pos + 4 end
  if cfg.decode_invalid ~= 0 and is_invalid_number(s, pos) then return number_token(s, pos) end
  return 'T_ERROR', 'invalid token', pos, pos
end

local function unexpected(expected, kind, value, start)
  fail(format('Expected %s but found %s at character %d', expected, kind == 'T_ERROR' and value or kind, start))
end

local parse_value

local function parse_object(cfg, s, pos, depth)
  local result = {}
  local kind, value, start, after = next_token(cfg, s, pos)
  if kind == 'T_OBJ_END' then return result, after end
  while true do
    if kind ~= 'T_STRING' then unexpected('object key string', kind, value, start) end
    local key = value
    kind, value, start, after = next_token(cfg, s, after)
    if kind ~= 'T_COLON' then unexpected('colon', kind, value, start) end
    result[key], after = parse_value(cfg, s, after, depth)
    kind, value, start, after = next_token(cfg, s, after)
    if kind == 'T_OBJ_END' then return result, after end
    if kind ~= 'T_COMMA' then unexpected('comma or object end', kind, value, start) end
    kind, value, start, after = next_token(cfg, s, after)
  end
end

local function parse_array(cfg, s, pos, depth)
  local result = {}
  local kind, _, _, after = next_token(cfg, s, pos)
  if kind == 'T_ARR_END' then return result, after end
  local i = 1
  after = pos
  while true do
    local value, start
    result[i], after = parse_value(cfg, s, after, depth)
    i = i + 1
    kind, value, start, after = next_token(cfg, s, after)
    if kind == 'T_ARR_END' then return result, after end
    if kind ~= 'T_COMMA' then unexpected('comma or array end', kind, value, start) end
  end
end

parse_value = function(cfg, s, pos, depth)
  local kind, value, start, after = next_token(cfg, s, pos)
  if kind == 'T_OBJ_BEGIN' or kind == 'T_ARR_BEGIN' then
    if depth + 1 > cfg.decode_max_depth then fail(format('Found too many nested data structures (%d) at character %d', depth + 1, start)) end
    if kind == 'T_OBJ_BEGIN' then return parse_object(cfg, s, after, depth + 1) end
    return parse_array(cfg, s, after, depth + 1)
  end
  if kind == 'T_STRING' or kind == 'T_NUMBER' or kind == 'T_BOOLEAN' or kind == 'T_NULL' then return value, after end
  unexpected('value', kind, value, start)
end

local function one_argument(name, count)
  if count ~= 1 then argerror(name, 1, 'expected 1 argument') end
end

local function encode(cfg, ...)
  one_argument('encode', select('#', ...))
  local out = {}
  encode_value(cfg, (...), 0, out)
  return concat(out)
end

local function decode(cfg, ...)
  local count = select('#', ...)
  one_argument('decode', count)
  local s = aux.checkstring('decode', 1, count, (...))
  if #s >= 2 and (byte(s, 1) == 0 or byte(s, 2) == 0) then fail('JSON parser does not support UTF-16 or UTF-32') end
  local value, after = parse_value(cfg, s, 1, 0)
  local kind, found, start = next_token(cfg, s, after)
  if kind ~= TOKEN_END then unexpected('the end', kind, found, start) end
  return value
end

-- Configuration (json_arg_init, json_enum_option, json_integer_option): each function sets what
-- it is given (nil leaves a setting) and returns the settings.
local function arguments(name, limit, ...)
  local count = select('#', ...)
  if count > limit then argerror(name, limit + 1, 'found too many arguments') end
  return count
end

local on_off = {'off', 'on'}

-- A setting from a boolean or one of `options` (0-based); returns it and what the function returns
-- for it: a boolean for off/on, else the option's name.
local function enum_option(name, count, value, setting, options)
  options = options or on_off
  if value ~= nil then
    if type(value) == 'boolean' then setting = value and 1 or 0
    else setting = aux.checkoption(name, 1, count, value, options) end
  end
  if setting <= 1 then return setting, setting == 1 end
  return setting, options[setting + 1]
end

-- An integer setting within [min, max] (C checks it as argument 1 whatever its position).
local function integer_option(name, index, count, value, setting, min, max)
  if value == nil then return setting end
  local n = aux.int32(aux.checkinteger(name, index, count, value))
  if n < min or n > max then argerror(name, 1, format('expected integer between %d and %d', min, max)) end
  return n
end

local INT_MAX = 0x7fffffff

local function new()
  local cfg = {
    sparse_convert = 0, sparse_ratio = 2, sparse_safe = 10,
    encode_max_depth = 1000, decode_max_depth = 1000,
    encode_invalid = 0, decode_invalid = 1, keep_buffer = 1,
    precision = 14, number_format = '%.14g',
  }
  local module = {_NAME = 'cjson', _VERSION = '2.1.0', null = null, new = aux.entry(function() return new() end)}
  module.encode = aux.entry(function(...) return encode(cfg, ...) end)
  module.decode = aux.entry(function(...) return decode(cfg, ...) end)
  module.encode_sparse_array = aux.entry(function(...)
    local name = 'encode_sparse_array'
    local count = arguments(name, 3, ...)
    local convert, ratio, safe = ...
    local result
    cfg.sparse_convert, result = enum_option(name, count, convert, cfg.sparse_convert)
    cfg.sparse_ratio = integer_option(name, 2, count, ratio, cfg.sparse_ratio, 0, INT_MAX)
    cfg.sparse_safe = integer_option(name, 3, count, safe, cfg.sparse_safe, 0, INT_MAX)
    return result, cfg.sparse_ratio, cfg.sparse_safe
  end)
  local function integer_setting(name, field, min, max, on_set)
    module[name] = aux.entry(function(...)
      local count = arguments(name, 1, ...)
      cfg[field] = integer_option(name, 1, count, (...), cfg[field], min, max)
      if on_set then on_set() end
      return cfg[field]
    end)
  end
  integer_setting('encode_max_depth', 'encode_max_depth', 1, INT_MAX)
  integer_setting('decode_max_depth', 'decode_max_depth', 1, INT_MAX)
  integer_setting('encode_number_precision', 'precision', 1, 14, function() cfg.number_format = '%.' .. cfg.precision .. 'g' end)
  local function enum_setting(name, field, options)
    module[name] = aux.entry(function(...)
      local count = arguments(name, 1, ...)
      local result
      cfg[field], result = enum_option(name, count, (...), cfg[field], options)
      return result
    end)
  end
  enum_setting('encode_keep_buffer', 'keep_buffer')
  enum_setting('encode_invalid_numbers', 'encode_invalid', {'off', 'on', 'null'})
  enum_setting('decode_invalid_numbers', 'decode_invalid')
  return module
end

cjson = new()
