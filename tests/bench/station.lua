-- make bench, part 3: `stotp station` over 1, 2, 4 and 8 virtual probes
-- under VPROBE_REALTIME=1 (each round trip and program operation takes its
-- simulated time in wall time), each probe fed a fresh blank board as soon
-- as the station reports the last one done (an operator who swaps at
-- once). Reports boards per minute (first board started to last board
-- done), the ratio to one probe (target: 7x at 8 probes) and the host CPU
-- time per board (station, workers and the virtual probes they run in
-- process), also split into the start-up (interpreters and modules of the
-- station and its workers, paid once per station) and what each board
-- costs after it. On a machine with fewer cores than probes the ratio is
-- bounded by CPU: the table says how many cores there were.
local root = arg[0]:match("^(.*)tests/bench/station%.lua$") or "./"
if root == "" then root = "./" end
local build = os.getenv("STOTP_BUILD") or (root .. "build")
package.path = root .. "lua/?.lua;" .. root .. "lua/?/init.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath
local proc = require("stotp").proc
local dkjson = require("dkjson")

local PER_PROBE = 3 -- boards each probe provisions
local TARGET = 7

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return s
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local abs_root = sh("cd " .. root .. " && pwd"):gsub("\n", "")
local abs_build = build:sub(1, 1) == "/" and build or abs_root .. "/" .. build:gsub("^%./", "")
local cores = tonumber(sh("nproc")) or 0

-- A blank board image: `template` with its UID replaced by the kth one.
local function blank(template, k)
  return (template:gsub("\nuid %x+\n", string.format("\nuid %08x%016x\n", 0x77000000 + k, k * 7919 + 1)))
end

local function run(n)
  -- the virtual boards' image files on a RAM file system where there is
  -- one: their saves are vprobe's cost, which a real probe does not have
  local dir = sh("mktemp -d /dev/shm/stotp-bench-station.XXXXXX 2>/dev/null || " ..
    "mktemp -d /tmp/stotp-bench-station.XXXXXX"):gsub("\n", "")
  os.execute(string.format("cp %s/examples/sensor-mac.cfg %s/ && mkdir -p %s/keys && cp %s/examples/keys/master.key " ..
    "%s/keys/ && chmod 600 %s/keys/master.key", abs_root, dir, dir, abs_root, dir, dir))
  local imgs = {}
  for i = 1, n do imgs[i] = dir .. "/p" .. i .. ".img" end
  local env = string.format("LD_LIBRARY_PATH=%s/vprobe VPROBE_STATE=%s", abs_build, table.concat(imgs, ":"))
  -- the probes' serials (and blank images made) before the clock starts
  local list = dkjson.decode(sh(string.format("cd %s && env %s %s/bin/stotp probes --json", dir, env, abs_build)))
  local template = assert(slurp(imgs[1]))
  local img_of, next_board = {}, n
  for i, p in ipairs(list.probes) do
    img_of[p.serial] = imgs[i]
    spit(imgs[i], blank(template, i))
  end
  spit(dir .. "/answer", "sensor-mac\n")
  local total = n * PER_PROBE
  local cmd = string.format("cd %s && exec env %s VPROBE_REALTIME=1 %s/bin/stotp station sensor-mac.cfg --boards %d " ..
    "--json --log s.log <answer >st.out 2>st.err", dir, env, abs_build, total)
  local pid = assert(proc.spawn({ "sh", "-c", cmd }, dir .. "/spawn.log"))
  local offset = 0
  local code
  while true do
    local done, c = proc.wait(pid)
    local log = slurp(dir .. "/s.log") or ""
    for line in log:sub(offset + 1):gmatch("[^\n]*\n") do
      offset = offset + #line
      local serial = line:match("%[(%x+)%] OK serial") or line:match("%[(%x+)%] FAILED")
      if serial then
        next_board = next_board + 1
        local tmp = img_of[serial] .. ".new"
        spit(tmp, blank(template, next_board))
        os.rename(tmp, img_of[serial])
      end
    end
    if done then code = c; break end
    proc.sleep(0.02)
  end
  local r = dkjson.decode(slurp(dir .. "/st.out") or "") or {}
  if code ~= 0 or not r.summary then
    io.stderr:write(slurp(dir .. "/st.err") or "", (slurp(dir .. "/s.log") or ""):sub(-3000), "\n")
  end
  if not os.getenv("BENCH_KEEP") then os.execute("rm -rf " .. dir) end
  assert(code == 0 and r.summary, "station run failed: " .. tostring(code))
  return r
end

-- Boards per minute over production time: the station's summary counts
-- it from the first board started to the last one done.
print(string.format("\nstotp station, VPROBE_REALTIME=1, %d boards per probe, examples/sensor-mac.cfg, V2-1 (%d cores)",
  PER_PROBE, cores))
print(string.format("%-7s %7s %8s %12s %8s %14s %15s %13s", "probes", "boards", "prod. s", "boards/min", "ratio",
  "CPU s/board", "steady s/board", "start-up s"))
local base
local rows = {}
for _, n in ipairs(os.getenv("BENCH_PROBES") and { tonumber(os.getenv("BENCH_PROBES")) } or { 1, 2, 4, 8 }) do
  local r = run(n)
  local s = r.summary
  local bpm = s.boards_per_minute
  base = base or bpm
  rows[#rows + 1] = { n = n, bpm = bpm, ratio = bpm / base }
  print(string.format("%-7d %7d %8.1f %12.1f %7.2fx %14.3f %15.3f %13.3f", n, s.handled, s.production_s, bpm,
    bpm / base, s.cpu_per_board_s, s.cpu_per_board_steady_s, s.startup_cpu_s))
end
local last = rows[#rows]
print(last.ratio >= TARGET and string.format("ok: %.1fx at 8 probes (target %dx)", last.ratio, TARGET) or
  string.format("below target: %.1fx at 8 probes (target %dx); on %d cores, see CPU s/board", last.ratio, TARGET, cores))
