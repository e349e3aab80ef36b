-- make bench, part 2: a station's cycle. Provisions N fresh virtual boards
-- with examples/sensor-mac.cfg through provision.lua (one process per board,
-- as at a station: start-up, config check, plan, journal, burn, verify,
-- lock, record) and reports wall time per board and the peak resident
-- memory of one run. Targets: 250 ms per board (the virtual probe costs no
-- wall time, so this measures stotp itself) and 32 MiB.
local N = 20
local MS_TARGET, KIB_TARGET = 250, 32 * 1024
local root = arg[0]:match("^(.*)tests/bench/provision%.lua$") or "./"
local dir = assert(io.popen("mktemp -d /tmp/stotp-bench.XXXXXX")):read("l")

local function now_ns()
  return tonumber(assert(io.popen("date +%s%N")):read("l"))
end

local function provision(i, timed)
  local prefix = timed and "/usr/bin/time -f %M -o " .. dir .. "/rss " or ""
  local cmd = string.format("cd %q && env -u LD_LIBRARY_PATH %slua5.4 provision.lua examples/sensor-mac.cfg"
    .. " --sim %s/b%d.img --journal %s/j.db --yes >/dev/null 2>&1", root, prefix, dir, i, dir)
  assert(os.execute(cmd), "provision run " .. i .. " failed")
end

local t0 = now_ns()
for i = 1, N do provision(i, false) end
local ms = (now_ns() - t0) / 1e6 / N

local kib
if os.execute("test -x /usr/bin/time") then
  provision(N + 1, true)
  kib = tonumber(assert(io.open(dir .. "/rss")):read("l"))
end
os.execute("rm -rf " .. dir)

print(string.format("\nprovision.lua, %d fresh boards: %.1f ms per board (target %d); peak RSS %s KiB (target %d)",
  N, ms, MS_TARGET, kib and tostring(kib) or "n/a (no /usr/bin/time)", KIB_TARGET))
local ok = ms <= MS_TARGET and (kib == nil or kib <= KIB_TARGET)
print(ok and "ok: within the station targets" or "FAIL: over a station target")
os.exit(ok and 0 or 1)
