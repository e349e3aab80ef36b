-- Test-only helpers shared by the stotp.core specs (tests/core_*_spec.lua):
-- opening a virtual probe through either transport, board images, test
-- data, and decoding the command packets probe:trace() records (ST-Link
-- framing from OOCD stlink_usb.c and PYO constants.py, independent of the
-- C code that builds them).
local env = require("testenv")
local stotp = require("stotp.core")

local M = {}

-- Board images live under TMPDIR, else in a /tmp directory of this
-- checkout's own: suites run at once from two worktrees must never remove
-- or overwrite each other's images (fixed names such as
-- stotp-core-quirks.img collided there).
local function scratch_dir()
  local t = os.getenv("TMPDIR")
  if t and t ~= "" then return t end
  local pwd = assert(io.popen("pwd"))
  local dir = "/tmp/stotp-specs" .. pwd:read("l"):gsub("[^%w]", "_")
  pwd:close()
  os.execute("mkdir -p '" .. dir .. "'")
  return dir
end

M.TMP = scratch_dir()
M.PROBES = { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" }
M.PARTS = {
  stm32f205rg = { family = "F2", dev_id = 0x411, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f407vg = { family = "F4", dev_id = 0x413, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f429zi = { family = "F4", dev_id = 0x419, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f722ze = { family = "F7", dev_id = 0x452, base = 0x1FF07800, lock = 0x1FF07A00, bs = 32 },
  stm32f767zi = { family = "F7", dev_id = 0x451, base = 0x1FF0F000, lock = 0x1FF0F400, bs = 64 },
}
M.PART_ORDER = { "stm32f205rg", "stm32f407vg", "stm32f429zi", "stm32f722ze", "stm32f767zi" }

function M.slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Opens a probe on board image `img` through "usb" (the libusb drop-in,
-- configured by VPROBE_*) or "sim" (in process). extra: voltage, fault,
-- quirks (VPROBE_QUIRKS syntax), stats (a VPROBE_STATS path, usb only),
-- khz (the SWD clock, stotp.open's freq_khz).
function M.open(transport, img, part, probe, extra)
  extra = extra or {}
  env.setenv("VPROBE_STATS", extra.stats)
  if transport == "usb" then
    env.setenv("VPROBE_QUIRKS", extra.quirks)
    env.setenv("VPROBE_STATE", img)
    env.setenv("VPROBE_TARGET", part)
    env.setenv("VPROBE_PROBE", probe)
    env.setenv("VPROBE_FAULT", extra.fault)
    env.setenv("VPROBE_VOLTAGE", extra.voltage and tostring(extra.voltage))
    return stotp.open { freq_khz = extra.khz }
  end
  env.setenv("VPROBE_FAULT", nil)
  env.setenv("VPROBE_VOLTAGE", nil)
  env.setenv("VPROBE_QUIRKS", nil)
  return stotp.open { sim = img, sim_part = part, sim_probe = probe,
                      sim_voltage = extra.voltage, sim_fault = extra.fault,
                      sim_quirks = extra.quirks, freq_khz = extra.khz }
end

-- What a clean connection to board image `img` reads: OTP data and lock
-- flags.
function M.read_back(transport, img, part, probe)
  local p = assert(M.open(transport, img, part, probe))
  local t = assert(p:attach())
  local back, locks = t:otp_read(), t:otp_locks()
  p:close()
  return back, locks
end

-- { 0, 1, ..., 15 }
function M.all_blocks()
  local t = {}
  for b = 0, 15 do t[#t + 1] = b end
  return t
end

-- n bytes (i * mul + add) % 256 & mask: a pattern never 0xFF (mask clears
-- a bit), so every byte of an erased OTP changes.
function M.pattern(n, mul, add, mask)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = string.char((i * mul + add) % 256 & mask) end
  return table.concat(t)
end

-- The lock bytes of a board image file, as a string of raw bytes.
function M.image_locks(img)
  local hex = assert(M.slurp(img):match("\nlock (%x+)"), "no lock line in " .. img)
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- The memory and register accesses of a trace, decoded from the packet
-- layouts of OOCD stlink_usb.c: READ/WRITEMEM (F2 0C/47/07, F2 0D/48/08:
-- address u32 LE at [2], length u16 LE at [6]) as { op = "read"/"write",
-- addr, n, width }, WRITEDEBUGREG (F2 35: address, value) as { op = "reg",
-- reg, value }, READDEBUGREG (F2 36: address) as { op = "regread", reg };
-- an RW_MISC_OUT (F2 51) as its items in order, a write as "reg" and a read
-- as "regread" like the single commands (with ap when an APNUM item chose
-- an AP other than 0). index = position of the command in the trace (an
-- RW_MISC_OUT's items all share it).
local MEM = {
  [0x0C] = { "read", 1 }, [0x47] = { "read", 2 }, [0x07] = { "read", 4 },
  [0x0D] = { "write", 1 }, [0x48] = { "write", 2 }, [0x08] = { "write", 4 },
}
-- Which of decode's filters an op passes: register writes count as writes.
local CLASS = { read = "read", write = "write", reg = "write", regread = "regread" }

-- RW_MISC_OUT (OpenOCD 0.12.0 src/jtag/drivers/stlink_usb.c
-- stlink_usb_misc_rw_segment, RW_MISC_CMD_*): items u32 at [2], then the
-- data phase: one op byte per item (1 ADDRESS, 2 WRITE, 3 READ, 5 APNUM),
-- padded to 4, then one u32 LE per item (WRITE's value follows ADDRESS's
-- address). The trace keeps the data phase after the 16-byte command.
local function misc_items(c, i, add)
  local items = string.unpack("<I4", c, 3)
  local ops = (items + 3) // 4 * 4
  assert(#c == 16 + ops + 4 * items,
    string.format("trace entry %d: RW_MISC_OUT of %d items without its %d-byte data phase (%d bytes)", i, items,
      ops + 4 * items, #c - 16))
  local addr, ap
  for k = 1, items do
    local opc, v = c:byte(16 + k), string.unpack("<I4", c, 16 + ops + 4 * (k - 1) + 1)
    if opc == 1 then
      addr = v
    elseif opc == 2 then
      add({ op = "reg", reg = assert(addr, "RW_MISC WRITE without ADDRESS"), value = v, index = i, ap = ap })
    elseif opc == 3 then
      add({ op = "regread", reg = v, index = i, ap = ap })
    else
      assert(opc == 5, string.format("trace entry %d: RW_MISC op %d is none of OpenOCD's", i, opc))
      ap = v ~= 0 and v or nil -- AP0, the Cortex-M's AHB-AP, left implicit
    end
  end
end

-- The trace's accesses, in order; op: only those of that class ("write":
-- memory and register writes, "read": memory reads, "regread": register
-- reads), nil: all.
local function decode(trace, op)
  local out = {}
  local function add(e)
    if op == nil or CLASS[e.op] == op then out[#out + 1] = e end
  end
  for i, c in ipairs(trace) do
    local b0, b1, addr, n = string.unpack("<BBI4I2", c)
    local mem = b0 == 0xF2 and MEM[b1]
    if mem then
      add({ op = mem[1], addr = addr, n = n, width = mem[2], index = i })
    elseif b0 == 0xF2 and b1 == 0x35 then
      local _, _, a, v = string.unpack("<BBI4I4", c)
      add({ op = "reg", reg = a, value = v, index = i })
    elseif b0 == 0xF2 and b1 == 0x36 then
      add({ op = "regread", reg = addr, index = i })
    elseif b0 == 0xF2 and b1 == 0x51 then
      misc_items(c, i, add)
    end
  end
  return out
end

-- Every access, in order.
M.decode = decode
-- Memory writes and register writes (single or batched), in order.
function M.writes(trace) return decode(trace, "write") end
-- Memory reads.
function M.reads(trace) return decode(trace, "read") end
-- Register reads (READDEBUGREG or an RW_MISC READ item), in order.
function M.regreads(trace) return decode(trace, "regread") end

-- Every address the memory writes of a trace touch inside [lo, hi), as a
-- sorted list.
function M.touched(trace, lo, hi)
  local set, list = {}, {}
  for _, w in ipairs(M.writes(trace)) do
    for a = w.addr or 0, (w.addr or 0) + (w.n or 0) - 1 do
      if a >= lo and a < hi and not set[a] then
        set[a] = true
        list[#list + 1] = a
      end
    end
  end
  table.sort(list)
  return list
end

return M
