-- Fault injection (VPROBE_FAULT): unplug, target reset, power loss during a
-- flash program operation, WAIT answers, a refused open (access) and weak
-- OTP cells (stuck); bad specs refused at open.
local vb = require "vprobe_board"
local raw = require "stlink_raw"
local cmd, xfer = raw.cmd, raw.xfer

local tmp, image_name = require("testfiles").scratch("f")

local function open(o)
  o.state = o.state or image_name()
  return vb.open(o)
end

local function enter_swd(b) -- 2 command packets on a V2-1 (MASS mode at power-on)
  assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2))
  assert.same(2, xfer(b, cmd("B", 0xF5), 2):byte(1))
end

local function status(b) return xfer(b, cmd("BB", 0xF2, 0x3E), 12):byte(1) end
local function read32(b, addr) return string.unpack("<I4", xfer(b, cmd("<BBI4I2", 0xF2, 0x07, addr, 4), 4)) end
local function write32(b, addr, v) xfer(b, cmd("<BBI4I2", 0xF2, 0x08, addr, 4), nil, string.pack("<I4", v)) end

local FLASH_KEYR, FLASH_SR, FLASH_CR = 0x40023C04, 0x40023C0C, 0x40023C10 -- CMSIS
local OTP = 0x1FFF7800 -- F2/F4 OTP data area (RM0090 §3.8, CMSIS FLASH_OTP_BASE)

-- unlock and set CR = PG | PSIZE (RM0090 §3.5.4, OOCD stm32x_write)
local function program_mode(b, psize)
  write32(b, FLASH_KEYR, 0x45670123)
  write32(b, FLASH_KEYR, 0xCDEF89AB)
  write32(b, FLASH_CR, 0x001 | psize << 8)
end

-- FLASH_SR once BSY has cleared (simulated time passes with every command)
local function settled_sr(b)
  for _ = 1, 100 do
    local sr = read32(b, FLASH_SR)
    if sr & 0x10000 == 0 then return sr end
  end
  error("FLASH_SR stays BSY")
end

local function program8(b, addr, v)
  xfer(b, cmd("<BBI4I2", 0xF2, 0x0D, addr, 1), nil, string.char(v))
  return settled_sr(b)
end

describe("vprobe.faults", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  it("unplugs the probe at the Nth command packet: every later transfer fails", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "unplug@3" })
    local usb = b:usb()
    assert.same(6, #xfer(b, cmd("B", 0xF1), 6))
    assert.same(6, #xfer(b, cmd("B", 0xF1), 6))
    assert.same({ nil, "no_device", -4 }, { b:out(usb.ep_out, cmd("B", 0xF1)) })
    assert.same({ nil, "no_device", -4 }, { b:in_(usb.ep_in, 6) })
    assert.same({ nil, "no_device", -4 }, { b:out(usb.ep_out, cmd("B", 0xF5)) })
    assert.same({ nil, "no_device", -4 }, { b:reset() })
    assert.same(2, b:stats().transactions)
  end)

  it("resets the target when the Nth command packet arrives", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "reset@7" })
    enter_swd(b)                                     -- packets 1, 2
    write32(b, FLASH_KEYR, 0x45670123)               -- 3
    write32(b, FLASH_KEYR, 0xCDEF89AB)               -- 4
    assert.same(0, read32(b, FLASH_CR) >> 31)        -- 5: unlocked
    assert.same(0x80, status(b))                     -- 6
    assert.same(1, read32(b, FLASH_CR) >> 31)        -- 7: reset relocked CR
  end)

  it("cuts power during the Nth flash program operation, keeping the half-burned byte", function()
    local img = tmp .. "/powerloss.img"
    local b = assert(open{ state = img, probe = "v2-1", fault = "powerloss@1" })
    enter_swd(b)
    write32(b, FLASH_KEYR, 0x45670123)
    write32(b, FLASH_KEYR, 0xCDEF89AB)
    write32(b, FLASH_CR, 0x001)                      -- PG, PSIZE x8
    xfer(b, cmd("<BBI4I2", 0xF2, 0x0D, 0x1FFF7800, 1), nil, "\0")
    assert.same(0x16, status(b))                     -- the DP no longer answers
    local a0, a1 = string.unpack("<I4I4", xfer(b, cmd("B", 0xF7), 8))
    assert.same({ true, 0 }, { a0 > 0, a1 })
    -- the image already holds the partly programmed byte (no close needed)
    local byte = tonumber(io.open(img):read("a"):match("otp 0000: (%x%x)"), 16)
    assert.is_true(byte ~= 0xFF and byte ~= 0x00, string.format("byte %02x", byte))
    b:close()
  end)

  it("answers WAIT to the next K memory accesses from the Nth command on", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "wait@3:2" })
    enter_swd(b)
    local seen = {}
    for i = 1, 3 do
      read32(b, 0x20000000)
      seen[i] = status(b)
    end
    assert.same({ 0x10, 0x10, 0x80 }, seen)
  end)

  -- N counts command packets exactly as VPROBE_STATS counts transactions
  -- (faults.h): packet 1 enters SWD, packets 2..6 are READDEBUGREG of
  -- DBGMCU_IDCODE (CMSIS, OOCD stm32f2x.c), each one target read whose status
  -- comes back in its own reply, so only the command packets themselves are
  -- sent.
  local IDCODE = 0xE0042000
  local function readdebug(b) return xfer(b, cmd("<BBI4", 0xF2, 0x36, IDCODE), 8):byte(1) end

  for n = 2, 6 do
    it("answers WAIT to exactly the " .. n .. "th command packet with wait@" .. n .. ":1", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "wait@" .. n .. ":1" })
      assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2))  -- packet 1
      local seen, want = {}, {}
      for i = 2, 6 do
        seen[i - 1] = readdebug(b)
        want[i - 1] = i == n and 0x10 or 0x80
      end
      assert.same(want, seen)
      assert.same(6, b:stats().transactions)
    end)
  end

  it("counts neither write data phases nor over-long packets as command packets", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "wait@4:1" })
    local usb = b:usb()
    assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2))  -- 1
    write32(b, 0x20000000, 0x12345678)                               -- 2, + its data phase
    assert.same({ nil, "pipe", -9 }, { b:out(usb.ep_out, string.rep("\0", 17)) })
    assert.same(0x80, readdebug(b))                                  -- 3
    assert.same(0x10, readdebug(b))                                  -- 4
    assert.same(0x80, readdebug(b))                                  -- 5
    assert.same(5, b:stats().transactions)
  end)

  it("starts a WAIT run in the data phase of the Nth command when it is a write", function()
    local c <close> = assert(open{ probe = "v2-1", fault = "wait@2:1" })
    assert.same("\x80\0", xfer(c, cmd("BBB", 0xF2, 0x30, 0xA3), 2))  -- 1
    write32(c, 0x20000000, 0x12345678)                               -- 2: WAIT
    assert.same(0x10, status(c))                                     -- 3
    write32(c, 0x20000000, 0x12345678)                               -- 4
    assert.same(0x80, status(c))                                     -- 5
  end)

  it("injects nothing when the Nth command makes no target access", function()
    -- packet 2 is GET_VERSION: the run armed there is not carried over to
    -- the memory read of packet 3
    local b <close> = assert(open{ probe = "v2-1", fault = "wait@2:1" })
    assert.same("\x80\0", xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2))  -- 1
    assert.same(6, #xfer(b, cmd("B", 0xF1), 6))                      -- 2
    assert.same(0x80, readdebug(b))                                  -- 3
    assert.same(0x80, readdebug(b))                                  -- 4
  end)

  it("resets the target at the Nth command packet, over-long packets not counted", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "reset@5" })
    enter_swd(b)                                                     -- 1, 2
    write32(b, FLASH_KEYR, 0x45670123)                               -- 3
    write32(b, FLASH_KEYR, 0xCDEF89AB)                               -- 4
    assert.same({ nil, "pipe", -9 }, { b:out(b:usb().ep_out, string.rep("\0", 17)) })
    assert.same(1, read32(b, FLASH_CR) >> 31)                        -- 5: reset relocked CR
    assert.same(5, b:stats().transactions)
  end)

  it("cuts power at the smallest N when several powerloss faults are listed", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "powerloss@1,powerloss@3" })
    enter_swd(b)
    write32(b, FLASH_KEYR, 0x45670123)
    write32(b, FLASH_KEYR, 0xCDEF89AB)
    write32(b, FLASH_CR, 0x001)                                      -- PG, PSIZE x8
    xfer(b, cmd("<BBI4I2", 0xF2, 0x0D, 0x1FFF7800, 1), nil, "\0")    -- program op 1
    assert.same(0x16, status(b))                                     -- the DP no longer answers
  end)

  it("combines several faults in one list", function()
    local b <close> = assert(open{ probe = "v2-1", fault = "wait@3:1,unplug@6" })
    enter_swd(b)
    read32(b, 0x20000000)
    assert.same(0x10, status(b))
    xfer(b, cmd("B", 0xF1), 6)
    assert.same({ nil, "no_device", -4 }, { b:out(b:usb().ep_out, cmd("B", 0xF1)) })
  end)

  describe("access", function()
    it("refuses libusb_open with LIBUSB_ERROR_ACCESS and nothing else", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "access" })
      assert.same({ nil, "access", -3 }, { b:usb_open() })
      assert.same(6, #xfer(b, cmd("B", 0xF1), 6)) -- the model behind it still works
    end)

    it("opens normally without the fault, and once unplugged reports NO_DEVICE", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "unplug@1" })
      assert.is_true(b:usb_open())
      assert.same({ nil, "no_device", -4 }, { b:out(b:usb().ep_out, cmd("B", 0xF1)) })
      assert.same({ nil, "no_device", -4 }, { b:usb_open() })
    end)
  end)

  describe("stuck", function()
    it("leaves the MASK bits of OTP byte OFFSET at 1 while the controller reports success", function()
      local img = tmp .. "/stuck.img"
      local b = assert(open{ state = img, probe = "v2-1", fault = "stuck@16:0x01" })
      enter_swd(b)
      program_mode(b, 0)
      assert.same(0, program8(b, OTP + 16, 0x00) & 0x1F2) -- no error flag
      assert.same(0, program8(b, OTP + 17, 0x00) & 0x1F2)
      assert.same(0x80, status(b))
      assert.same(0xFFFF0001, read32(b, OTP + 16))        -- byte 17 programmed, 16 kept bit 0
      b:close()
      assert.same("0100ffff", io.open(img):read("a"):match("otp 0000: " .. ("%x"):rep(32) .. "(%x%x%x%x%x%x%x%x)"))
    end)

    it("programs the other bits of the byte and of a word written across it (hex offset)", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "stuck@0x21:0xF0" })
      enter_swd(b)
      program_mode(b, 2)                                  -- PSIZE x32
      write32(b, OTP + 0x20, 0x00000000)
      assert.same(0, settled_sr(b) & 0x1F2)
      assert.same(0x0000F000, read32(b, OTP + 0x20))
    end)

    it("reads a decimal OFFSET with a leading zero as decimal, not octal", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "stuck@010:0x80" })
      enter_swd(b)
      program_mode(b, 0)
      program8(b, OTP + 8, 0x00)
      program8(b, OTP + 10, 0x00)
      assert.same(0xFF80FF00, read32(b, OTP + 8))         -- byte 10 kept bit 7, byte 8 did not
    end)

    it("cannot bring back a bit that was already programmed", function()
      local img = tmp .. "/stuck-old.img"
      local a = assert(open{ state = img, probe = "v2-1" })
      enter_swd(a)
      program_mode(a, 0)
      program8(a, OTP + 4, 0xFE)
      a:close()
      local b <close> = assert(open{ state = img, probe = "v2-1", fault = "stuck@4:0x03" })
      enter_swd(b)
      program_mode(b, 0)
      program8(b, OTP + 4, 0x00)
      assert.same(0xFFFFFF02, read32(b, OTP + 4))         -- bit 0 stays 0, bit 1 stays 1
    end)

    it("adds the masks of several items on one byte", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "stuck@3:0x01,stuck@3:0x40" })
      enter_swd(b)
      program_mode(b, 0)
      program8(b, OTP + 3, 0x00)
      assert.same(0x41FFFFFF, read32(b, OTP))
    end)

    -- { part, offset, accepted }: the OTP data area is 16 x 32 bytes on
    -- F2/F4, 16 x 64 on F76x/F77x (RM0090 §3.8, CMSIS FLASH_OTP_BASE)
    local ranges = {
      { "stm32f429zi", "0x1ff", true }, { "stm32f429zi", "512", false },
      { "stm32f767zi", "512", true }, { "stm32f767zi", "0x3ff", true }, { "stm32f767zi", "1024", false },
    }
    for _, r in ipairs(ranges) do
      it((r[3] and "accepts" or "refuses") .. " stuck@" .. r[2] .. ":1 on " .. r[1], function()
        local b, err = open{ target = r[1], fault = "stuck@" .. r[2] .. ":1" }
        if r[3] then
          assert.truthy(b, err)
          b:close()
        else
          assert.is_nil(b)
          assert.truthy(err:find("VPROBE_FAULT: stuck offset " .. string.format("0x%x", tonumber(r[2])) ..
                                 " is beyond the OTP data area of " .. r[1], 1, true), err)
        end
      end)
    end
  end)

  describe("reply faults", function()
    local UID = 0x1FFF7A10 -- F4 UID_BASE (CMSIS, OOCD stm32f2x.c)
    local function uid(b) return xfer(b, cmd("<BBI4I2", 0xF2, 0x07, UID, 12), 12) end

    it("XORs byte OFFSET of the Nth command's reply with corrupt@N:OFFSET:XOR, once", function()
      local img = image_name()
      local clean
      do
        local b <close> = assert(open{ state = img, probe = "v2-1" })
        enter_swd(b)
        clean = uid(b)
      end
      local b <close> = assert(open{ state = img, probe = "v2-1", fault = "corrupt@3:5:0x81,corrupt@3:5:1" })
      enter_swd(b)                                   -- packets 1, 2
      local bad = uid(b)                             -- 3
      assert.same(clean:sub(1, 5) .. string.char(clean:byte(6) ~ 0x80) .. clean:sub(7), bad)
      assert.same(clean, uid(b))                     -- 4: only the Nth reply
    end)

    it("cuts the Nth command's reply to M bytes with shortin@N:M; the rest is lost", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "shortin@3:8" })
      local usb = b:usb()
      enter_swd(b)
      assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x07, UID, 12)))
      assert.same(8, #b:in_(usb.ep_in, 12))
      assert.same({ nil, "timeout", -7 }, { b:in_(usb.ep_in, 12) })
      assert.same(12, #uid(b))                       -- 4: whole again
    end)

    it("leaves a reply shorter than OFFSET + 1 or M alone", function()
      local b <close> = assert(open{ probe = "v2-1", fault = "corrupt@3:12:0xFF,shortin@3:12" })
      enter_swd(b)
      local first = uid(b)
      assert.same(first, uid(b))
    end)
  end)

  -- one row per bad spec: open must refuse it, naming VPROBE_FAULT
  local bad = { "unplug", "unplug@", "unplug@0", "unplug@x", "unplug@3x", "wait@3",
                "wait@3:0", "wait@3:", "reset@1:2", "bogus@1", "unplug@1,,reset@2", "@1",
                "access@1", "accessx", "Access", "access:1", "stuck", "stuck@16", "stuck@16:",
                "stuck@16:0", "stuck@16:0x100", "stuck@16:256", "stuck@x:1", "stuck@0x:1",
                "stuck@-1:1", "stuck@+1:1", "stuck@16:0x1g", "stuck@16:1:2", "stuck@ 16:1",
                "stuck@0x100000000:1", "corrupt@1", "corrupt@1:2", "corrupt@0:1:1", "corrupt@1:2:0",
                "corrupt@1:2:0x100", "corrupt@1:x:1", "corrupt@1:2:3:4", "shortin@1", "shortin@0:4",
                "shortin@1:", "shortin@1:2:3", "shortin@1:0x10000" }
  for _, spec in ipairs(bad) do
    it("refuses the bad spec '" .. spec .. "' at open", function()
      local b, err = open{ fault = spec }
      assert.is_nil(b)
      assert.truthy(err:find("VPROBE_FAULT: bad item '", 1, true), err)
    end)
  end

  -- bad values of the other variables are refused too
  local other = {
    { { probe = "v4" }, "unknown VPROBE_PROBE" },
    { { probe = "v2:X28" }, "bad firmware version" },
    { { probe = "v2:J9" }, "below J11" },
    { { probe = "v2-1@3748" }, "is not a v2-1 identity" },
    { { probe = "v2-1:J25M7" }, "STM8" },
    { { target = "stm32f999" }, "stm32f999" },
  }
  for _, row in ipairs(other) do
    it("refuses " .. next(row[1]) .. " = '" .. select(2, next(row[1])) .. "' at open", function()
      local b, err = open(row[1])
      assert.is_nil(b)
      assert.truthy(err:find(row[2], 1, true), err)
    end)
  end
end)
