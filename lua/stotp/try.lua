-- stotp.try: steps that can fail, without threading `nil, msg, code` by
-- hand through every line (after LuaSocket's newtry/protect, src/except.c).
--
--   local v = try(step())      -- step's results, or a tagged failure raised
--   local f = protect(fn)      -- f(...) is fn(...), a tagged failure turned
--                              -- back into nil, msg, code
--
-- A failure is `nil` in the first result only: `false` is a value (the
-- journal's find says false for "no such board"). Anything raised that is
-- not a tagged failure (a programming mistake, Ctrl-C's "interrupted!")
-- passes through protect unchanged: misuse still raises.

local M = {}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return tostring(f.msg) end

--- Raises the failure `msg, code` for the nearest protect to return.
function M.fail(msg, code)
  error(setmetatable({ msg = msg, code = code }, Failure), 0)
end

--- Returns all its arguments when the first is not nil; else raises the
--- failure its second and third describe.
function M.try(v, ...)
  if v == nil then M.fail((...), (select(2, ...))) end
  return v, ...
end

--- The failure that `err` (a pcall's error value) carries: msg, code; or
--- nil when it is not a tagged failure.
function M.failure(err)
  if getmetatable(err) == Failure then return err.msg, err.code end
  return nil
end

local function returned(ok, ...)
  if ok then return ... end
  local err = ...
  if getmetatable(err) == Failure then return nil, err.msg, err.code end
  error(err, 0)
end

--- fn wrapped: its results, or nil, msg, code for a failure it raised.
function M.protect(fn)
  return function(...) return returned(pcall(fn, ...)) end
end

return M
