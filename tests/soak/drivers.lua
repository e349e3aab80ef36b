-- How the soak puts a board through a station. A driver is a table with
-- run(ctx, job) -> exit status, stdout, stderr, where job is
--   { image = path, fault = VPROBE_FAULT text or nil, probe = VPROBE_PROBE,
--     after_cut = true or nil (provision only),
--     seam = { at = step | after_writes = N, action = "kill" | "swap",
--              swap = "IMAGE:FRESH:PULLED" } or nil }
-- and ctx is { root, recipe, journal, station, dir }.
-- "provision": `stotp.cli.provision` run as `provision.lua --sim IMAGE`
-- runs it: in this process (as a station's worker runs it, board after
-- board), or, for a seam (SIGKILL, swap at a step), in a process of its
-- own through the soak's launcher.
-- "station": the runs go through `stotp station` processes, the boards
-- placed on and taken off their fixtures under a running station
-- (tests/soak/station_driver.lua). A driver may have finish(ctx), called
-- once when its soak station ends.
-- "tamper", "tamper-station": provision or station, then one bit cleared
-- that the plan keeps (for tests/soak_spec.lua: a violation is caught).
local M = {}

local testfiles = require("testfiles")
local function quote(s) return testfiles.quote(tostring(s)) end
local function slurp(p) return testfiles.slurp(p) or "" end

-- The environment of one run: nothing inherited from the caller's VPROBE_*.
M.CLEAN = "unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_VOLTAGE VPROBE_STATS VPROBE_LATENCY_US " ..
  "VPROBE_FAULT VPROBE_QUIRKS VPROBE_WALLCLOCK VPROBE_REALTIME VPROBE_HOSTILE STOTP_SOAK_AT " ..
  "STOTP_SOAK_AFTER_WRITES STOTP_SOAK_ACTION STOTP_SOAK_SWAP; "

function M.shell(cmd, dir)
  local out, err = dir .. "/.out", dir .. "/.err"
  local ok, how, code = os.execute(M.CLEAN .. "cd " .. quote(dir) .. " && " .. cmd .. " >" .. out .. " 2>" .. err)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, slurp(out), slurp(err)
end

M.provision = {}

-- What a run prints, kept (the --json object, the messages on stderr).
local function buffer()
  local b = { parts = {} }
  function b:write(...)
    for _, v in ipairs({ ... }) do self.parts[#self.parts + 1] = tostring(v) end
    return self
  end
  function b.flush() end
  function b:text() return table.concat(self.parts) end
  return b
end

-- One run in this process: the same arguments provision.lua gets, and the
-- board's probe firmware and fault given to stotp.open as sim_probe and
-- sim_fault, which vprobe takes as it takes VPROBE_PROBE and VPROBE_FAULT
-- (src/link_sim.c: the environment first, then the explicit options).
-- Saves a process start and the modules' loading, about half of a run's
-- CPU; a run that crashed the core or left a board claimed would now
-- stop this soak station, which the soak reports.
local function in_process(job, argv)
  local stotp = require("stotp")
  local sim = setmetatable({ open = function(opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    if o.sim then o.sim_probe, o.sim_fault = o.sim_probe or job.probe, o.sim_fault or job.fault end
    return stotp.open(o)
  end }, { __index = stotp })
  local out, err = buffer(), buffer()
  local code = require("stotp.cli.provision").main(argv, { out = out, err = err, prog = "provision.lua",
    stotp = function() return sim end })
  return code, out:text(), err:text()
end

function M.provision.run(ctx, job)
  assert(job.image, "a soak job names its board image")
  local args = { ctx.recipe, "--sim", job.image, "--journal", ctx.journal, "--station", ctx.station, "--yes", "--json" }
  if job.after_cut then args[#args + 1] = "--after-cut" end
  if not job.seam then return in_process(job, args) end
  local env = { "VPROBE_PROBE=" .. quote(job.probe), "STOTP_SOAK_ACTION=" .. job.seam.action }
  if job.fault then env[#env + 1] = "VPROBE_FAULT=" .. quote(job.fault) end
  if job.seam.at then env[#env + 1] = "STOTP_SOAK_AT=" .. quote(job.seam.at) end
  if job.seam.after_writes then env[#env + 1] = "STOTP_SOAK_AFTER_WRITES=" .. job.seam.after_writes end
  if job.seam.swap then env[#env + 1] = "STOTP_SOAK_SWAP=" .. quote(job.seam.swap) end
  for i, a in ipairs(args) do args[i] = quote(a) end
  return M.shell(table.concat(env, " ") .. " lua5.4 " .. quote(ctx.root .. "/tests/soak/launcher.lua") .. " " ..
    table.concat(args, " "), ctx.dir)
end

M.station = require("station_driver")

-- The base driver, then OTP byte 40 (in block 1, which the recipe never
-- writes) with one bit cleared, as a burn gone wrong would: proves that
-- the soak stops on a broken invariant and names the seed and the board.
local function tampering(base)
  return { finish = base.finish, run = function(ctx, job)
    local code, out, err = base.run(ctx, job)
    local f = io.open(job.image, "rb")
    if not f then return code, out, err end
    local text = f:read("a")
    f:close()
    text = text:gsub("(otp 0020: )(%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x)ff", "%1%2fe", 1)
    f = assert(io.open(job.image, "wb"))
    f:write(text)
    f:close()
    return code, out, err
  end }
end
M.tamper = tampering(M.provision)
M["tamper-station"] = tampering(M.station)

return M
