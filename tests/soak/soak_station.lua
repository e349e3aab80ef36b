-- One soak station: a process that takes fresh virtual boards one after the
-- other, puts each through 0-3 runs under a seeded fault and then a clean
-- closing rerun, and checks the invariants after every run. Started by
-- tests/soak/soak.lua, one per station; writes one JSON line per board
-- (and per violation) to its results file.
--   lua5.4 tests/soak/soak_station.lua OPTIONS-AS-JSON
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local json = require("dkjson")
local o = assert(json.decode(arg[1]))
-- stotp itself (the station driver's stotp.proc) from the tree under test,
-- and the specs' file helpers
package.path = o.root .. "/lua/?.lua;" .. o.root .. "/lua/?/init.lua;" .. o.root .. "/tests/support/?.lua;" ..
  package.path
package.cpath = o.root .. "/build/?.so;" .. package.cpath
local model = require("model")
local inv = require("invariants")
local rows = require("rows")
local drivers = require("drivers")
local plan_faults = require("faultplan")

local driver = assert(drivers[o.driver], "no soak driver " .. tostring(o.driver))
local dir = o.dir .. "/s" .. o.station
os.execute("mkdir -p '" .. dir .. "/done'")
local ctx = { root = o.root, recipe = o.recipe, journal = o.journal, station = "soak-" .. o.station, dir = dir,
  clean_env = drivers.CLEAN, station_probe = model.PROBES[(o.station - 1) % #model.PROBES + 1] }
local results = assert(io.open(o.results, "a"))
results:setvbuf("line")

local function emit(t) results:write(json.encode(t), "\n") end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function stopped() return io.open(o.stop, "r") ~= nil end

-- A seeded UID: 4 random bytes, the station, the board's index, 2 random
-- bytes: unique within a soak, reproducible from the seed.
local function new_uid(index, extra)
  return ("%02X%02X%02X%02X%04X%08X%02X%02X"):format(math.random(0, 255), math.random(0, 255),
    math.random(0, 255), math.random(0, 255), o.station, index * 4 + extra, math.random(0, 255), math.random(0, 255))
end

local function finish()
  if driver.finish then driver.finish(ctx) end
end

local function violation(board, why, detail)
  finish()
  emit({ violation = why, board = board, detail = detail })
  write(o.stop, why .. "\n")
  results:close()
  os.exit(3)
end

local function tail(s) return (s or ""):sub(-600) end

-- The run `job` on the board (through `through`, default the station's
-- driver), then its invariants. Returns the exit status.
local function run_and_check(board, b, job, where, through)
  local code, out, err = (through or driver).run(ctx, job)
  local img, ierr = model.read_image(b.path)
  if not img then violation(board, where .. ": " .. ierr, tail(err)) end
  if img.uid ~= b.uid then return code, img end
  local rec = rows.record(o.journal, model.PRODUCT, b.uid)
  if rec and rec.serial and not b.first_serial then b.first_serial = rec.serial end
  local why = inv.board(img, rec)
  if why then violation(board, where .. ": " .. why, tail(out) .. "\n" .. tail(err)) end
  if code ~= 0 and code ~= 1 and code ~= 137 then
    violation(board, where .. ": unexpected exit status " .. code, tail(out) .. "\n" .. tail(err))
  end
  return code, img, out, err
end

-- A blank board refused because the journal noted its write "cut" (it went
-- out and the board could not be read back): the soak kept this very board
-- apart, so it does what the operator does, provision --after-cut. The
-- refusal is checked first: a cut note and a blank chip, no "burning".
local function after_cut(board, b, code, img)
  if code ~= 1 or not img or img.otp:find("[^\xFF]") then return false end
  local n = rows.notes(o.journal, model.PRODUCT, b.uid)
  if n.cut == 0 then return false end
  if n.burning > 0 then violation(board, "a blank board whose UID the journal noted burning was not refused") end
  b.after_cut = true
  return true
end

-- The closing rerun: no fault, and the board must end complete.
local function close_board(board, b)
  local code, img, out, err = run_and_check(board, b, { image = b.path, probe = b.probe }, "closing rerun")
  if after_cut(board, b, code, img) then
    code, img, out, err = run_and_check(board, b, { image = b.path, probe = b.probe, after_cut = true },
      "closing rerun --after-cut", drivers.provision)
  end
  if code ~= 0 then violation(board, "closing rerun exit status " .. code, tail(out) .. "\n" .. tail(err)) end
  local rec = rows.record(o.journal, model.PRODUCT, b.uid)
  local why = inv.final(img, rec, b.first_serial)
  if why then violation(board, "after the closing rerun: " .. why, tail(out) .. "\n" .. tail(err)) end
  -- No other UID holds this board's serial or MAC in the journal.
  for _, r in ipairs(rows.others_with_serial(o.journal, model.PRODUCT, rec.serial, b.uid)) do
    violation(board, ("serial %d on two UIDs: %s and %s"):format(rec.serial, b.uid, r.uid))
  end
  os.rename(b.path, dir .. "/done/" .. b.uid .. ".img")
  return rec.serial
end

-- A fault run that did not end in success: its board needed the rerun.
local function interrupted(codes)
  for _, c in ipairs(codes) do
    if c ~= 0 then return true end
  end
  return false
end

local deadline = o.deadline
local first = o.first_index or 0
local index = first
-- A Lua error here must not leave the driver's stations running (a long-
-- lived `stotp station` waits for boards for ever): finish, then raise.
local ok, err = xpcall(function()
  while index < first + o.boards do
    if stopped() or (deadline and os.time() >= deadline) then break end
    local board = ("station %d board %d"):format(o.station, index)
    math.randomseed(o.seed, o.station * 1000003 + index)
    local b = { path = dir .. "/board.img", part = model.PARTS[math.random(#model.PARTS)],
      probe = model.PROBES[math.random(#model.PROBES)] }
    b.uid = new_uid(index, 0)
    write(b.path, model.fresh_image(b.part, b.uid))
    local extra = { b }
    local faults, codes = {}, {}
    for k, job in ipairs(plan_faults.plan(b)) do
      job.image = b.path
      if job.seam and job.seam.action == "swap" then
        local swapped = { path = b.path, part = model.PARTS[math.random(#model.PARTS)], probe = b.probe }
        swapped.uid = new_uid(index, k)
        write(dir .. "/fresh.img", model.fresh_image(swapped.part, swapped.uid))
        job.seam.swap = b.path .. ":" .. dir .. "/fresh.img:" .. dir .. "/pulled.img"
        local code = run_and_check(board, b, job, "run " .. k .. " (" .. job.kind .. ")")
        codes[#codes + 1] = code
        faults[#faults + 1] = job.kind
        local now = model.read_image(b.path)
        if now.uid == swapped.uid then
          -- The swap landed after the run's last save: the pulled board is
          -- the old one, the fresh one is in the probe.
          b.path = dir .. "/pulled-" .. b.uid .. ".img"
          os.rename(dir .. "/pulled.img", b.path)
          local img = model.read_image(b.path)
          local why = inv.board(img, rows.record(o.journal, model.PRODUCT, b.uid))
          if why then violation(board, "pulled board: " .. why) end
          local fresh_img = model.read_image(swapped.path)
          why = inv.board(fresh_img, rows.record(o.journal, model.PRODUCT, swapped.uid))
          if why then violation(board, "swapped-in board: " .. why) end
          extra[#extra + 1] = swapped
          faults[#faults + 1] = "swap_landed"
        else
          -- The run saved the old board over the fresh one (vprobe keeps the
          -- board it opened): the fresh board never met stotp.
          os.remove(dir .. "/pulled.img")
          os.remove(dir .. "/fresh.img")
        end
        break
      end
      codes[#codes + 1] = run_and_check(board, b, job, "run " .. k .. " (" .. job.kind .. ")")
      faults[#faults + 1] = job.kind
    end
    for n, e in ipairs(extra) do
      local serial = close_board(board, e)
      emit({ board = board, driver = o.driver, uid = e.uid, part = e.part, probe = e.probe, serial = serial,
        faults = n == 1 and faults or {}, codes = n == 1 and codes or {}, after_cut = e.after_cut,
        interrupted = n == 1 and interrupted(codes) or false, first_serial = e.first_serial })
    end
    index = index + 1
  end
end, debug.traceback)
finish()
if not ok then error(err, 0) end
emit({ done = true })
results:close()
os.exit(0)
