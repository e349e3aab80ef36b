-- The seeded soak (issue 13 item 1): STATIONS processes provision fresh
-- virtual boards against one shared journal (SQLite, then the suite's
-- PostgreSQL server) while seeded faults hit them; every run is followed by
-- the invariants (tests/soak/invariants.lua), every board ends with a clean
-- rerun that must complete it with the same serial, and the whole journal
-- and every board image are checked again at the end.
--   lua5.4 tests/soak/soak.lua [SEED=1] [STATIONS=3] [BOARDS=300]
--     [DURATION=seconds] [JOURNALS=sqlite,pg] [DRIVERS=provision,station]
--     [ONLY=STATION:BOARD] [DIR=path] [SUMMARY=file.json]
-- Exit status 0 when no invariant broke, 1 on a violation (the seed and
-- the board that reproduce it are printed), 2 on a usage error.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local root = (io.popen("cd '" .. here .. "/../..' && pwd"):read("l"))
package.path = here .. "/?.lua;" .. root .. "/tests/support/?.lua;" .. package.path

local json = require("dkjson")
local model = require("model")
local inv = require("invariants")
local rows = require("rows")
local faultplan = require("faultplan")

local o = { SEED = "1", STATIONS = "3", BOARDS = "300", JOURNALS = "sqlite,pg", DRIVERS = "provision" }
local KNOWN = { SEED = true, STATIONS = true, BOARDS = true, DURATION = true, JOURNALS = true, DRIVERS = true,
  ONLY = true, DIR = true, SUMMARY = true }
for _, a in ipairs(arg) do
  local k, v = a:match("^(%u+)=(.*)$")
  if not KNOWN[k] then
    io.stderr:write("soak: arguments are NAME=value (SEED, STATIONS, BOARDS, DURATION, JOURNALS, DRIVERS, ONLY, DIR, SUMMARY)\n")
    os.exit(2)
  end
  o[k] = v
end
local seed, stations, boards = math.tointeger(tonumber(o.SEED)), tonumber(o.STATIONS), tonumber(o.BOARDS)
local duration = o.DURATION and o.DURATION ~= "" and tonumber(o.DURATION) or nil
if not seed or not stations or stations < 1 or not boards or boards < 1 then
  io.stderr:write("soak: SEED must be an integer, STATIONS and BOARDS at least 1\n")
  os.exit(2)
end
-- DRIVERS: how the stations put boards through (tests/soak/drivers.lua),
-- dealt out in turn: station s uses the ((s - 1) mod n + 1)th.
local driver_list = {}
for d in o.DRIVERS:gmatch("[^,]+") do
  if not ({ provision = true, station = true, tamper = true, ["tamper-station"] = true })[d] then
    io.stderr:write("soak: DRIVERS lists provision, station (and tamper, tamper-station for the specs), not " .. d ..
      "\n")
    os.exit(2)
  end
  driver_list[#driver_list + 1] = d
end
if #driver_list == 0 then
  io.stderr:write("soak: DRIVERS names at least one driver\n")
  os.exit(2)
end
local only_station, only_board
if o.ONLY and o.ONLY ~= "" then
  only_station, only_board = o.ONLY:match("^(%d+):(%d+)$")
  if not only_station then
    io.stderr:write("soak: ONLY=STATION:BOARD, as a violation names it\n")
    os.exit(2)
  end
  only_station, only_board = tonumber(only_station), tonumber(only_board)
end

local function sh(cmd) return os.execute(cmd) end
local function say(fmt, ...)
  io.stdout:write(os.date("!%H:%M:%S "), fmt:format(...), "\n")
  io.stdout:flush()
end

-- The work files (board images, the SQLite journal) in memory when the
-- machine has /dev/shm: vprobe saves an image with two fsyncs after every
-- program operation and SQLite syncs every commit, and on a disk those
-- waits were half of a board's wall time. What the soak checks is the
-- same: a killed process loses nothing the page cache holds, and no
-- invariant is about the host losing power.
local function writable(d)
  local probe = d .. "/.stotp-soak." .. os.time()
  local f = io.open(probe, "w")
  if f then
    f:close()
    os.remove(probe)
  end
  return f ~= nil
end
local scratch = writable("/dev/shm") and "/dev/shm" or (os.getenv("TMPDIR") or "/tmp")
local unique = os.tmpname() -- a name no other soak started this second has
os.remove(unique)
local base = o.DIR or (scratch .. "/stotp-soak." .. seed .. "." .. os.time() .. "." .. unique:match("[^/]+$"))
sh("rm -rf '" .. base .. "' && mkdir -p '" .. base .. "'")
local recipe = base .. "/sensor-mac.cfg"
sh("cp '" .. root .. "/" .. model.RECIPE .. "' '" .. recipe .. "'")

local start = os.time()
local totals = { boards = 0, runs = 0, faults = {}, interrupted = 0, recovered = 0, violations = 0, codes = {},
  swaps_landed = 0, after_cut = 0, journals = {}, drivers = {} }
for _, k in ipairs(faultplan.ORDER) do totals.faults[k] = 0 end

local function count_lines(files)
  local n = 0
  for _, f in ipairs(files) do
    local h = io.open(f)
    if h then
      for _ in h:lines() do n = n + 1 end
      h:close()
    end
  end
  return n
end

-- A station process still running (not gone, not a zombie), read from
-- /proc: no process started per look.
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local stat = f:read("a") or ""
  f:close()
  return stat:match("^%d+ %b() (%u)") ~= "Z"
end

-- One journal: the stations in parallel, then the end-of-soak checks.
local function phase(kind, url, nboards, deadline)
  local dir = base .. "/" .. kind
  sh("mkdir -p '" .. dir .. "'")
  local stop = dir .. "/STOP"
  local pids, files, numbers = {}, {}, {}
  local per = math.ceil(nboards / stations)
  for s = 1, stations do
    if not only_station or only_station == s then
      local opts = { root = root, recipe = recipe, journal = url, station = s, seed = seed,
        driver = driver_list[(s - 1) % #driver_list + 1],
        boards = only_board and 1 or per, first_index = only_board or 0, dir = dir, stop = stop,
        results = dir .. "/results-" .. s .. ".jsonl", deadline = deadline }
      files[#files + 1] = opts.results
      numbers[#files] = s
      local cmd = ("lua5.4 '%s/soak_station.lua' '%s' >'%s/station-%d.log' 2>&1 & echo $!"):format(here,
        json.encode(opts):gsub("'", "'\\''"), dir, s)
      pids[#pids + 1] = io.popen(cmd):read("l")
    end
  end
  local last = os.time()
  while true do
    local running = 0
    for _, p in ipairs(pids) do if alive(p) then running = running + 1 end end
    if running == 0 then break end
    if os.time() - last >= 30 then
      last = os.time()
      say("%s: %d board records so far, %d station(s) running", kind, count_lines(files), running)
    end
    sh("sleep 0.2")
  end
  -- Aggregate what the stations reported.
  local images, violation = {}, nil
  for i, f in ipairs(files) do
    local h, done = io.open(f), false
    for line in (h and h:lines() or function() end) do
      local r = json.decode(line)
      if r.done then
        done = true
      elseif r.violation then
        violation = violation or r
      else
        totals.boards = totals.boards + 1
        totals.drivers[r.driver] = (totals.drivers[r.driver] or 0) + 1
        totals.runs = totals.runs + #r.faults + 1
        for _, k in ipairs(r.faults) do
          if k == "swap_landed" then
            totals.swaps_landed = totals.swaps_landed + 1
            totals.runs = totals.runs - 1
          else
            totals.faults[k] = totals.faults[k] + 1
          end
        end
        for _, c in ipairs(r.codes) do totals.codes[tostring(c)] = (totals.codes[tostring(c)] or 0) + 1 end
        if r.after_cut then totals.after_cut = totals.after_cut + 1 end
        if r.interrupted then
          totals.interrupted = totals.interrupted + 1
          totals.recovered = totals.recovered + 1
        end
      end
    end
    if h then h:close() end
    if not done and not violation then
      -- A station that died (a Lua error, a signal) checked nothing more.
      local log = io.open(dir .. "/station-" .. numbers[i] .. ".log")
      violation = { violation = "a station stopped before its end: " .. (log and log:read("a") or "?"),
        board = "station " .. numbers[i] }
      if log then log:close() end
    end
  end
  if violation then return violation end
  -- The end: every board image against the whole journal.
  local ls = io.popen("ls '" .. dir .. "'/s*/done/*.img 2>/dev/null")
  local n = 0
  for p in ls:lines() do
    local img = assert(model.read_image(p))
    images[img.uid] = img
    n = n + 1
  end
  ls:close()
  local why = inv.global(images, rows.all(url, model.PRODUCT), rows.macs(url))
  totals.journals[#totals.journals + 1] = { kind = kind, boards = n }
  say("%s: end check of %d board images against the journal: %s", kind, n, why or "ok")
  if why then return { violation = why, board = "end of soak (" .. kind .. ")" } end
  return nil
end

local kinds = {}
for k in o.JOURNALS:gmatch("[^,]+") do kinds[#kinds + 1] = k end
local violation
for i, kind in ipairs(kinds) do
  local share = math.ceil(boards / #kinds)
  local deadline = duration and (start + math.floor(duration * i / #kinds)) or nil
  local url, server
  if kind == "sqlite" then
    url = base .. "/journal.db"
  elseif kind == "pg" then
    local why
    server, why = require("pg_server").start()
    if not server then
      say("pg: skipped: %s", why)
      goto next
    end
    url = server.url
  else
    io.stderr:write("soak: JOURNALS lists sqlite and pg, not " .. kind .. "\n")
    os.exit(2)
  end
  say("%s: %d station(s), %d board(s), seed %d, journal %s", kind, stations, share, seed, url)
  violation = phase(kind, url, share, deadline)
  if server then
    rows.close(url)
    require("pg_server").stop(server)
  end
  if violation then break end
  ::next::
end

totals.violations = violation and 1 or 0
totals.seconds = os.time() - start
totals.seed, totals.stations = seed, stations
local fk = {}
for _, k in ipairs(faultplan.ORDER) do fk[#fk + 1] = k .. " " .. totals.faults[k] end
local nf = 0
for _, k in ipairs(faultplan.ORDER) do nf = nf + totals.faults[k] end
totals.fault_runs = nf
totals.boards_per_s = totals.boards / math.max(totals.seconds, 1)
say("soak seed %d: %d boards, %d runs, %d fault runs (%s; swaps that landed %d), %d interrupted boards " ..
  "recovered by a rerun (%d of them blank after a cut write, rerun with --after-cut), violations %d, %d s, " ..
  "%.2f boards/s", seed, totals.boards, totals.runs, nf, table.concat(fk, ", "), totals.swaps_landed,
  totals.recovered, totals.after_cut, totals.violations, totals.seconds, totals.boards_per_s)
if o.SUMMARY then
  local f = assert(io.open(o.SUMMARY, "w"))
  f:write(json.encode(totals), "\n")
  f:close()
end
if violation then
  local st, bd = tostring(violation.board):match("station (%d+) board (%d+)")
  say("VIOLATION at %s: %s", violation.board, violation.violation)
  if violation.detail then io.stdout:write(violation.detail, "\n") end
  say("reproduce: make soak SEED=%d STATIONS=%d BOARDS=%d%s%s", seed, stations, boards,
    o.DRIVERS ~= "provision" and " DRIVERS=" .. o.DRIVERS or "", st and (" ONLY=" .. st .. ":" .. bd) or "")
  os.exit(1)
end
say("work files in %s", base)
os.exit(0)
