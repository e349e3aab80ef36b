-- stotp.sandbox: the budgets under which recipe code runs, so a board.cfg
-- can neither hang a station nor exhaust its memory.
--
-- Two layers, because Lua's count hook runs only between Lua instructions:
--   * counted(fn): an instruction budget (a loop, a deep recursion), with
--     messages placed at the config's line;
--   * bounded(fn): the whole job first runs in a forked child whose Lua
--     allocator refuses more than MAX_BYTES and which ends after MAX_MS of
--     CPU time (stotp.core.run_bounded; CPU, not wall time, so a loaded
--     machine does not fail a recipe that would finish). That catches what one
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

-- What recipe code may use of Lua's own library. Left out: anything that
-- reaches files, the clock, randomness or other code (io, os, require,
-- load, debug, collectgarbage), that catches errors (pcall would swallow
-- the budget's error and loop on), and anything whose result can differ
-- from one run of stotp to the next: pairs and next (their order follows
-- the string hash seed, new in every process), table addresses ("%p",
-- tostring of a table). A rerun after a crash must compute the same bytes.
local function plain(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean" or t == "nil"
end

local function safe_tostring(v)
  if not plain(v) then error("tostring of a " .. type(v) .. " gives its address, which changes from run to run", 2) end
  return tostring(v)
end

local function safe_format(fmt, ...)
  if type(fmt) ~= "string" then error("bad argument #1 to 'format' (string expected)", 2) end
  if fmt:find("%%[-+ #0]*%d*%.?%d*p") then error("format: %p prints an address, which changes from run to run", 2) end
  for i = 1, select("#", ...) do
    if not plain((select(i, ...))) then
      error(string.format("bad argument #%d to 'format' (a %s has no stable text form)", i + 1, type((select(i, ...)))),
        2)
    end
  end
  return string.format(fmt, ...)
end

local function copy(t, names)
  local out = {}
  for _, n in ipairs(names) do out[n] = t[n] end
  return out
end

local safe_string = copy(string, { "byte", "char", "find", "gmatch", "gsub", "len", "lower", "match", "pack",
  "packsize", "rep", "reverse", "sub", "unpack", "upper" })
safe_string.format = safe_format

--- The library a recipe sees (fresh tables per call: a recipe that writes
--- into `string` changes only its own copy).
function M.library()
  local function fresh(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
  return {
    string = fresh(safe_string),
    math = copy(math, { "abs", "ceil", "floor", "fmod", "huge", "max", "maxinteger", "min", "mininteger", "modf",
      "tointeger", "type", "ult" }),
    table = copy(table, { "concat", "insert", "move", "remove", "sort", "unpack" }),
    utf8 = copy(utf8, { "char", "charpattern", "codepoint", "len", "offset" }),
    ipairs = ipairs, select = select, type = type, tonumber = tonumber, tostring = safe_tostring,
    error = error, assert = assert, rawequal = rawequal, rawlen = rawlen,
  }
end

-- Method calls on strings ("%p"):format(t) go through the string
-- metatable, not the sandbox's `string`: while recipe code runs, that
-- metatable serves the safe copy. Trusted code called from inside (the
-- vocabulary) uses string methods the copy also has.
local function with_safe_strings(fn, ...)
  local mt = getmetatable("")
  local saved = mt.__index
  mt.__index = safe_string
  local r = table.pack(pcall(fn, ...))
  mt.__index = saved
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- fn(...) in its own coroutine, with the instruction budget. Returns true
-- and fn's results, or nil and the error message.
function M.counted(fn, ...)
  local co = coroutine.create(fn)
  debug.sethook(co, function() error(over_budget(co), 2) end, "", M.MAX_INSTRUCTIONS)
  local r = table.pack(with_safe_strings(coroutine.resume, co, ...))
  if not r[1] then
    local err = tostring(r[2])
    -- Lua's own "stack overflow" (C stack, or a hook-free deep call).
    if err:find("stack overflow", 1, true) and not err:find("recurses too deep", 1, true) then
      err = err:gsub("stack overflow.*$", "the config recurses too deep (stack overflow)")
    end
    -- The bounded child's allocator said no inside the coroutine.
    if err == "not enough memory" then
      err = string.format("the config needs more than %d MiB of memory (a string or table bomb?)",
        M.MAX_BYTES // (1024 * 1024))
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
    return nil, string.format("%s: the config needs more than %g s of CPU time (a pattern or string function on a " ..
      "huge input?)", what, M.MAX_MS / 1000)
  end
  return nil, msg
end

return M
