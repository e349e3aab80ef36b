-- The ST-Link firmware of vprobe, driven in raw USB terms (16-byte command
-- packets, IN replies) through the test-only vprobe_board binding.
-- Expected values come from the sources in README.md "Sources".
local vb = require "vprobe_board"
local raw = require "stlink_raw"
local cmd, xfer = raw.cmd, raw.xfer

local tmp, img = require("testfiles").scratch("b")

local function open(o)
  o.state = o.state or img()
  return assert(vb.open(o))
end

local function enter_swd(b)
  local usb = b:usb()
  xfer(b, cmd("BB", 0xF3, 0x07))               -- leave DFU if there
  local r = xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2)
  assert.same("\x80\0", r)
  return usb
end

-- string.unpack's values without the trailing next position
local function unpack(fmt, s, pos)
  local t = { string.unpack(fmt, s, pos) }
  t[#t] = nil
  return table.unpack(t)
end

local function rwstatus2(b)
  local r = xfer(b, cmd("BB", 0xF2, 0x3E), 12)
  local st, _, addr = string.unpack("<HHI4", r)
  return st, addr
end

local function read32(b, addr, len) return xfer(b, cmd("<BBI4I2", 0xF2, 0x07, addr, len), 8192) end
local function write32(b, addr, data) xfer(b, cmd("<BBI4I2", 0xF2, 0x08, addr, #data), nil, data) end

describe("vprobe.stlink", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  describe("GET_VERSION", function()
    -- word = hw<<12 | X<<6 | Y, big-endian; then VID, PID little-endian (OOCD
    -- stlink_usb.c)
    local rows = {
      { probe = "v2:J37S7", pid = 0x3748, hw = 2, x = 37, y = 7 },
      { probe = "v2:J24S5", pid = 0x3748, hw = 2, x = 24, y = 5 },
      { probe = "v2-1:J40M27", pid = 0x374B, hw = 2, x = 40, y = 27 },
      { probe = "v2-1:J40M27@3752", pid = 0x3752, hw = 2, x = 40, y = 27 },
      { probe = "v3:J7M3", pid = 0x374E, hw = 3, x = 0, y = 0 },
      { probe = "v3:J7M3@374f", pid = 0x374F, hw = 3, x = 0, y = 0 },
    }
    for _, row in ipairs(rows) do
      it("answers " .. row.probe .. " with its version word, VID and PID", function()
        local b <close> = open{ probe = row.probe }
        local r = xfer(b, cmd("B", 0xF1), 6)
        assert.same({ row.hw << 12 | row.x << 6 | row.y, 0x0483, row.pid, 7 },
                    { string.unpack(">I2<I2I2", r) })
      end)
    end

    it("gives the firmware versions through GET_VERSION_EX on V3", function()
      local b <close> = open{ probe = "v3:J7M3" }
      local r = xfer(b, cmd("B", 0xFB), 12)
      local hw, _, jtag, msd = string.unpack("BBBB", r)
      assert.same({ 3, 7, 3, 0x0483, 0x374E }, { hw, jtag, msd, unpack("<I2I2", r, 9) })
    end)

    it("does not know GET_VERSION_EX on V2", function()
      local b <close> = open{ probe = "v2-1:J40M27" }
      assert.same("\x42\0", xfer(b, cmd("B", 0xFB), 12))
    end)
  end)

  describe("modes", function()
    local function mode(b) return xfer(b, cmd("B", 0xF5), 2):byte(1) end

    it("powers up a V2 in DFU mode and a V2-1 or V3 in MASS mode", function()
      local b2 <close> = open{ probe = "v2" }
      local b21 <close> = open{ probe = "v2-1" }
      local b3 <close> = open{ probe = "v3" }
      assert.same({ 0, 1, 1 }, { mode(b2), mode(b21), mode(b3) })
    end)

    it("goes DFU -> MASS -> DEBUG -> MASS with F3 07, F2 30 A3 and F2 21", function()
      local b <close> = open{ probe = "v2" }
      local seen = { mode(b) }
      xfer(b, cmd("BB", 0xF3, 0x07))
      seen[#seen + 1] = mode(b)
      assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2))
      seen[#seen + 1] = mode(b)
      xfer(b, cmd("BB", 0xF2, 0x21))
      seen[#seen + 1] = mode(b)
      assert.same({ 0, 1, 2, 1 }, seen)
    end)

    it("returns to the power-on mode on a USB reset", function()
      local b <close> = open{ probe = "v2" }
      enter_swd(b)
      assert(b:reset())
      assert.same(0, mode(b))
    end)

    it("reads the DPIDR of the part with READ_IDCODES", function()
      local b <close> = open{ target = "stm32f767zi" }
      enter_swd(b)
      local st, id = string.unpack("<I2xxI4", xfer(b, cmd("BB", 0xF2, 0x31), 12))
      assert.same({ 0x80, 0x5BA02477 }, { st, id })  -- STL stm32.h, M7 SW-DP
    end)
  end)

  describe("version gates", function()
    it("answers READMEM_16BIT on V2 J24 with the unknown-command status", function()
      local b <close> = open{ probe = "v2:J24" }
      enter_swd(b)
      assert.same("\x42\0", xfer(b, cmd("<BBI4I2", 0xF2, 0x47, 0x20000000, 4), 64))
    end)

    it("reads 16-bit memory from V2 J26 on", function()
      local b <close> = open{ probe = "v2:J26" }
      enter_swd(b)
      -- the flash-size register of an F4 is a u16 at 0x1FFF7A22 (CMSIS, OOCD
      -- stm32f2x.c)
      local r = xfer(b, cmd("<BBI4I2", 0xF2, 0x47, 0x1FFF7A22, 2), 64)
      assert.same({ 2048, 3 }, { string.unpack("<I2", r) })
      assert.same(0x80, (rwstatus2(b)))
    end)

    it("does not know GETLASTRWSTATUS2 below J15", function()
      local b <close> = open{ probe = "v2:J14" }
      enter_swd(b)
      assert.same("\x42\0", xfer(b, cmd("BB", 0xF2, 0x3E), 12))
      assert.same("\x80\0", xfer(b, cmd("BB", 0xF2, 0x3B), 2))
    end)

    it("refuses an AP register access before INIT_AP on J28+", function()
      local b <close> = open{ probe = "v2:J28" }
      enter_swd(b)
      local idr = cmd("<BBI2I2", 0xF2, 0x45, 0, 0xFC)
      assert.same(0x1D, xfer(b, idr, 8):byte(1))
      assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x4B, 0), 2))
      assert.same({ 0x80, 0x24770011 }, { unpack("<I2xxI4", xfer(b, idr, 8)) })
    end)

    it("allows AP register access without INIT_AP below J28, where INIT_AP is unknown", function()
      local b <close> = open{ probe = "v2:J24" }
      enter_swd(b)
      assert.same("\x42\0", xfer(b, cmd("BBB", 0xF2, 0x4B, 0), 2))
      local r = xfer(b, cmd("<BBI2I2", 0xF2, 0x45, 0, 0xFC), 8)
      assert.same({ 0x80, 0x24770011 }, { unpack("<I2xxI4", r) })
    end)

    it("reads DPIDR and the power-up ACKs through READ_DAP_REG", function()
      local b <close> = open{ probe = "v2:J28" }
      enter_swd(b)
      local _, dpidr = string.unpack("<I2xxI4", xfer(b, cmd("<BBI2I2", 0xF2, 0x45, 0xFFFF, 0), 8))
      local _, ctrl = string.unpack("<I2xxI4", xfer(b, cmd("<BBI2I2", 0xF2, 0x45, 0xFFFF, 4), 8))
      assert.same({ 0x2BA01477, 0xA0000000 }, { dpidr, ctrl & 0xA0000000 })
    end)
  end)

  describe("memory command limits", function()
    -- { what, probe, sub, addr, len, status } (OOCD stlink_usb.c)
    local rows = {
      { "32-bit at an address not a multiple of 4", "v2", 0x07, 0x20000002, 4, 0x0A },
      { "32-bit of a length not a multiple of 4", "v2", 0x07, 0x20000000, 6, 0x0A },
      { "16-bit at an odd address", "v2", 0x47, 0x20000001, 2, 0x0A },
      { "32-bit above 6144 bytes", "v2", 0x07, 0x20000000, 6148, 0x08 },
      { "8-bit above 64 bytes on V2", "v2", 0x0C, 0x20000000, 65, 0x08 },
      { "8-bit above 512 bytes on V3 J7", "v3:J7M3", 0x0C, 0x20000000, 513, 0x08 },
      { "8-bit above 64 bytes on V3 J5", "v3:J5M3", 0x0C, 0x20000000, 65, 0x08 },
    }
    for _, row in ipairs(rows) do
      it("refuses a read " .. row[1], function()
        local b <close> = open{ probe = row[2] }
        enter_swd(b)
        xfer(b, cmd("<BBI4I2", 0xF2, row[3], row[4], row[5]))
        assert.same(row[6], (rwstatus2(b)))
      end)
    end

    it("accepts 512-byte 8-bit reads on V3 J7 and 6144-byte 32-bit reads", function()
      local b <close> = open{ probe = "v3:J7M3" }
      enter_swd(b)
      assert.same(512, #xfer(b, cmd("<BBI4I2", 0xF2, 0x0C, 0x20000000, 512), 8192))
      assert.same(0x80, (rwstatus2(b)))
      assert.same(6144, #read32(b, 0x20000000, 6144))
      assert.same(0x80, (rwstatus2(b)))
    end)

    it("sends nothing for an over-long read, so the host times out", function()
      local b <close> = open{ probe = "v2" }
      enter_swd(b)
      assert.same({ nil, "timeout", -7 }, { read32(b, 0x20000000, 6148) })
    end)

    it("consumes the data phase of a refused write", function()
      local b <close> = open{ probe = "v2" }
      enter_swd(b)
      write32(b, 0x20000002, "\1\2\3\4")
      assert.same(0x0A, (rwstatus2(b)))
      -- the next packet is a command again: the data was not taken for one
      assert.same(6, #xfer(b, cmd("B", 0xF1), 6))
    end)

    it("answers a 1-byte READMEM_8BIT with 2 bytes, overflowing a 1-byte buffer", function()
      local b <close> = open{ probe = "v2" }
      local usb = enter_swd(b)
      write32(b, 0x20000000, "\xA5\x5A\0\0")
      assert.same("\xA5\0", xfer(b, cmd("<BBI4I2", 0xF2, 0x0C, 0x20000000, 1), 64))
      assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x0C, 0x20000001, 1)))
      assert.same({ nil, "overflow", -8 }, { b:in_(usb.ep_in, 1) })
    end)
  end)

  describe("bus errors", function()
    it("reports a faulting read with SWD_AP_FAULT and the address in GETLASTRWSTATUS2", function()
      local b <close> = open{ probe = "v2-1" }
      enter_swd(b)
      -- 0x60000000 (FMC) is not mapped on the model: a bus fault
      local r = read32(b, 0x60000000, 8)
      assert.same(string.rep("\0", 8), r)
      assert.same({ 0x11, 0x60000000 }, { rwstatus2(b) })
    end)

    it("stops at the first faulting unit and keeps what it read", function()
      local b <close> = open{ probe = "v2-1", target = "stm32f407vg" }
      enter_swd(b)
      -- the SRAM of an F407 as modelled (sram_kib contiguous) ends at 0x20020000
      write32(b, 0x2001FFFC, "\x11\x22\x33\x44")
      assert.same("\x11\x22\x33\x44\0\0\0\0", read32(b, 0x2001FFFC, 8))
      assert.same({ 0x11, 0x20020000 }, { rwstatus2(b) })
    end)

    -- OOCD commit 9fce8a21c: the firmware answers SWD_AP_WAIT after an access
    -- got a WAIT ACK "more than 4 times in a row" (OOCD 9fce8a21c), and the
    -- write the AP had accepted completes once the stall ends
    local KEYR, CR = 0x40023C04, 0x40023C10
    local function start_erase(b)
      write32(b, KEYR, string.pack("<I4", 0x45670123))
      write32(b, KEYR, string.pack("<I4", 0xCDEF89AB))
      write32(b, CR, string.pack("<I4", 0x2 | 5 << 3))              -- SER, sector 5
      write32(b, CR, string.pack("<I4", 0x10000 | 0x2 | 5 << 3))    -- STRT: busy
      assert.same(0x80, (rwstatus2(b)))
    end

    it("takes a write into a stalled bus, answers WAIT after a handful of WAIT ACKs, and completes the write", function()
      local b <close> = open{ probe = "v2-1", target = "stm32f407vg" }
      enter_swd(b)
      start_erase(b)
      -- CR is not writable while BSY: the AHB stalls (RM0090 §3.6), the
      -- AP has the write
      write32(b, CR, string.pack("<I4", 0x80000000))
      assert.same(0x80, (rwstatus2(b)))
      local before = b:stats().sim_us
      write32(b, CR, string.pack("<I4", 0x80000000))
      assert.same({ 0x10, CR }, { rwstatus2(b) })
      -- five SWD packets at 1.8 MHz and two USB round trips: far below
      -- the erase (the firmware does not wait milliseconds)
      assert.is_true(b:stats().sim_us - before < 3000)
      local tries = 1
      repeat
        tries = tries + 1
        read32(b, CR, 4)
      until rwstatus2(b) ~= 0x10 or tries > 20000
      assert.same(0x80, (rwstatus2(b)))
      assert.is_true(tries > 2)
      assert.equal(0x80000000, string.unpack("<I4", read32(b, CR, 4)) & 0x80000000)
    end)

    it("on a V3 answers the first access after a busy-AP WAIT with AP_FAULT, then works (BMP stlinkv2.c)", function()
      local b <close> = open{ probe = "v3", target = "stm32f407vg" }
      enter_swd(b)
      start_erase(b)
      write32(b, CR, string.pack("<I4", 0x80000000))
      write32(b, CR, string.pack("<I4", 0x80000000))
      assert.same(0x10, (rwstatus2(b)))
      read32(b, 0x20000000, 4)
      assert.same(0x11, (rwstatus2(b)))
      -- while the AP stays busy (the erase) WAIT and FAULT alternate; then OK
      local function settled()
        for _ = 1, 20000 do
          read32(b, 0x20000000, 4)
          local st = rwstatus2(b)
          if st ~= 0x10 and st ~= 0x11 then return st end
        end
      end
      assert.same(0x80, settled())
    end)

    -- PYO stlink.py, BMP stlinkv2.c: UNCONFIRMED whether the firmware clears
    -- STICKYERR itself
    local function fault_then_read(o)
      local b <close> = open(o)
      enter_swd(b)
      read32(b, 0x60000000, 4)
      local first = rwstatus2(b)
      read32(b, 0x20000000, 4)
      local second = rwstatus2(b)
      -- WRITE_DAP_REG DP ABORT = STKERRCLR|WDERRCLR|ORUNERRCLR|STKCMPCLR
      local abort = o.probe:match("J2[0-3]$") and "" or xfer(b, cmd("<BBI2I2I4", 0xF2, 0x46, 0xFFFF, 0, 0x1E), 2)
      read32(b, 0x20000000, 4)
      return { first, second, abort, (rwstatus2(b)) }
    end

    it("keeps the sticky error after a fault until the host writes DP ABORT (quirk sticky=kept, the default)", function()
      assert.same({ 0x11, 0x11, "\x80\0", 0x80 }, fault_then_read{ probe = "v2:J37" })
      assert.same({ 0x11, 0x11, "\x80\0", 0x80 }, fault_then_read{ probe = "v3" })
    end)

    it("clears the sticky error itself under sticky=cleared, and on firmware without WRITE_DAP_REG", function()
      assert.same({ 0x11, 0x80, "\x80\0", 0x80 }, fault_then_read{ probe = "v2:J37", quirks = "sticky=cleared" })
      assert.same({ 0x11, 0x80, "", 0x80 }, fault_then_read{ probe = "v2:J23" })
    end)
  end)

  describe("GET_TARGET_VOLTAGE", function()
    for _, volts in ipairs{ 3.3, 3.0, 1.8 } do
      it("encodes " .. volts .. " V so that 2*a1*1.2/a0 gives it back", function()
        local b <close> = open{ probe = "v2-1", voltage = volts }
        local a0, a1 = string.unpack("<I4I4", xfer(b, cmd("B", 0xF7), 8))
        assert.is_true(a0 > 0)
        assert.near(volts, 2 * a1 * 1.2 / a0, 0.005)
      end)
    end

    it("is unknown on V2 firmware below J13", function()
      local b <close> = open{ probe = "v2:J12" }
      xfer(b, cmd("BB", 0xF3, 0x07))
      assert.same("\x42\0", xfer(b, cmd("B", 0xF7), 8))
    end)
  end)

  describe("stats", function()
    it("counts command packets, bytes both ways and simulated time", function()
      local b <close> = open{ probe = "v2-1", latency = 1000 }
      local s0 = b:stats()
      assert.same({ 0, 0, 0 }, { s0.transactions, s0.bytes_out, s0.bytes_in })
      enter_swd(b)                                   -- 2 commands, 2 reply bytes
      write32(b, 0x20000000, string.rep("\x5A", 64)) -- 1 command + 64 data bytes
      local r = read32(b, 0x20000000, 64)            -- 1 command, 64 reply bytes
      assert.same(string.rep("\x5A", 64), r)
      local s = b:stats()
      assert.same({ 4, 4 * 16 + 64, 2 + 64 }, { s.transactions, s.bytes_out, s.bytes_in })
      assert.is_true(s.sim_us >= 4 * 1000)
    end)

    it("writes the stats as JSON when the board closes", function()
      local path = tmp .. "/stats.json"
      local b = open{ probe = "v2-1", stats = path, latency = 10 }
      xfer(b, cmd("B", 0xF1), 6)
      local s = b:stats()
      b:close()
      local f = assert(io.open(path))
      local text = f:read("a")
      f:close()
      assert.same(string.format('{"transactions": 1, "bytes_out": 16, "bytes_in": 6, "sim_us": %d}\n', s.sim_us), text)
    end)
  end)
end)
