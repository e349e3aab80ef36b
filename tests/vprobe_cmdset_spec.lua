-- The command set of the V2 J32+ / V3 J2+ firmware (OOCD stlink_usb.c,
-- STLINK_F_* flags, stlink_usb_misc_rw_segment, commit 324a45e02):
-- RW_MISC_OUT/IN with their item limits, READMEM_32BIT_NO_ADDR_INC, banked DP
-- registers, APSEL and CSW bytes in memory commands, GET_BOARD_IDENTIFIERS, and
-- V3's 8-bit limits before J6. One spec per command and version boundary, in
-- raw USB terms; a version without a command answers as that version does (the
-- unknown-command status, PYO constants.py).
local vb = require "vprobe_board"
local raw = require "stlink_raw"
local cmd, xfer, enter_swd, rwstatus2 = raw.cmd, raw.xfer, raw.enter_swd, raw.rwstatus2

local tmp, img = require("testfiles").scratch("c")
local SRAM = 0x20000000

local function open(probe, target)
  return assert(vb.open{ state = img(), probe = probe, target = target })
end

local function write32(b, addr, data) xfer(b, cmd("<BBI4I2", 0xF2, 0x08, addr, #data), nil, data) end

-- RW_MISC_OUT of `ops` ({opcode, operand} pairs: OOCD
-- stlink_usb_misc_rw_segment's layout), then RW_MISC_IN; returns the values
-- and statuses, or nil and the IN failure.
local ADDRESS, WRITE, READ, APNUM = 1, 2, 3, 5
local function misc(b, ops)
  local n, codes, args = #ops, {}, {}
  for i, op in ipairs(ops) do
    codes[i] = string.char(op[1])
    args[i] = string.pack("<I4", op[2])
  end
  local pad = string.rep("\0", (4 - n % 4) % 4)
  xfer(b, cmd("<BBI4", 0xF2, 0x51, n), nil, table.concat(codes) .. pad .. table.concat(args))
  local r, err = xfer(b, cmd("BB", 0xF2, 0x52), 8 * n)
  if not r then return nil, err end
  local values, statuses = {}, {}
  for i = 1, n do
    values[i] = string.unpack("<I4", r, 4 * i - 3)
    statuses[i] = string.unpack("<I4", r, 4 * (n + i) - 3)
  end
  return values, statuses
end

describe("vprobe command set", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  describe("RW_MISC_OUT/IN (51/52)", function()
    for _, probe in ipairs { "v2:J31", "v3:J1" } do
      it("is unknown on " .. probe, function()
        local b <close> = open(probe)
        enter_swd(b)
        assert.same("\x42\0", xfer(b, cmd("<BBI4", 0xF2, 0x51, 1), 64))
      end)
    end

    for _, probe in ipairs { "v2:J32", "v2-1:J40M27", "v3:J2", "v3:J7M3" } do
      it("writes and reads words item by item on " .. probe, function()
        local b <close> = open(probe)
        enter_swd(b)
        local values, statuses = misc(b, { { APNUM, 0 }, { ADDRESS, SRAM + 8 }, { WRITE, 0x11223344 },
                                           { READ, SRAM + 8 }, { READ, 0x1FFF7A10 } })
        assert.same({ 0x80, 0x80, 0x80, 0x80, 0x80 }, statuses)
        assert.equal(0x11223344, values[4])
        local uid = xfer(b, cmd("<BBI4I2", 0xF2, 0x07, 0x1FFF7A10, 4), 4)
        assert.equal(string.unpack("<I4", uid), values[5])
      end)
    end

    it("reports a faulting item and runs none after it", function()
      local b <close> = open("v2:J37")
      enter_swd(b)
      write32(b, SRAM, "\0\0\0\0")
      local _, statuses = misc(b, { { READ, 0x60000000 }, { ADDRESS, SRAM }, { WRITE, 0x55 } })
      assert.same({ 0x11, 0x11, 0x11 }, statuses)
      -- and the sticky flag then stays until DP ABORT (quirk sticky=kept)
      assert.same("\x80\0", xfer(b, cmd("<BBI2I2I4", 0xF2, 0x46, 0xFFFF, 0, 0x1E), 2))
      assert.same("\0\0\0\0", xfer(b, cmd("<BBI4I2", 0xF2, 0x07, SRAM, 4), 4))
    end)

    it("refuses an AP other than AP0", function()
      local b <close> = open("v3:J7M3")
      enter_swd(b)
      local _, statuses = misc(b, { { APNUM, 1 }, { READ, SRAM } })
      assert.same({ 0x1D, 0x1D }, statuses)
    end)

    for _, lim in ipairs { { "v2:J37", 64 }, { "v3:J7M3", 1227 } } do
      it(string.format("takes at most %d items on %s, refusing more without a data phase", lim[2], lim[1]), function()
        local b <close> = open(lim[1])
        local usb = enter_swd(b)
        local ops = {}
        for i = 1, lim[2] do ops[i] = { READ, SRAM + 4 * (i % 16) } end
        local values, statuses = misc(b, ops)
        assert.equal(lim[2], #values)
        assert.equal(0x80, statuses[lim[2]])
        -- one more: the command is refused, the data arrives as a command
        -- packet that is too long (stall), and RW_MISC_IN has nothing
        assert(b:out(usb.ep_out, cmd("<BBI4", 0xF2, 0x51, lim[2] + 1)))
        assert.same({ nil, "pipe", -9 }, { b:out(usb.ep_out, string.rep("\3", lim[2] + 1 + 3)) })
        assert(b:out(usb.ep_out, cmd("BB", 0xF2, 0x52)))
        assert.same({ nil, "timeout", -7 }, { b:in_(usb.ep_in, 8 * (lim[2] + 1)) })
      end)
    end
  end)

  describe("READMEM_32BIT_NO_ADDR_INC (54)", function()
    it("is unknown on V2 J31 and reads one address again and again on J32", function()
      local old <close> = open("v2:J31")
      enter_swd(old)
      assert.same("\x42\0", xfer(old, cmd("<BBI4I2", 0xF2, 0x54, SRAM, 8), 64))
      local b <close> = open("v2:J32")
      enter_swd(b)
      write32(b, SRAM, "\1\2\3\4\5\6\7\8")
      assert.same("\1\2\3\4\1\2\3\4", xfer(b, cmd("<BBI4I2", 0xF2, 0x54, SRAM, 8), 64))
      assert.same(0x80, (rwstatus2(b)))
    end)
  end)

  describe("banked DP registers", function()
    local function dp_read(b, addr)
      return { string.unpack("<I2xxI4", xfer(b, cmd("<BBI2I2", 0xF2, 0x45, 0xFFFF, addr), 8)) }
    end

    it("reads DLCR at bank 1 from V2 J32; below it the bank bits are not looked at", function()
      local old <close> = open("v2:J31")
      enter_swd(old)
      assert.equal(dp_read(old, 0x04)[2], dp_read(old, 0x14)[2])   -- CTRL/STAT again
      local b <close> = open("v2:J32")
      enter_swd(b)
      assert.same({ 0x80, 0x40, 9 }, dp_read(b, 0x14))
    end)

    it("gives TARGETID and DLPIDR on the M7's DPv2 from V3 J2, zero on a DPv1", function()
      local b <close> = open("v3:J2", "stm32f767zi")
      enter_swd(b)
      assert.same({ 0x80, 0x00451041, 9 }, dp_read(b, 0x24))   -- TPARTNO 0x451, TDESIGNER ST
      assert.same({ 0x80, 1, 9 }, dp_read(b, 0x34))
      local f4 <close> = open("v3:J2", "stm32f429zi")
      enter_swd(f4)
      assert.same({ 0x80, 0, 9 }, dp_read(f4, 0x24))
    end)
  end)

  describe("APSEL and CSW bytes of memory commands", function()
    local function csw(b) return select(2, string.unpack("<I2xxI4", xfer(b, cmd("<BBI2I2", 0xF2, 0x45, 0, 0), 8))) end
    local function read_with(b, apsel, csw_hi)
      return xfer(b, cmd("<BBI4I2BI3", 0xF2, 0x07, SRAM, 4, apsel, csw_hi), 4)
    end

    it("ignores them below V2 J32", function()
      local b <close> = open("v2:J31")
      enter_swd(b)
      xfer(b, cmd("BBB", 0xF2, 0x4B, 0), 2)
      local before = csw(b)
      read_with(b, 1, 0xA20000)
      assert.same(0x80, (rwstatus2(b)))
      assert.equal(before, csw(b))
    end)

    it("refuses APSEL 1 and programs CSW[31:8] from V2 J32", function()
      local b <close> = open("v2:J32")
      enter_swd(b)
      xfer(b, cmd("BBB", 0xF2, 0x4B, 0), 2)
      read_with(b, 1, 0)
      assert.same(0x1D, (rwstatus2(b)))
      read_with(b, 0, 0xA20000)
      assert.same(0x80, (rwstatus2(b)))
      assert.equal(0xA2000000, csw(b) & 0xFFFFFF00 & ~0x40)
    end)
  end)

  describe("GET_BOARD_IDENTIFIERS (56)", function()
    for _, row in ipairs { { "v2:J35", false }, { "v2:J36", true }, { "v3:J5", false }, { "v3:J6", true } } do
      it((row[2] and "answers" or "does not know") .. " it on " .. row[1], function()
        local b <close> = open(row[1])
        enter_swd(b)
        local r = xfer(b, cmd("BB", 0xF2, 0x56), 128)
        if row[2] then
          assert.same({ 128, 0x80 }, { #r, r:byte(1) })
        else
          assert.same("\x42\0", r)
        end
      end)
    end
  end)

  describe("8-bit transfers on V3", function()
    for _, row in ipairs { { "v3:J5", 64 }, { "v3:J6", 512 } } do
      it(string.format("stop at %d bytes on %s (OOCD 324a45e02)", row[2], row[1]), function()
        local b <close> = open(row[1])
        local usb = enter_swd(b)
        assert.equal(row[2], #xfer(b, cmd("<BBI4I2", 0xF2, 0x0C, SRAM, row[2]), 1024))
        assert.same(0x80, (rwstatus2(b)))
        assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x0C, SRAM, row[2] + 1)))
        assert.same({ nil, "timeout", -7 }, { b:in_(usb.ep_in, 1024) })
        assert.same(0x08, (rwstatus2(b)))
      end)
    end
  end)
end)
