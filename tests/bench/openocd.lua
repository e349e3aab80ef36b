-- make bench, section: stotp and OpenOCD 0.12 doing the same job on the
-- same kind of virtual board (an STM32F407 behind each probe kind): write
-- all 512 OTP data bytes, verify them, lock all 16 blocks and read the lock
-- bytes back, each as one process counted from open to close by the model
-- (VPROBE_STATS). OpenOCD runs with `WORKAREASIZE 0` (vprobe runs no target
-- code) and its TCP ports disabled; its `flash protect` does not lock OTP
-- blocks (OOCD stm32f2x.c: OOCD ticket #393), so it writes the 16 lock bytes
-- with mww/mwb after the key sequence and PG with PSIZE x8, the workaround
-- the facts give. Prints a markdown table for README.md's "Measured".
local bench = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")

local PART, PROBES = "stm32f407vg", { "v2:J37", "v2-1:J40M27", "v3:J7M3" }
local dir = bench.scratch()
local data = {}
for i = 0, 511 do data[#data + 1] = string.char((i * 13 + 1) % 256 & 0xFE) end
data = table.concat(data)
assert(io.open(dir .. "/data.bin", "wb")):write(data):close()

local STOTP = [[
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "%s/?.so;" .. package.cpath
local stotp = require("stotp")
local data = assert(io.open("%s/data.bin", "rb")):read("a")
local p = assert(stotp.open{})
local t = assert(p:attach())
-- written, read back and verified, and all 16 blocks locked in the same
-- flash session once the read-back matched (otp_write's lock option)
local lock = {}
for b = 0, 15 do lock[b] = data:sub(b * 32 + 1, (b + 1) * 32) end
assert(t:otp_write(0, data, { lock = lock }))
assert(t:otp_read() == data, "verify")
for _, locked in ipairs(assert(t:otp_locks())) do assert(locked, "lock") end
p:close()
]]
assert(io.open(dir .. "/stotp.lua", "w")):write(STOTP:format(bench.BUILD, dir)):close()

local OPENOCD = table.concat({
  "openocd -f interface/stlink.cfg -c 'set WORKAREASIZE 0' -f target/stm32f4x.cfg",
  "-c 'gdb_port disabled' -c 'tcl_port disabled' -c 'telnet_port disabled' -c init -c 'reset halt'",
  "-c 'stm32f2x otp 1 enable' -c 'flash write_bank 1 %s/data.bin 0' -c 'flash verify_bank 1 %s/data.bin 0'",
  "-c 'mww 0x40023C04 0x45670123' -c 'mww 0x40023C04 0xCDEF89AB' -c 'mww 0x40023C10 0x1'",
  "-c 'mwb 0x1FFF7A00 0 16' -c 'mww 0x40023C10 0x80000000' -c 'flash info 1' -c shutdown" }, " ")

print("\nstotp and OpenOCD 0.12, the same job: 512 OTP bytes written and verified, 16 blocks locked (" .. PART .. ")\n")
print("| probe | stotp round trips | stotp simulated ms | OpenOCD round trips | OpenOCD simulated ms | ratio (trips) | ratio (time) |")
print("|---|---|---|---|---|---|---|")
for _, probe in ipairs(PROBES) do
  local s = bench.counted(dir, PART, probe, "lua5.4 " .. dir .. "/stotp.lua")
  local o = bench.counted(dir, PART, probe, "timeout 300 " .. OPENOCD:format(dir, dir))
  print(string.format("| %s | %d | %.1f | %d | %.1f | %.0fx | %.0fx |", probe, s.transactions, s.sim_ms,
    o.transactions, o.sim_ms, o.transactions / s.transactions, o.sim_ms / s.sim_ms))
end
os.execute("rm -rf " .. dir)
