-- lua-cjson 2.1.0 as Redis 7.0 loads it (the global "cjson"): encode and decode with its defaults
-- (14-digit numbers, sparse arrays up to ratio 2 / safe 10 refused, NaN/Inf refused on encode and
-- accepted on decode, nesting limited to 1000) and its error texts. Run before Prelude.lua.
local null = ...
local type, tostring, tonumber, pairs, error, pcall, floor, format, byte, char, sub, find, concat =
  type, tostring, tonumber, pairs, error, pcall, math.floor, string.format, string.byte, string.char, string.sub, string.find, table.concat
local MAX_DEPTH = 1000

-- Errors inside the walkers are thrown as {message} and re-raised at the caller's level by the entry points.
local function fail(message) error({message}, 0) end

local function entry(walk, name)
  return function(...)
    if select('#', ...) ~= 1 then error("bad argument #1 to '" .. name .. "' (expected 1 argument)", 2) end
    local ok, result = pcall(walk, ...)
    if not ok then
      if type(result) == 'table' then error(result[1], 2) end
      error(result, 0)
    end
    return result
  end
end

local escapes = {['"'] = '\\"', ['\\'] = '\\\\', ['/'] = '\\/', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
for c = 0, 31 do
  local ch = char(c)
  if not escapes[ch] then escapes[ch] = format('\\u%04x', c) end
end
escapes['\127'] = '\\u007f'

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\/\127]', escapes) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then fail('Cannot serialise number: must not be NaN or Inf') end
  return format('%.14g', n)
end

-- lua-cjson's lua_array_length: the largest index when every key is a positive integer, else -1.
local function array_length(t)
  local max, items = 0, 0
  for k in pairs(t) do
    if type(k) ~= 'number' or k < 1 or floor(k) ~= k then return -1 end
    if k > max then max = k end
    items = items + 1
  end
  if max > items * 2 and max > 10 then fail('Cannot serialise table: excessively sparse array') end
  return max
end

local encode_value

local function encode_table(t, depth, out)
  if depth > MAX_DEPTH then fail('Cannot serialise, excessive nesting (' .. depth .. ')') end
  local length = array_length(t)
  if length > 0 then
    out[#out + 1] = '['
    for i = 1, length do
      if i > 1 then out[#out + 1] = ',' end
      encode_value(t[i], depth, out)
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
    elseif type(k) == 'number' then out[#out + 1] = '"' .. encode_number(k) .. '"'
    else fail('Cannot serialise ' .. type(k) .. ': table key must be a number or string') end
    out[#out + 1] = ':'
    encode_value(v, depth, out)
  end
  out[#out + 1] = '}'
end

encode_value = function(v, depth, out)
  local t = type(v)
  if t == 'string' then out[#out + 1] = encode_string(v)
  elseif t == 'number' then out[#out + 1] = encode_number(v)
  elseif t == 'boolean' then out[#out + 1] = tostring(v)
  elseif t == 'nil' or v == null then out[#out + 1] = 'null'
  elseif t == 'table' then encode_table(v, depth + 1, out)
  else fail('Cannot serialise ' .. t .. ': type not supported') end
end

local function encode(v)
  local out = {}
  encode_value(v, 0, out)
  return concat(out)
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
    local stop = find(s, '["\\]', pos)
    if not stop then return nil, 'unexpected end of string', #s + 1 end
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

local function read_number(s, pos)
  local text = s:match('^[-+%w%.]+', pos)
  while #text > 0 do
    local n = tonumber(text)
    local lower = text:lower()
    if not n then
      if lower == 'nan' or lower == '-nan' then n = 0 / 0
      elseif lower == 'inf' or lower == 'infinity' then n = math.huge
      elseif lower == '-inf' or lower == '-infinity' then n = -math.huge end
    end
    if n then return n, pos + #text end
    text = sub(text, 1, -2)
  end
  return nil
end

local punctuation = {['{'] = 'T_OBJ_BEGIN', ['}'] = 'T_OBJ_END', ['['] = 'T_ARR_BEGIN', [']'] = 'T_ARR_END', [':'] = 'T_COLON', [','] = 'T_COMMA'}

-- Returns kind, value, start, next position; kind 'T_ERROR' carries the error text as value.
local function next_token(s, pos)
  pos = find(s, '[^ \t\n\r]', pos) or #s + 1
  local c = sub(s, pos, pos)
  if c == '' then return TOKEN_END, nil, pos, pos end
  if punctuation[c] then return punctuation[c], nil, pos, pos + 1 end
  if c == '"' then
    local value, after, errpos = read_string(s, pos + 1)
    if value == nil then return 'T_ERROR', after, errpos, errpos end
    return 'T_STRING', value, pos, after
  end
  if sub(s, pos, pos + 3) == 'true' then return 'T_BOOLEAN', true, pos, pos + 4 end
  if sub(s, pos, pos + 4) == 'false' then return 'T_BOOLEAN', false, pos, pos + 5 end
  if sub(s, pos, pos + 3) == 'null' then return 'T_NULL', null, pos, pos + 4 end
  if c == '-' or find(c, '%d') or c == 'n' or c == 'i' or c == 'I' or c == 'N' then
    local n, after = read_number(s, pos)
    if n then return 'T_NUMBER', n, pos, after end
  end
  return 'T_ERROR', 'invalid token', pos, pos
end

local function unexpected(expected, kind, value, start)
  fail(format('Expected %s but found %s at character %d', expected, kind == 'T_ERROR' and value or kind, start))
end

local parse_value

local function parse_object(s, pos, depth)
  local result = {}
  local kind, value, start, after = next_token(s, pos)
  if kind == 'T_OBJ_END' then return result, after end
  while true do
    if kind ~= 'T_STRING' then unexpected('object key string', kind, value, start) end
    local key = value
    kind, value, start, after = next_token(s, after)
    if kind ~= 'T_COLON' then unexpected('colon', kind, value, start) end
    result[key], after = parse_value(s, after, depth)
    kind, value, start, after = next_token(s, after)
    if kind == 'T_OBJ_END' then return result, after end
    if kind ~= 'T_COMMA' then unexpected('comma or object end', kind, value, start) end
    kind, value, start, after = next_token(s, after)
  end
end

local function parse_array(s, pos, depth)
  local result = {}
  local kind, value, start, after = next_token(s, pos)
  if kind == 'T_ARR_END' then return result, after end
  local i = 1
  after = pos
  while true do
    result[i], after = parse_value(s, after, depth)
    i = i + 1
    kind, value, start, after = next_token(s, after)
    if kind == 'T_ARR_END' then return result, after end
    if kind ~= 'T_COMMA' then unexpected('comma or array end', kind, value, start) end
  end
end

parse_value = function(s, pos, depth)
  local kind, value, start, after = next_token(s, pos)
  if kind == 'T_OBJ_BEGIN' or kind == 'T_ARR_BEGIN' then
    if depth + 1 > MAX_DEPTH then fail(format('Found too many nested data structures (%d) at character %d', depth + 1, start)) end
    if kind == 'T_OBJ_BEGIN' then return parse_object(s, after, depth + 1) end
    return parse_array(s, after, depth + 1)
  end
  if kind == 'T_STRING' or kind == 'T_NUMBER' or kind == 'T_BOOLEAN' or kind == 'T_NULL' then return value, after end
  unexpected('value', kind, value, start)
end

local function decode(s)
  local t = type(s)
  if t == 'number' then s = tostring(s)
  elseif t ~= 'string' then fail("bad argument #1 to 'decode' (string expected, got " .. (t == 'nil' and 'no value' or t) .. ')') end
  local value, after = parse_value(s, 1, 0)
  local kind, found, start = next_token(s, after)
  if kind ~= TOKEN_END then unexpected('the end', kind, found, start) end
  return value
end

cjson = {
  _NAME = 'cjson',
  _VERSION = '2.1.0',
  null = null,
  encode = entry(encode, 'encode'),
  decode = entry(decode, 'decode'),
}
