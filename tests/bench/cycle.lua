-- make bench, section: one provisioning cycle as a station runs it:
-- `provision.lua examples/sensor-mac.cfg --yes` on a blank STM32F407 (five
-- fields in block 0, one lock, --after reset), open to close through the
-- libusb drop-in, counted by the model (VPROBE_STATS). Prints a markdown
-- table for README.md's "Measured".
local bench = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")

local PROBES = { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" }
local dir = bench.scratch()

print("\nprovision.lua examples/sensor-mac.cfg on a blank stm32f407vg, open to close\n")
print("| probe | round trips | simulated ms |")
print("|---|---|---|")
for _, probe in ipairs(PROBES) do
  os.remove(dir .. "/j.db")
  local r = bench.counted(dir, "stm32f407vg", probe, string.format(
    "lua5.4 provision.lua examples/sensor-mac.cfg --journal %s/j.db --yes", dir))
  print(string.format("| %s | %d | %.1f |", probe, r.transactions, r.sim_ms))
end
os.execute("rm -rf " .. dir)
