-- OTP areas of the target model: layout per family (facts §6.1), lock
-- bytes and WRPERR (§6.2, PM0059 §2.6), persistence in the image, power
-- loss in the middle of a program.
local testfiles = require("testfiles")
local slurp = testfiles.slurp
local vm = require "vprobe_model"

local KEYR, SR, CR = 0x40023C04, 0x40023C0C, 0x40023C10
local PG, PSIZE8, PSIZE32 = 0x1, 0, 2 << 8
local EOP, WRPERR = 0x1, 0x10

local paths = {}
local function tmp()
  local p = os.tmpname()
  os.remove(p)
  paths[#paths + 1] = p
  return p
end

local function open(path, part, voltage)
  return assert(vm.open{ image = path, part = part, voltage = voltage })
end

local function unlock(m)
  assert(m:write(KEYR, 4, 0x45670123))
  assert(m:write(KEYR, 4, 0xCDEF89AB))
end

local function program(m, addr, size, value)
  assert(m:write(CR, 4, PG | (size == 4 and PSIZE32 or size == 2 and 1 << 8 or PSIZE8)))
  local ok, why = m:write(addr, size, value)
  m:advance(1000)
  return ok, why
end


teardown(function()
  for _, p in ipairs(paths) do os.remove(p) end
end)

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
