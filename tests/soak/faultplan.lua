-- The seeded faults of one board: 0-3 runs, each under one fault, drawn
-- with math.random (seeded by the station per board). VPROBE_FAULT's
-- grammar and what each N counts: src/vprobe/faults.h. A provisioning run
-- of examples/sensor-mac.cfg sends 28-41 command packets (README
-- "Measured") and makes 20 flash program operations (19 bytes and a lock
-- byte, x8), so N is drawn over a little more than that: some faults land
-- after the run's end and change nothing, as a glitch between boards would.
local M = {}

local CMDS = 45
local PROGRAMS = 22
-- Steps of stotp.cli.provision a seam can stop at (tests/support/crash_step.lua).
M.STEPS = { "attached", "reserved", "planned", "confirmed", "recorded", "write:magic", "write:serial",
  "write:hw_rev", "write:mac", "write:crc", "burned", "verified", "lock:0", "locked" }

local r = math.random

M.KINDS = {
  unplug = function() return { fault = ("unplug@%d"):format(r(1, CMDS)) } end,
  reset = function() return { fault = ("reset@%d"):format(r(1, CMDS)) } end,
  powerloss = function() return { fault = ("powerloss@%d"):format(r(1, PROGRAMS)) } end,
  -- a storm: from a few WAITs (the host's retries absorb them) to hundreds
  wait = function() return { fault = ("wait@%d:%d"):format(r(1, CMDS), r(1, 4) == 1 and r(50, 400) or r(1, 12)) } end,
  short = function() return { fault = ("short@%d:%d"):format(r(1, CMDS), r(0, 40)) } end,
  late = function() return { fault = ("late@%d"):format(r(1, CMDS)) } end,
  shortin = function() return { fault = ("shortin@%d:%d"):format(r(1, CMDS), r(0, 20)) } end,
  kill = function()
    if r(2) == 1 then return { seam = { action = "kill", after_writes = r(1, 6) } } end
    return { seam = { action = "kill", at = M.STEPS[r(#M.STEPS)] } }
  end,
  swap = function() return { seam = { action = "swap", at = M.STEPS[r(#M.STEPS)] } } end,
}
M.ORDER = { "unplug", "reset", "powerloss", "wait", "short", "late", "shortin", "kill", "swap" }

--- The runs before the closing rerun: a list of jobs { kind, fault | seam, probe }.
function M.plan(b)
  local roll, n = r(100), 0
  if roll > 90 then n = 3 elseif roll > 70 then n = 2 elseif roll > 10 then n = 1 end
  local jobs = {}
  for i = 1, n do
    local kind = M.ORDER[r(#M.ORDER)]
    local job = M.KINDS[kind]()
    job.kind, job.probe = kind, b.probe
    jobs[i] = job
  end
  return jobs
end

return M
