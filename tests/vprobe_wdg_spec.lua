-- vprobe's watchdogs (src/vprobe/wdg.c; OOCD stm32f4x.cfg, BMP stm32f4.c): an
-- IWDG started by the firmware or by the WDG_SW option bit, and a WWDG started
-- by the firmware, count while the core is halted unless DBGMCU_APB1_FZ freezes
-- them; running out resets the chip (FLASH_CR locked, core running,
-- S_RESET_ST, RCC_CSR flag) and cuts a program operation short.
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local vm = require "vprobe_model"

local tmp, remove_tmps = testfiles.tmpnames()
teardown(remove_tmps)

local DHCSR, DEMCR = 0xE000EDF0, 0xE000EDFC
local APB1_FZ = 0xE0042008
local FLASH_KEYR, FLASH_SR, FLASH_CR, FLASH_OPTCR = 0x40023C04, 0x40023C0C, 0x40023C10, 0x40023C14
local RCC_CSR = 0x40023874
local OTP = 0x1FFF7800

-- A model of a fresh F4 board whose image has `extra` lines.
local function board(extra)
  local p = tmp()
  assert(vm.open{ image = p, part = "stm32f407vg" }):close()
  spit(p, slurp(p) .. extra)
  return assert(vm.open{ image = p }), p
end

local function halt(m) assert(m:write(DHCSR, 4, 0xA05F0003)); m:read(DHCSR, 4) end
local function reset_st(m) return (m:read(DHCSR, 4) >> 25) & 1 == 1 end

describe("vprobe watchdogs", function()
  for _, row in ipairs {
    { "iwdg firmware", 512000, 1 << 29 },
    { "iwdg option", 512000, 1 << 29 },
    { "wwdg firmware", 131072, 1 << 30 },
  } do
    it("resets the chip when the " .. row[1] .. " watchdog runs out under a halted core", function()
      local m <close> = board(row[1] .. "\n")
      halt(m)
      m:advance(row[2] - 1000)
      assert.is_true(m:halted())
      assert.is_false(reset_st(m))
      m:advance(2000)
      assert.is_true(reset_st(m))
      assert.is_false(m:halted())                        -- the firmware runs
      assert.equal(0x80000000, m:read(FLASH_CR, 4) & 0x80000000)  -- CR locked
      assert.equal(row[3], m:read(RCC_CSR, 4) & row[3])
    end)

    it("does not reset when DBGMCU_APB1_FZ freezes the " .. row[1] .. " watchdog", function()
      local m <close> = board(row[1] .. "\n")
      halt(m)
      assert(m:write(APB1_FZ, 4, 0x1800))
      m:advance(10 * 1000000)
      assert.is_false(reset_st(m))
      assert.is_true(m:halted())
    end)
  end

  it("lets a running core keep its watchdog refreshed", function()
    local m <close> = board("iwdg firmware\n")
    m:read(DHCSR, 4)
    m:advance(10 * 1000000)
    assert.is_false(reset_st(m))
  end)

  it("never resets a board whose image starts no watchdog", function()
    local m <close> = board("")
    halt(m)
    m:advance(10 * 1000000)
    assert.is_false(reset_st(m))
    assert.is_true(m:halted())
  end)

  it("shows the hardware watchdog as WDG_SW = 0 in FLASH_OPTCR", function()
    local m <close> = board("iwdg option\n")
    assert.equal(0, m:read(FLASH_OPTCR, 4) & 0x20)
    local n <close> = board("iwdg firmware\n")
    assert.equal(0x20, n:read(FLASH_OPTCR, 4) & 0x20)
  end)

  it("resets again and again under a halted core with the hardware watchdog and vector catch", function()
    local m <close> = board("iwdg option\n")
    assert(m:write(DEMCR, 4, 1))                       -- VC_CORERESET
    halt(m)
    m:advance(512000 + 100)
    assert.is_true(reset_st(m))
    assert.is_true(m:halted())                         -- caught at the reset vector
    m:advance(512000)
    assert.is_true(reset_st(m))
  end)

  it("cuts short a program operation that is running when the watchdog runs out", function()
    local m <close> = board("iwdg firmware\n")
    halt(m)
    assert(m:write(FLASH_KEYR, 4, 0x45670123))
    assert(m:write(FLASH_KEYR, 4, 0xCDEF89AB))
    assert(m:write(FLASH_CR, 4, 0x001))                -- PG, PSIZE x8
    m:advance(512000 - 5 - (m:now() - 0))              -- 5 us before it runs out
    assert(m:write(OTP, 1, 0x00))                      -- 16 us of BSY
    m:advance(50)
    local v = m:read(OTP, 1)
    assert.is_true(reset_st(m))
    assert.is_true(v ~= 0x00 and v ~= 0xFF, string.format("0x%02X", v))
    assert.equal(0, m:read(FLASH_SR, 4) & 1)           -- no EOP: the operation never ended
  end)

  it("keeps the watchdog settings in the image", function()
    local m, p = board("iwdg option\nwwdg firmware\n")
    m:close()
    local text = slurp(p)
    local n = assert(vm.open{ image = p })
    n:save()
    n:close()
    assert.equal(text, slurp(p))
  end)

  for _, bad in ipairs { "iwdg on", "wwdg option", "iwdg", "iwdg firmware\niwdg firmware" } do
    it("refuses the image line '" .. bad:gsub("\n", "|") .. "'", function()
      local p = tmp()
      assert(vm.open{ image = p, part = "stm32f407vg" }):close()
      spit(p, slurp(p) .. bad .. "\n")
      local ok, err = vm.open{ image = p }
      assert.is_nil(ok)
      assert.matches(p:gsub("%p", "%%%0") .. ":%d+:", err)
    end)
  end
end)
