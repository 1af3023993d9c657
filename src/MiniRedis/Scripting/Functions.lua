-- Run once on the functions' own Lua state, after Prelude.lua (Redis's function_lua.c): builds the
-- API a library sees while FUNCTION LOAD runs its code, and returns the loader.
--
-- While a library loads, the globals it can reach are only `redis`, holding register_function, log,
-- the LOG_* levels and the version (any other name is "nonexistent global variable", as in Redis);
-- afterwards its functions run with the full sandbox of scripts. Libraries share one environment
-- table: the loader swaps what its metatable falls back to, as Redis swaps its globals' __index.

local env, error_handler, debug_library, now_ms = ...
local sethook, gethook = debug_library.sethook, debug_library.gethook
local redis_api = redis
local error, type, tostring, select, next, setmetatable, getmetatable, xpcall = error, type, tostring, select, next, setmetatable, getmetatable, xpcall
local lower, find = string.lower, string.find

local FLAGS = {['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true, ['allow-cross-slot-keys'] = true}

-- The functions the library being loaded registered, in order; nil outside FUNCTION LOAD.
local registered

local function fail(message) error({err = 'ERR ' .. message}) end

-- Redis's luaGetStringSds accepts what lua_isstring does: strings and numbers.
local function as_string(value)
  local t = type(value)
  if t == 'string' then return value end
  if t == 'number' then return tostring(value) end
  return nil
end

local function read_flags(list)
  local flags = {}
  local i = 1
  while true do
    local flag = list[i]
    if flag == nil then return flags end
    flag = as_string(flag)
    if flag == nil or not FLAGS[lower(flag)] then fail('unknown flag given') end
    flags[#flags + 1] = lower(flag)
    i = i + 1
  end
end

local function read_named(args)
  if type(args) ~= 'table' then
    fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).')
  end
  local name, description, callback, flags
  for key, value in next, args do
    if type(key) ~= 'string' and type(key) ~= 'number' then fail('named argument key given to redis.register_function is not a string') end
    key = lower(tostring(key))
    if key == 'function_name' then
      name = as_string(value)
      if name == nil then fail('function_name argument given to redis.register_function must be a string') end
    elseif key == 'description' then
      description = as_string(value)
      if description == nil then fail('description argument given to redis.register_function must be a string') end
    elseif key == 'callback' then
      if type(value) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
      callback = value
    elseif key == 'flags' then
      if type(value) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
      flags = read_flags(value)
    else
      fail('unknown argument given to redis.register_function')
    end
  end
  if name == nil then fail('redis.register_function must get a function name argument') end
  if callback == nil then fail('redis.register_function must get a callback argument') end
  return name, callback, description, flags or {}
end

local function read_positional(name, callback)
  name = as_string(name)
  if name == nil then fail('first argument to redis.register_function must be a string') end
  if type(callback) ~= 'function' then fail('second argument to redis.register_function must be a function') end
  return name, callback, nil, {}
end

local function register_function(...)
  if registered == nil then fail('redis.register_function can only be called on FUNCTION LOAD command') end
  local argc = select('#', ...)
  if argc < 1 or argc > 2 then fail('wrong number of arguments to redis.register_function') end
  local name, callback, description, flags
  if argc == 1 then name, callback, description, flags = read_named(...) else name, callback, description, flags = read_positional(...) end
  if name == '' or find(name, '[^%w_]') then
    fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
  end
  -- Case-insensitive, as function names are everywhere else (Redis compares exactly here, then
  -- keeps only one of 'f' and 'F' and crashes on the library's next REPLACE).
  for i = 1, #registered do
    if lower(registered[i].name) == lower(name) then fail('Function already exists in the library') end
  end
  registered[#registered + 1] = {name = name, callback = callback, description = description, flags = flags}
end

local function missing(_, name) error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2) end
local function readonly_error() error('Attempt to modify a readonly table', 2) end
-- A read-only view of t: an empty proxy, so that assigning an existing name raises too.
local function strict(t)
  return setmetatable({}, {
    __index = function(proxy, name)
      local value = t[name]
      if value == nil then return missing(proxy, name) end
      return value
    end,
    __newindex = readonly_error,
  })
end

local load_redis = strict({
  register_function = register_function,
  log = redis_api.log,
  LOG_DEBUG = redis_api.LOG_DEBUG, LOG_VERBOSE = redis_api.LOG_VERBOSE,
  LOG_NOTICE = redis_api.LOG_NOTICE, LOG_WARNING = redis_api.LOG_WARNING,
  REDIS_VERSION = redis_api.REDIS_VERSION, REDIS_VERSION_NUM = redis_api.REDIS_VERSION_NUM,
})
local load_globals = strict({redis = load_redis})
local env_meta = getmetatable(env)
local run_globals = env_meta.__index

-- Redis's luaEngineLoadHook: loading only registers functions, so after 500 ms (checked every
-- 100000 instructions) a FUNCTION LOAD from a client is stopped; code from a dump, a RESTORE payload
-- or the AOF being loaded runs untimed, as in Redis.
local LOAD_TIMEOUT_MS = 500
local deadline
local function timeout_hook()
  if now_ms() > deadline then error({err = 'ERR FUNCTION LOAD timeout'}) end
end

-- Runs a compiled library: true and the registrations ({name, callback, description, flags} in
-- order), or false and the error table the handler made.
return function(chunk, timed)
  registered = {}
  env_meta.__index = load_globals
  -- The state's busy-script hook (BusyHook.lua) is put back once the library has loaded.
  local busy_hook, busy_mask, busy_count = gethook()
  if timed then
    deadline = now_ms() + LOAD_TIMEOUT_MS
    sethook(timeout_hook, '', 100000)
  end
  local ok, err = xpcall(chunk, error_handler)
  sethook(busy_hook, busy_mask, busy_count)
  env_meta.__index = run_globals
  local functions = registered
  registered = nil
  if not ok then return false, err end
  return true, functions
end
