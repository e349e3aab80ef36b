-- stotp.sandbox: the budgets under which recipe code runs, so a board.cfg
-- can neither hang a station nor exhaust its memory.
--
-- Two layers, because Lua's count hook runs only between Lua instructions:
--   * counted(fn): an instruction budget (a loop, a deep recursion), with
--     messages placed at the config's line;
--   * bounded(fn): the whole job first runs in a forked child whose Lua
--     allocator refuses more than MAX_BYTES and which is killed after
--     MAX_MS of wall time (stotp.core.run_bounded). That catches what one
--     call into C does outside the hook's sight: ("x"):rep(2^30), a table
--     of such strings, a pattern that string.find needs years to fail.
-- A recipe sees no clock, no files and no random numbers, so the child and
-- the station's own run compute the same thing: once the child finished
-- within budget, running the job here is safe.

local M = {}

M.MAX_INSTRUCTIONS = 1000000
M.MAX_BYTES = 64 * 1024 * 1024
M.MAX_MS = 5000

-- Deeper than this, a recipe is recursing without end: Lua would raise
-- "stack overflow" only at about 200,000 frames, after the instruction
-- budget has already run out, so the hook tells the two apart.
local MAX_DEPTH = 10000

local function over_budget(co)
  if debug.getinfo(co, MAX_DEPTH, "l") then
    return "the config recurses too deep (stack overflow: a function that calls itself without end?)"
  end
  return "the config runs too long (a loop?)"
end

-- fn(...) in its own coroutine, with the instruction budget. Returns true
-- and fn's results, or nil and the error message.
function M.counted(fn, ...)
  local co = coroutine.create(fn)
  debug.sethook(co, function() error(over_budget(co), 2) end, "", M.MAX_INSTRUCTIONS)
  local r = table.pack(coroutine.resume(co, ...))
  if not r[1] then
    local err = tostring(r[2])
    -- Lua's own "stack overflow" (C stack, or a hook-free deep call).
    if err:find("stack overflow", 1, true) and not err:find("recurses too deep", 1, true) then
      err = err:gsub("stack overflow.*$", "the config recurses too deep (stack overflow)")
    end
    return nil, err
  end
  if coroutine.status(co) ~= "dead" then return nil, "the config must not yield" end
  return true, table.unpack(r, 2, r.n)
end

-- job() returns a result or nil, message (it must not raise). Runs it
-- first in a bounded child, then here. `what` names the file in the
-- messages of the budgets that have no line.
function M.bounded(job, what)
  local core = require("stotp.core")
  local ok, why, msg = core.run_bounded(function()
    local r, err = job()
    if r == nil then error(err, 0) end
  end, M.MAX_BYTES, M.MAX_MS)
  if ok then return job() end
  if why == "memory" then
    return nil, string.format("%s: the config needs more than %d MiB of memory (a string or table bomb?)", what,
      M.MAX_BYTES // (1024 * 1024))
  elseif why == "time" then
    return nil, string.format("%s: the config runs longer than %g s (a pattern or string function on a huge " ..
      "input?)", what, M.MAX_MS / 1000)
  end
  return nil, msg
end

return M
