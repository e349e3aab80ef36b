-- The target model's memory map, identity registers and core debug
-- (src/vprobe/mcu.c, parts.c, core_debug.c, ppb.c, periph.c).
local vm = require "vprobe_model"

local DHCSR, DCRSR, DCRDR, DEMCR, AIRCR = 0xE000EDF0, 0xE000EDF4, 0xE000EDF8, 0xE000EDFC, 0xE000ED0C
local KEY = 0xA05F0000
local C_DEBUGEN, C_HALT = 0x1, 0x2
local S_REGRDY, S_HALT, S_RETIRE_ST, S_RESET_ST = 1 << 16, 1 << 17, 1 << 24, 1 << 25

local testfiles = require("testfiles")
local tmp, remove_tmps = testfiles.tmpnames()
local function open(part, voltage)
  return assert(vm.open{ image = tmp(), part = part or "stm32f407vg", voltage = voltage })
end

teardown(remove_tmps)

-- CMSIS, OOCD stm32f2x.c: DEV_ID/REV_ID, CPUID, flash size; SRAM as parts.c has
-- it.
local ids = {
  { "stm32f205rg", 0x20000411, 0x412FC230, 1024, 128, 0x1FFF7A22 },
  { "stm32f207zg", 0x20030411, 0x412FC230, 1024, 128, 0x1FFF7A22 },
  { "stm32f401re", 0x10000433, 0x410FC241, 512, 96, 0x1FFF7A22 },   -- REV_ID: STL #710 log
  { "stm32f405rg", 0x10070413, 0x410FC241, 1024, 128, 0x1FFF7A22 },
  { "stm32f407vg", 0x10070413, 0x410FC241, 1024, 128, 0x1FFF7A22 },
  { "stm32f411re", 0x10000431, 0x410FC241, 512, 128, 0x1FFF7A22 },
  { "stm32f429zi", 0x20010419, 0x410FC241, 2048, 192, 0x1FFF7A22 },
  { "stm32f439zi", 0x10030419, 0x410FC241, 2048, 192, 0x1FFF7A22 },
  { "stm32f446re", 0x10000421, 0x410FC241, 512, 128, 0x1FFF7A22 },
  { "stm32f722ze", 0x10000452, 0x411FC270, 512, 256, 0x1FF07A22 },
  { "stm32f746zg", 0x10010449, 0x410FC271, 1024, 320, 0x1FF0F442 },
  { "stm32f767zi", 0x10010451, 0x411FC270, 2048, 512, 0x1FF0F442 },
  -- not an F2/F4/F7 (parts.c: OOCD stm32l4x.c rev 4, STL chip table, RM0351)
  { "stm32l476rg", 0x10070415, 0x410FC241, 1024, 96, 0x1FFF75E0 },
}

describe("vprobe.mcu", function()
  for _, row in ipairs(ids) do
    local name, idcode, cpuid, flash, sram, fsreg = table.unpack(row)
    it(string.format("identifies %s: IDCODE %08X, CPUID %08X, %d KiB flash, %d KiB SRAM",
                     name, idcode, cpuid, flash, sram), function()
      local m = open(name)
      assert.equal(idcode, m:read(0xE0042000, 4))
      assert.equal(cpuid, m:read(0xE000ED00, 4))
      assert.equal(flash, m:read(fsreg, 2))
      -- STL reads the aligned word and takes the half it needs (CMSIS, OOCD
      -- stm32f2x.c)
      assert.equal(flash, m:read(fsreg & ~3, 4) >> (8 * (fsreg & 3)) & 0xFFFF)
      local top = 0x20000000 + sram * 1024
      assert(m:write(top - 4, 4, 0x5A5AA5A5))
      assert.equal(0x5A5AA5A5, m:read(top - 4, 4))
      assert.same({ nil, "fault" }, { m:read(top, 4) })
    end)
  end

  it("lists exactly the parts of its table in vp_part_names", function()
    local names, i = {}, 1
    while vm.part_at(i) do
      names[#names + 1] = vm.part_at(i)
      assert.equal(vm.part_at(i), vm.part(vm.part_at(i)).name)
      i = i + 1
    end
    assert.equal(table.concat(names, ", "), vm.part_names())
    assert.is_nil(vm.part("stm32f999zz"))
  end)

  it("reads and writes SRAM at every width, little-endian", function()
    local m = open()
    assert(m:write(0x20000100, 4, 0x11223344))
    assert.equal(0x44, m:read(0x20000100, 1))
    assert.equal(0x1122, m:read(0x20000102, 2))
    assert(m:write(0x20000101, 1, 0xAB))
    assert(m:write(0x20000102, 2, 0xCDEF))
    assert.equal(0xCDEFAB44, m:read(0x20000100, 4))
  end)

  for _, row in ipairs{ { 0x30000000, 4, "unmapped" }, { 0x20000002, 4, "unaligned word" },
                        { 0x20000001, 2, "unaligned half-word" }, { 0x1FFF7801, 4, "unaligned OTP read" },
                        { 0x40000000, 4, "absent peripheral" }, { 0xE0100000, 4, "past the ROM table" } } do
    it(string.format("faults a %s access at 0x%08X", row[3], row[1]), function()
      local m = open()
      assert.same({ nil, "fault" }, { m:read(row[1], row[2]) })
      if row[1] ~= 0x1FFF7801 then -- flash writes are judged by the flash interface
        assert.same({ nil, "fault" }, { m:write(row[1], row[2], 0) })
      end
    end)
  end

  it("reads main flash erased as 0xFF, also through the boot alias at 0", function()
    local m = open()
    assert.equal(0xFFFFFFFF, m:read(0x08000000, 4))
    assert.equal(0xFFFFFFFF, m:read(0x00000000, 4))
    assert.same({ nil, "fault" }, { m:read(0x08100000, 4) })  -- past 1 MiB
  end)

  it("reads system memory as fixed bytes that writes do not change", function()
    local m = open()
    local v = m:read(0x1FFF0000, 4)
    assert.equal(0x20001000, v)
    assert(m:write(0x1FFF0000, 4, 0))
    assert.equal(v, m:read(0x1FFF0000, 4))
  end)

  it("echoes the C_* bits in DHCSR and reports S_HALT when halted", function()
    local m = open()
    m:read(DHCSR, 4)
    assert(m:write(DHCSR, 4, KEY | C_DEBUGEN | C_HALT))
    local v = m:read(DHCSR, 4)
    assert.equal(C_DEBUGEN | C_HALT | S_HALT, v & (0xF | S_HALT | S_RESET_ST))
    assert.is_true(m:halted())
    assert(m:write(DHCSR, 4, KEY | C_DEBUGEN))
    assert.equal(C_DEBUGEN | S_RETIRE_ST, m:read(DHCSR, 4) & (0xF | S_HALT | S_RETIRE_ST))
    assert.is_false(m:halted())
  end)

  it("ignores DHCSR writes without the 0xA05F key", function()
    local m = open()
    assert(m:write(DHCSR, 4, C_DEBUGEN | C_HALT))
    assert.is_false(m:halted())
  end)

  it("sets S_RESET_ST after a reset and clears it when DHCSR is read", function()
    local m = open()
    m:read(DHCSR, 4)
    assert.equal(0, m:read(DHCSR, 4) & S_RESET_ST)
    m:reset()
    assert.equal(S_RESET_ST, m:read(DHCSR, 4) & S_RESET_ST)
    assert.equal(0, m:read(DHCSR, 4) & S_RESET_ST)
  end)

  it("moves core registers through DCRSR/DCRDR and sets S_REGRDY", function()
    local m = open()
    assert(m:write(DHCSR, 4, KEY | C_DEBUGEN | C_HALT))
    assert(m:write(DCRDR, 4, 0xCAFEF00D))
    assert(m:write(DCRSR, 4, 0x10000 | 3))           -- write r3
    assert.equal(S_REGRDY, m:read(DHCSR, 4) & S_REGRDY)
    assert(m:write(DCRDR, 4, 0))
    assert(m:write(DCRSR, 4, 3))                     -- read r3
    assert.equal(0xCAFEF00D, m:read(DCRDR, 4))
    assert.equal(0xCAFEF00D, m:core_reg(3))
  end)

  for _, row in ipairs{ { "stm32f407vg", true }, { "stm32f767zi", true }, { "stm32f205rg", false } } do
    it("has FPU registers S0-S31/FPSCR on " .. row[1] .. ": " .. tostring(row[2]), function()
      local m = open(row[1])
      assert(m:write(DHCSR, 4, KEY | C_DEBUGEN | C_HALT))
      assert.equal(row[2], m:set_core_reg(0x45, 0x3F800000) == true)
      assert.equal(row[2], m:core_reg(0x21) ~= nil)
      assert.equal(row[2] and 0x10110021 or 0, m:read(0xE000EF40, 4) & 0xFFFFF0FF)
    end)
  end

  it("gives no core registers while running", function()
    local m = open()
    assert.same({ nil, "unavailable" }, { m:core_reg(15) })
  end)

  it("resets on AIRCR SYSRESETREQ with VECTKEY: flash CR locked again, halt on VC_CORERESET", function()
    local m = open()
    assert(m:write(0x40023C04, 4, 0x45670123))
    assert(m:write(0x40023C04, 4, 0xCDEF89AB))
    assert.equal(0, m:read(0x40023C10, 4))
    assert(m:write(DHCSR, 4, KEY | C_DEBUGEN))
    assert(m:write(DEMCR, 4, 1))                     -- VC_CORERESET
    assert(m:write(AIRCR, 4, 0x05FA0004))
    assert.equal(0x80000000, m:read(0x40023C10, 4))
    assert.is_true(m:halted())
    local v = m:read(DHCSR, 4)
    assert.equal(C_HALT | S_HALT | S_RESET_ST, v & (C_HALT | S_HALT | S_RESET_ST))
    assert.equal(0xFFFFFFFE, m:core_reg(15))          -- reset vector of erased flash
  end)

  it("ignores AIRCR writes without VECTKEY", function()
    local m = open()
    assert(m:write(0x40023C04, 4, 0x45670123))
    assert(m:write(0x40023C04, 4, 0xCDEF89AB))
    assert(m:write(AIRCR, 4, 0x00000004))
    assert.equal(0, m:read(0x40023C10, 4))
    assert.equal(0xFA050000, m:read(AIRCR, 4))
  end)

  it("keeps SRAM and DBGMCU_CR across a system reset", function()
    local m = open()
    assert(m:write(0x20000000, 4, 0x12345678))
    assert(m:write(0xE0042004, 4, 0x7))
    m:reset()
    assert.equal(0x12345678, m:read(0x20000000, 4))
    assert.equal(0x7, m:read(0xE0042004, 4))
  end)

  for _, row in ipairs{ { "stm32f407vg", 0x260 }, { "stm32f767zi", 0x10000080 } } do
    it("reports FP_CTRL " .. string.format("%08X", row[2]) .. " and DWT NUMCOMP 4 on " .. row[1], function()
      local m = open(row[1])
      assert.equal(row[2], m:read(0xE0002000, 4))
      assert.equal(4, m:read(0xE0001000, 4) >> 28)
      assert(m:write(0xE0002000, 4, 3))               -- KEY | ENABLE
      assert.equal(row[2] | 1, m:read(0xE0002000, 4))
      assert.equal(0xB1, m:read(0xE00FFFFC, 4))      -- ROM table CIDR3
    end)
  end

  it("starts RCC at its reset values and sets ready bits when clocks are switched on", function()
    local m = open()
    assert.equal(0x00000083, m:read(0x40023800, 4))
    assert.equal(0x24003010, m:read(0x40023804, 4))
    assert(m:write(0x40023800, 4, 0x01010081))        -- HSEON, PLLON
    assert.equal(0x03030083, m:read(0x40023800, 4))
    assert(m:write(0x40023808, 4, 0x2))               -- SW = PLL
    assert.equal(0xA, m:read(0x40023808, 4))
    m:reset()
    assert.equal(0x00000083, m:read(0x40023800, 4))
  end)

  it("is unpowered below 1.65 V: every access answers nopower", function()
    local m = open(nil, 1.5)
    assert.is_false(m:powered())
    assert.same({ nil, "nopower" }, { m:read(0xE0042000, 4) })
  end)

  -- identity and memory reads only: no flash interface is modelled (mcu.c)
  describe("on stm32l476rg", function()
    it("reads its UID at 0x1FFF7590, its 1 KiB OTP at 0x1FFF7000 and system memory", function()
      local m = open("stm32l476rg")
      local uid = m:read(0x1FFF7590, 4)
      assert.equal(uid, m:read(0x1FFF7590, 4))
      assert.is_true(uid ~= 0xFFFFFFFF)
      assert.equal(0xFFFFFFFF, m:read(0x1FFF7000, 4))
      assert.equal(0xFFFFFFFF, m:read(0x1FFF73FC, 4))
      assert.same({ nil, "fault" }, { m:read(0x1FFF7400, 4) })
      assert.equal(0x20001000, m:read(0x1FFF0000, 4))          -- bootloader initial SP
      assert.same({ nil, "fault" }, { m:read(0x1FFF7800, 4) })  -- F4 OTP address: nothing
      assert.same({ nil, "fault" }, { m:read(0x1FFF7A22, 2) })  -- F4 flash-size address
      assert.equal(0xFFFFFFFF, m:read(0x08000000, 4))
    end)

    local faults = {
      { "write main flash", function(m) return m:write(0x08000000, 4, 0) end },
      { "write OTP", function(m) return m:write(0x1FFF7000, 4, 0) end },
      { "write OTP bytewise", function(m) return m:write(0x1FFF7000, 1, 0) end },
      { "read the F4 flash interface", function(m) return m:read(0x40023C0C, 4) end },
      { "write the F4 KEYR", function(m) return m:write(0x40023C04, 4, 0x45670123) end },
      { "read the F4 RCC", function(m) return m:read(0x40023800, 4) end },
    }
    for _, row in ipairs(faults) do
      it("faults: " .. row[1], function()
        local m = open("stm32l476rg")
        assert.same({ nil, "fault" }, { row[2](m) })
        assert.equal(0xFFFFFFFF, m:read(0x1FFF7000, 4))
        assert.equal(0xFFFFFFFF, m:read(0x08000000, 4))
        assert.is_false(m:dirty())
      end)
    end

    it("answers a probe with its DPIDR and IDCODE, and keeps its board image across reopen", function()
      local vb = require "vprobe_board"
      local p = tmp()
      local cmd = require("stlink_raw").cmd
      for round = 1, 2 do
        local b = assert(vb.open{ state = p, target = round == 1 and "stm32l476rg" or "stm32f407vg" })
        local u = b:usb()
        assert(b:out(u.ep_out, cmd("BBB", 0xF2, 0x30, 0xA3)))         -- enter SWD
        assert.equal("\x80\0", b:in_(u.ep_in, 2))
        assert(b:out(u.ep_out, cmd("BB", 0xF2, 0x31)))                -- READ_IDCODES
        local st, dpidr = string.unpack("<I2xxI4", b:in_(u.ep_in, 12))
        assert.same({ 0x80, 0x2BA01477 }, { st, dpidr })
        assert(b:out(u.ep_out, cmd("<BBI4I2", 0xF2, 0x07, 0xE0042000, 4)))
        assert.equal(0x10070415, (string.unpack("<I4", b:in_(u.ep_in, 4))))
        b:close()
      end
      assert.truthy(testfiles.slurp(p):find("\npart stm32l476rg\n", 1, true))
    end)

    it("still has the core debug registers and DBGMCU of a Cortex-M4", function()
      local m = open("stm32l476rg")
      assert(m:write(DHCSR, 4, KEY | C_DEBUGEN | C_HALT))
      assert.equal(S_HALT, m:read(DHCSR, 4) & S_HALT)
      assert.equal(0x10110021, m:read(0xE000EF40, 4))           -- MVFR0: single-precision FPU
    end)
  end)
end)
