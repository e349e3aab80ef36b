-- OTP areas of the target model: layout per family (CMSIS FLASH_OTP_BASE), lock
-- bytes and WRPERR (RM0090 §3.8, PM0059 §2.6), persistence in the image, power
-- loss in the middle of a program.
local testfiles = require("testfiles")
local slurp = testfiles.slurp
local vm = require "vprobe_model"

local KEYR, SR, CR = 0x40023C04, 0x40023C0C, 0x40023C10
local PG, PSIZE8, PSIZE32 = 0x1, 0, 2 << 8
local EOP, WRPERR = 0x1, 0x10

local tmp, remove_tmps = testfiles.tmpnames()

local function open(path, part, voltage)
  return assert(vm.open{ image = path, part = part, voltage = voltage })
end

local model_flash = require("model_flash")
local unlock, program = model_flash.unlock, model_flash.program


teardown(remove_tmps)

local layouts = {
  { part = "stm32f205rg", base = 0x1FFF7800, block = 32, lock = 0x1FFF7A00 },
  { part = "stm32f407vg", base = 0x1FFF7800, block = 32, lock = 0x1FFF7A00 },
  { part = "stm32f429zi", base = 0x1FFF7800, block = 32, lock = 0x1FFF7A00 },
  { part = "stm32f722ze", base = 0x1FF07800, block = 32, lock = 0x1FF07A00 },
  { part = "stm32f746zg", base = 0x1FF0F000, block = 64, lock = 0x1FF0F400 },
  { part = "stm32f767zi", base = 0x1FF0F000, block = 64, lock = 0x1FF0F400 },
}

describe("vprobe.otp", function()
  for _, l in ipairs(layouts) do
    it(string.format("puts the %s OTP at 0x%08X in 16 blocks of %d bytes, locks at 0x%08X",
                     l.part, l.base, l.block, l.lock), function()
      local m = open(tmp(), l.part)
      local p = vm.part(l.part)
      assert.same({ l.base, l.block, l.lock }, { p.otp_base, p.otp_block_size, p.otp_lock_base })
      assert.equal(0xFFFFFFFF, m:read(l.base, 4))
      assert.equal(0xFFFFFFFF, m:read(l.base + 16 * l.block - 4, 4))
      assert.equal(0xFFFFFFFF, m:read(l.lock + 12, 4))
      unlock(m)
      program(m, l.base + 15 * l.block, 4, 0x11223344)
      assert.equal(0x11223344, m:read(l.base + 15 * l.block, 4))
    end)
  end

  it("has its F722 OTP at 0x1FF07800 and nothing at 0x1FF0F000 (fault)", function()
    local m = open(tmp(), "stm32f722ze")
    assert.equal(0xFFFFFFFF, m:read(0x1FF07800, 4))
    assert.same({ nil, "fault" }, { m:read(0x1FF0F000, 4) })
    assert.same({ nil, "fault" }, { m:read(0x1FF0F400, 1) })
  end)

  it("has nothing at the F2/F4 OTP address on an F767 (fault)", function()
    local m = open(tmp(), "stm32f767zi")
    assert.same({ nil, "fault" }, { m:read(0x1FFF7800, 4) })
  end)

  it("sets WRPERR and changes nothing when writing a locked OTP block", function()
    local m = open(tmp(), "stm32f407vg")
    unlock(m)
    program(m, 0x1FFF7800 + 3 * 32, 4, 0xFFFF0000)
    program(m, 0x1FFF7A03, 1, 0x00)                 -- lock block 3
    assert(m:write(SR, 4, 0xF3))
    program(m, 0x1FFF7800 + 3 * 32, 4, 0)
    assert.equal(WRPERR, m:read(SR, 4))
    assert.equal(0xFFFF0000, m:read(0x1FFF7800 + 3 * 32, 4))
    assert.equal(0xFFFFFFFF, m:read(0x1FFF7800 + 3 * 32 + 28, 4))
  end)

  it("locks only the block of the lock byte written", function()
    local m = open(tmp(), "stm32f407vg")
    unlock(m)
    program(m, 0x1FFF7A05, 1, 0x00)
    assert.equal(0xFFFF00FF, m:read(0x1FFF7A04, 4))
    for _, blk in ipairs{ 4, 6 } do
      assert(m:write(SR, 4, 0xF3))
      program(m, 0x1FFF7800 + blk * 32, 4, 0x12345678)
      assert.equal(EOP, m:read(SR, 4))
      assert.equal(0x12345678, m:read(0x1FFF7800 + blk * 32, 4))
    end
  end)

  it("programs lock bytes with AND too: a word write with 0xFF neighbours leaves them", function()
    local m = open(tmp(), "stm32f767zi")
    unlock(m)
    program(m, 0x1FF0F400, 4, 0xFFFFFF00)
    assert.equal(0xFFFFFF00, m:read(0x1FF0F400, 4))
    program(m, 0x1FF0F400, 4, 0x12345678)           -- the CubeProgrammer mishap
    assert.equal(0x12345600, m:read(0x1FF0F400, 4))
  end)

  it("cannot be erased: a mass erase leaves OTP and locks as they were", function()
    local m = open(tmp(), "stm32f407vg")
    unlock(m)
    program(m, 0x1FFF7800, 4, 0)
    assert(m:write(CR, 4, 0x4 | PSIZE32))
    assert(m:write(CR, 4, 0x4 | PSIZE32 | 1 << 16))
    m:advance(100000000)
    assert.equal(0, m:read(0x1FFF7800, 4))
  end)

  it("keeps programmed OTP and lock bytes in the image across close and reopen", function()
    local p = tmp()
    local m = open(p, "stm32f429zi")
    unlock(m)
    program(m, 0x1FFF7820, 4, 0xA5A5A5A5)
    program(m, 0x1FFF7A01, 1, 0)
    assert.is_true(m:dirty())
    m:close()
    local text = slurp(p)
    assert.truthy(text:find("otp 0020: a5a5a5a5ff", 1, true))
    assert.truthy(text:find("lock ff00ffffffffffffffffffffffffffff", 1, true))
    local m2 = open(p)
    assert.equal(0xA5A5A5A5, m2:read(0x1FFF7820, 4))
    assert.equal(0xFFFF00FF, m2:read(0x1FFF7A00, 4))
  end)

  it("on power loss during the Nth program, clears only half the bits and stops the target", function()
    local p = tmp()
    local m = open(p, "stm32f407vg")
    unlock(m)
    m:powerloss(m:program_count() + 2)
    program(m, 0x1FFF7800, 4, 0xFFFF0000)            -- 1st: complete
    assert.same({ nil, "nopower" }, { program(m, 0x1FFF7804, 4, 0x00000000) })
    assert.is_false(m:powered())
    assert.equal(0, m:voltage())
    assert.same({ nil, "nopower" }, { m:read(0x1FFF7800, 4) })
    assert.same({ nil, "nopower" }, { m:read(0x20000000, 4) })
    m:reset()
    assert.same({ nil, "nopower" }, { m:read(0xE0042000, 4) })
    m:close()
    local m2 = open(p)
    assert.equal(0xFFFF0000, m2:read(0x1FFF7800, 4))
    assert.equal(0xFFFF0000, m2:read(0x1FFF7804, 4))  -- lower 16 of 32 bits cleared
  end)

  it("reads OTP at RDP level 1 but faults main flash (RM0090 §3.7.3)", function()
    local p = tmp()
    open(p, "stm32f407vg"):close()
    local text = slurp(p):gsub("rdp aa", "rdp bb")
    local f = assert(io.open(p, "w"))
    f:write(text)
    f:close()
    local m = open(p)
    assert.equal(0xFFFFFFFF, m:read(0x1FFF7800, 4))
    assert.same({ nil, "fault" }, { m:read(0x08000000, 4) })
  end)
end)

-- VPROBE_QUIRKS busy_write (RM0090 §3.5.4; OOCD and STL poll BSY per unit,
-- UNCONFIRMED): a program write that arrives while the previous unit is still
-- BSY.
describe("vprobe.otp quirk busy_write", function()
  local PGSERR, BSY = 0x80, 0x10000

  -- the target model alone: the second write comes with no time between
  local model_rows = {
    { "stall", { nil, "stall" }, 0x55667788, EOP },   -- retried once BSY clears
    { "drop", { true }, 0xFFFFFFFF, EOP },
    { "pgserr", { true }, 0xFFFFFFFF, EOP | PGSERR },
  }
  for _, row in ipairs(model_rows) do
    local value, second, word2, sr = table.unpack(row)
    it(string.format("%s: a word written while BSY answers %s, then OTP word 2 is %08X and SR %X",
                     value, second[2] or "ok", word2, sr), function()
      local m = assert(vm.open{ image = tmp(), part = "stm32f407vg", quirks = "busy_write=" .. value })
      unlock(m)
      assert(m:write(CR, 4, PG | PSIZE32))
      assert(m:write(0x1FFF7800, 4, 0x11223344))
      assert.equal(BSY, m:read(SR, 4) & BSY)
      assert.same(second, { m:write(0x1FFF7804, 4, 0x55667788) })
      m:advance(1000)
      if value == "stall" then assert(m:write(0x1FFF7804, 4, 0x55667788)) end -- the SWD engine's retry
      m:advance(1000)
      assert.same({ 0x11223344, word2, sr }, { m:read(0x1FFF7800, 4), m:read(0x1FFF7804, 4), m:read(SR, 4) })
    end)
  end

  -- end to end: one WRITEMEM through the virtual ST-Link (OOCD stlink_usb.c)
  local vb = require "vprobe_board"
  local raw = require "stlink_raw"
  local cmd, xfer = raw.cmd, raw.xfer
  local function write(b, op, addr, data) xfer(b, cmd("<BBI4I2", 0xF2, op, addr, #data), nil, data) end
  local function read32(b, addr) return (string.unpack("<I4", xfer(b, cmd("<BBI4I2", 0xF2, 0x07, addr, 4), 4))) end
  local function rwstatus(b) return (string.unpack("<H", xfer(b, cmd("BB", 0xF2, 0x3E), 12))) end

  -- WRITEMEM_32BIT (08) of two words into OTP with PSIZE x32, and
  -- WRITEMEM_8BIT (0D) of two lock bytes with PSIZE x8; at the default
  -- 1.8 MHz SWD clock one AP write takes about 25 µs, so tprog=max
  -- (100 µs) makes the second unit meet BSY; with tprog=typ (16 µs) it
  -- arrives after BSY has cleared and every reading programs both.
  local rows = {
    { "busy_write=stall,tprog=max", 0x55667788, 0xFFFF0000, EOP },
    { "busy_write=drop,tprog=max", 0xFFFFFFFF, 0xFFFFFF00, EOP },
    { "busy_write=pgserr,tprog=max", 0xFFFFFFFF, 0xFFFFFF00, EOP | PGSERR },
    { "tprog=max", 0x55667788, 0xFFFF0000, EOP },                    -- stall is the default
    { "busy_write=drop", 0x55667788, 0xFFFF0000, EOP },
  }
  for _, row in ipairs(rows) do
    local quirks, word2, locks, sr = table.unpack(row)
    for _, unit in ipairs{ "word", "lock byte" } do
      it(string.format("%s: a two-%s WRITEMEM leaves %08X and SR %X", quirks, unit,
                       unit == "word" and word2 or locks, sr), function()
        local b <close> = assert(vb.open{ state = tmp(), target = "stm32f407vg", quirks = quirks })
        xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2)                     -- enter SWD
        write(b, 0x08, KEYR, string.pack("<I4", 0x45670123))
        write(b, 0x08, KEYR, string.pack("<I4", 0xCDEF89AB))
        write(b, 0x08, SR, string.pack("<I4", 0xF3))
        if unit == "word" then
          write(b, 0x08, CR, string.pack("<I4", PG | PSIZE32))
          write(b, 0x08, 0x1FFF7800, string.pack("<I4I4", 0x11223344, 0x55667788))
          assert.equal(0x80, rwstatus(b))                            -- the host is told nothing
          assert.same({ 0x11223344, word2 }, { read32(b, 0x1FFF7800), read32(b, 0x1FFF7804) })
        else
          write(b, 0x08, CR, string.pack("<I4", PG | PSIZE8))
          write(b, 0x0D, 0x1FFF7A00, "\0\0")
          assert.equal(0x80, rwstatus(b))
          assert.same({ locks, 0xFFFFFFFF }, { read32(b, 0x1FFF7A00), read32(b, 0x1FFF7A04) })
        end
        assert.equal(sr, read32(b, SR))
      end)
    end
  end
end)

-- VPROBE_QUIRKS rdp1_otp (UNCONFIRMED: no source says): OTP at RDP level 1.
describe("vprobe.otp quirk rdp1_otp", function()
  local function level1(quirks)
    local p = tmp()
    open(p, "stm32f407vg"):close()
    local text = slurp(p):gsub("rdp aa", "rdp bb")
    local f = assert(io.open(p, "w"))
    f:write(text)
    f:close()
    return assert(vm.open{ image = p, quirks = quirks })
  end

  for _, q in ipairs{ "", "rdp1_otp=readable" } do
    it("'" .. q .. "': reads and programs OTP and lock bytes at level 1; main flash faults", function()
      local m = level1(q)
      assert.same({ 0xFFFFFFFF, 0xFFFFFFFF }, { m:read(0x1FFF7800, 4), m:read(0x1FFF7A00, 4) })
      assert.same({ nil, "fault" }, { m:read(0x08000000, 4) })
      unlock(m)
      assert.same({ true }, { program(m, 0x1FFF7800, 4, 0x12345678) })
      assert.equal(0x12345678, m:read(0x1FFF7800, 4))
    end)
  end

  it("'rdp1_otp=fault': faults OTP data and lock reads and writes at level 1, not UID or flash size", function()
    local m = level1("rdp1_otp=fault")
    assert.same({ nil, "fault" }, { m:read(0x1FFF7800, 4) })
    assert.same({ nil, "fault" }, { m:read(0x1FFF79FC, 4) })
    assert.same({ nil, "fault" }, { m:read(0x1FFF7A00, 1) })
    assert.same({ nil, "fault" }, { m:read(0x08000000, 4) })
    assert.equal(1024, m:read(0x1FFF7A22, 2))
    assert.is_number(m:read(0x1FFF7A10, 4))
    unlock(m)
    assert.same({ nil, "fault" }, { program(m, 0x1FFF7800, 4, 0) })
    assert.same({ nil, "fault" }, { program(m, 0x1FFF7A00, 1, 0) })
    assert.is_false(m:dirty())
  end)

  it("'rdp1_otp=fault' changes nothing at level 0", function()
    local m = assert(vm.open{ image = tmp(), part = "stm32f407vg", quirks = "rdp1_otp=fault" })
    assert.equal(0xFFFFFFFF, m:read(0x1FFF7800, 4))
    unlock(m)
    program(m, 0x1FFF7800, 4, 0x12345678)
    assert.equal(0x12345678, m:read(0x1FFF7800, 4))
  end)
end)
