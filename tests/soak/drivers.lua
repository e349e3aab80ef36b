-- How the soak puts a board through a station. A driver is a table with
-- run(ctx, job) -> exit status, stdout, stderr, where job is
--   { image = path, fault = VPROBE_FAULT text or nil, probe = VPROBE_PROBE,
--     seam = { at = step | after_writes = N, action = "kill" | "swap",
--              swap = "IMAGE:FRESH:PULLED" } or nil }
-- and ctx is { root, recipe, journal, station, dir }.
-- "provision": one `lua5.4 provision.lua` process per run (through the
-- soak's launcher when a seam is set).
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
  "VPROBE_FAULT VPROBE_QUIRKS VPROBE_WALLCLOCK VPROBE_REALTIME VPROBE_HOSTILE STOTP_SOAK_AT STOTP_SOAK_AFTER_WRITES STOTP_SOAK_ACTION STOTP_SOAK_SWAP; "

function M.shell(cmd, dir)
  local out, err = dir .. "/.out", dir .. "/.err"
  local ok, how, code = os.execute(M.CLEAN .. "cd " .. quote(dir) .. " && " .. cmd .. " >" .. out .. " 2>" .. err)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, slurp(out), slurp(err)
end

M.provision = {}

function M.provision.run(ctx, job)
  local env = { "VPROBE_PROBE=" .. quote(job.probe) }
  if job.fault then env[#env + 1] = "VPROBE_FAULT=" .. quote(job.fault) end
  local launcher = ctx.root .. "/provision.lua"
  if job.seam then
    launcher = ctx.root .. "/tests/soak/launcher.lua"
    env[#env + 1] = "STOTP_SOAK_ACTION=" .. job.seam.action
    if job.seam.at then env[#env + 1] = "STOTP_SOAK_AT=" .. quote(job.seam.at) end
    if job.seam.after_writes then env[#env + 1] = "STOTP_SOAK_AFTER_WRITES=" .. job.seam.after_writes end
    if job.seam.swap then env[#env + 1] = "STOTP_SOAK_SWAP=" .. quote(job.seam.swap) end
  end
  assert(job.image, "a soak job names its board image")
  local cmd = table.concat(env, " ") .. " lua5.4 " .. quote(launcher) .. " " .. quote(ctx.recipe) ..
    " --sim " .. quote(job.image) .. " --journal " .. quote(ctx.journal) .. " --station " .. quote(ctx.station) ..
    " --yes --json"
  return M.shell(cmd, ctx.dir)
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
