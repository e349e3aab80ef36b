-- stotp.cli.after: `--after reset|run|halt`, what a board does once a
-- command that touched it is done (issue 10 item 9); provision calls
-- release only once its journal record is complete.
-- reset: the firmware starts as after power-up (STM32CubeProgrammer's
-- -rst, OpenOCD's `reset run`); run: the core resumes where attach halted
-- it; halt: it stays halted.

local M = {}

M.CHOICES = { "reset", "run", "halt" }

-- Adds the option to an argparse parser.
function M.option(p)
  return p:option("--after", "What the board does afterwards: reset (starts as after power-up), run (the core " ..
    "resumes where it was halted) or halt (stays halted)."):choices(M.CHOICES):default("reset")
end

-- Releases target as `how` says. Returns what the board was left doing,
-- and a warning for the operator when that is not what was asked.
function M.release(target, how)
  if how == "halt" then return "halted" end
  local ok, fn = pcall(function() return target[how] end)
  if not ok or type(fn) ~= "function" then return "halted (this stotp.core has no target:" .. how .. "())" end
  local done, err = fn(target)
  if done then return how end
  local left = string.format("halted (target:%s() failed: %s)", how, tostring(err))
  return left, "warning: the board is still " .. left
end

return M
