-- Redis's luaMaskCountHook: every 100,000 instructions the server checks the running script's time
-- (and, past busy-reply-threshold, serves other clients); a killed script gets Redis's error. From
-- the kill on, the hook runs at every line, so a pcall in the script cannot swallow the error and go
-- on; the next script's first line puts the counting hook back. Run before Prelude.lua.
local interrupted = ...
local sethook, error = debug.sethook, error
local COUNT = 100000
local every_line = false

local function hook()
  if interrupted() then
    if not every_line then
      every_line = true
      sethook(hook, 'l')
    end
    error({err = 'ERR Script killed by user with SCRIPT KILL...'})
  elseif every_line then
    every_line = false
    sethook(hook, '', COUNT)
  end
end

sethook(hook, '', COUNT)
