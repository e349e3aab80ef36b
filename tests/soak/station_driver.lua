-- The soak's "station" driver (tests/soak/drivers.lua): the board goes
-- through `stotp station` (lua/stotp/cli/station.lua, README "The
-- station"), a loop over a virtual probe whose fixture is a file: the
-- board is on it while its image lies at the probe's VPROBE_STATE path, and
-- off it while that path is an empty file (src/vprobe/slot.h). Nothing of
-- the station is replaced: the soak only moves image files and reads the
-- station's session log, as an operator moves boards and reads the screen.
--   clean runs (every closing rerun): one long-lived station per soak
--     station; each board is placed on its fixture, provisioned, taken
--     away, and the next one placed once the station has seen it go.
--   fault runs: VPROBE_FAULT is read when a probe is opened, from the
--     environment of the station's process, so each fault run gets a
--     station of its own (`--boards 1`) with that fault, the board placed
--     before it starts. A seam (kill, swap) is timed, not at a step of
--     the run: a seeded delay after the station logs "burning", then the
--     worker provisioning the board is killed with SIGKILL, or the board
--     on the fixture is swapped for a fresh one under the running station.
local M = {}

local WAIT_S = 180 -- the longest one run may take before the soak gives up on it
-- A fault can stop a probe before it ever sees the board: an unplug (or a
-- framing fault) within the worker's first look makes it reopen the probe,
-- and the new context meets the same fault at the same command, look after
-- look. A station whose probe "does not answer" before it burns is
-- stopped, and one that has not started burning after this long too.
local BURN_WAIT_S = 15
local TICK = 0.02 -- seconds between two reads of a station's log

local proc

local testfiles = require("testfiles")
local spit = testfiles.spit
local function quote(s) return testfiles.quote(tostring(s)) end
local function slurp(p) return testfiles.slurp(p) or "" end

-- The fixture emptied: an empty file renamed over the path (vprobe: an
-- existing, empty file is a fixture with no board).
local function empty(slot)
  spit(slot .. ".none", "")
  assert(os.rename(slot .. ".none", slot))
end

-- The station's session log, read on from where the last read stopped
-- (a long-lived station's log grows by every board): st.seen counts the
-- lines of each kind, st.result is the last result line with its exit
-- status, 0 (provisioned, or found already provisioned) or 1 (FAILED).
local KINDS = { waiting = "%] waiting for a board", burning = "%] burning UID", gone = "%] probe does not answer",
  ok = "%] OK serial", already = "%] already provisioned", failed = "%] FAILED" }

local function scan(st)
  local f = io.open(st.log, "rb")
  if not f then return st.seen end
  f:seek("set", st.offset)
  local data = f:read("a") or ""
  f:close()
  for line in data:gmatch("([^\n]*)\n") do
    st.offset = st.offset + #line + 1
    for kind, pattern in pairs(KINDS) do
      if line:find(pattern) then
        st.seen[kind] = st.seen[kind] + 1
        if kind == "ok" or kind == "already" or kind == "failed" then
          st.seen.results = st.seen.results + 1
          st.result = { code = kind == "failed" and 1 or 0, line = line }
        end
      end
    end
  end
  return st.seen
end

local function count(st, kind) return scan(st)[kind] end

-- Polls until cond() holds or the station `st` has ended; true when it held.
local function wait_until(st, cond, bound)
  local t = 0
  while t < (bound or WAIT_S) do
    if cond() then return true end
    if not st.pid then return false end
    if st.pid and proc.wait(st.pid) ~= false then
      st.pid = nil
      return cond()
    end
    proc.sleep(TICK)
    t = t + TICK
  end
  return false
end

-- A station over one fixture: st = { dir, slot, log, out, probe, fault, boards }.
local function start(ctx, st)
  spit(st.dir .. "/answer", "sensor-mac\n")
  local env = { "LD_LIBRARY_PATH=" .. quote(ctx.root .. "/build/vprobe"), "VPROBE_STATE=" .. quote(st.slot),
    "VPROBE_PROBE=" .. quote(st.probe) }
  if st.fault then env[#env + 1] = "VPROBE_FAULT=" .. quote(st.fault) end
  local cmd = ctx.clean_env .. "cd " .. quote(st.dir) .. " && exec env " .. table.concat(env, " ") .. " " ..
    quote(ctx.root .. "/build/bin/stotp") .. " station " .. quote(ctx.recipe) .. " --journal " ..
    quote(ctx.journal) .. " --log " .. quote(st.log) .. " --station " .. quote(ctx.station) ..
    (st.boards and " --boards " .. st.boards .. " --json" or "") .. " <answer"
  os.remove(st.log)
  os.remove(st.out)
  st.offset, st.seen, st.result = 0, { results = 0 }, nil
  for kind in pairs(KINDS) do st.seen[kind] = 0 end
  st.pid = assert(proc.spawn({ "sh", "-c", cmd }, st.out))
  return st
end

local function stop(st)
  if not st or not st.pid then return end
  proc.kill(st.pid, "INT")
  if not wait_until(st, function() return false end) and st.pid then proc.kill(st.pid, "KILL") end
  st.pid = nil
end

-- The long-lived station of the clean runs, started (again) when needed:
-- it waits for its first board before the soak places one.
local function clean_station(ctx)
  local st = ctx.station_clean
  if st and st.pid and proc.wait(st.pid) == false then return st end
  local dir = ctx.dir .. "/clean"
  os.execute("mkdir -p " .. quote(dir))
  st = { dir = dir, slot = dir .. "/fixture.img", log = dir .. "/station.log", out = dir .. "/station.out",
    probe = ctx.station_probe }
  empty(st.slot)
  start(ctx, st)
  ctx.station_clean = st
  if not wait_until(st, function() return count(st, "waiting") > 0 end) then
    return nil, "the station did not start: " .. slurp(st.out):sub(-600)
  end
  return st
end

-- A clean run: the board placed under the running station, its result
-- read from the log, then the board taken away, and the run over once the
-- station has seen the fixture empty (so the next board, even this one
-- again, is a new board to it).
local function clean_run(ctx, job)
  local st, why = clean_station(ctx)
  if not st then return 1, "", why end
  local before, waits = count(st, "results"), count(st, "waiting")
  assert(os.rename(job.image, st.slot))
  local done = wait_until(st, function() return count(st, "results") > before end)
  local code, line = 1, ""
  if done then code, line = st.result.code, st.result.line end
  local seen_gone = false
  if done then
    assert(os.rename(st.slot, job.image))
    empty(st.slot)
    seen_gone = wait_until(st, function() return count(st, "waiting") > waits end)
  end
  if not (done and seen_gone) then
    -- the station ended or hung: the board back where the soak keeps it
    stop(st)
    if #slurp(st.slot) > 0 then os.rename(st.slot, job.image) end
    return 1, line, "the station did not " .. (done and "see the board go" or "report the board") .. ": " ..
      slurp(st.log):sub(-600) .. slurp(st.out):sub(-600)
  end
  return code, line, ""
end

-- The worker process of a one-probe station: its only child.
local function worker_of(st)
  -- ps without a preloaded sanitizer runtime (`make check`), under which
  -- procps's ps was seen to hang
  local p = io.popen("env -u LD_PRELOAD ps -o pid= --ppid " .. math.tointeger(st.pid))
  local pid = p:read("n")
  p:close()
  return pid
end

-- A fault run: a station of its own, started with the board on its fixture.
local function fault_run(ctx, job)
  local dir = ctx.dir .. "/fault"
  os.execute("mkdir -p " .. quote(dir))
  local st = { dir = dir, slot = dir .. "/fixture.img", log = dir .. "/station.log", out = dir .. "/station.out",
    probe = job.probe, fault = job.fault, boards = 1 }
  assert(os.rename(job.image, st.slot))
  start(ctx, st)
  local code
  local burning = wait_until(st, function()
    return count(st, "burning") > 0 or count(st, "gone") > 0
  end, BURN_WAIT_S) and count(st, "burning") > 0
  if not burning then
    stop(st)
  elseif job.seam and st.pid then
    proc.sleep(math.random() * 0.8)
    if job.seam.action == "kill" then
      local pid = st.pid and worker_of(st)
      if pid and proc.kill(pid, "KILL") then code = 137 end
    else
      local image, fresh, pulled = job.seam.swap:match("^([^:]+):([^:]+):([^:]+)$")
      assert(image == job.image)
      assert(os.rename(st.slot, pulled))
      assert(os.rename(fresh, st.slot))
    end
  end
  local ended = wait_until(st, function() return false end) or not st.pid
  if not ended then stop(st) end
  local out = slurp(st.out)
  if not code then
    local r = require("dkjson").decode(out:match("{.*}") or "") or {}
    local b = type(r.boards) == "table" and r.boards[1] or {}
    code = b.code or (b.status and (b.status == "provisioned" or b.status == "already provisioned") and 0 or 1) or 1
  end
  assert(os.rename(st.slot, job.image))
  return code, out, slurp(st.log)
end

--- driver.run(ctx, job): see tests/soak/drivers.lua.
function M.run(ctx, job)
  proc = proc or require("stotp").proc
  if job.fault or job.seam then return fault_run(ctx, job) end
  return clean_run(ctx, job)
end

--- The long-lived station stopped (Ctrl-C: it ends between boards).
function M.finish(ctx)
  if ctx.station_clean then stop(ctx.station_clean) end
  ctx.station_clean = nil
end

return M
