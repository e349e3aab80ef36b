-- The flash interface of the target model (src/vprobe/flashctl.c), driven
-- over the bus as the SWD engine drives it. Quotes: RM0090 §3.5.4 and the
-- sources (RM0090 §3.5.4, §3.9; PM0059 §2.6; CMSIS; HAL).
local vm = require "vprobe_model"
local model_flash = require "model_flash"
local unlock, program = model_flash.unlock, model_flash.program -- program: CR = PG | PSIZE, one write, tprog

local KEYR, SR, CR = 0x40023C04, 0x40023C0C, 0x40023C10
local KEY1, KEY2 = 0x45670123, 0xCDEF89AB
local PG, LOCK, EOPIE, ERRIE = 0x1, 0x80000000, 1 << 24, 1 << 25
local EOP, OPERR, WRPERR, PGAERR, PGPERR, PGSERR, RDERR, BSY =
  0x1, 0x2, 0x10, 0x20, 0x40, 0x80, 0x100, 0x10000
local PSIZE = model_flash.PSIZE
local OTP, SYSMEM = 0x1FFF7800, 0x1FFF0000

local tmp, remove_tmps = require("testfiles").tmpnames()
local function fresh(part, voltage, text)
  local p = tmp()
  if text then
    local f = assert(io.open(p, "w"))
    f:write(text)
    f:close()
  end
  return assert(vm.open{ image = p, part = part or "stm32f407vg", voltage = voltage })
end

-- A complete image text with the given sr_at_reset (hex string).
local function image_text(part, sr)
  local t = { "part " .. part, "uid 3a0028001951363036383438", "rdp aa", "sr_at_reset " .. sr }
  for off = 0, 511, 32 do t[#t + 1] = string.format("otp %04x: %s", off, string.rep("ff", 32)) end
  t[#t + 1] = "lock " .. string.rep("ff", 16)
  return table.concat(t, "\n") .. "\n"
end

local function sr(m) return m:read(SR, 4) end

teardown(remove_tmps)

describe("vprobe.flash", function()
  it("starts with CR locked at its reset value 0x80000000", function()
    local m = fresh()
    assert.equal(0x80000000, m:read(CR, 4))
    assert.equal(0, sr(m))
  end)

  it("unlocks CR after KEY1 then KEY2 written to KEYR", function()
    local m = fresh()
    unlock(m)
    assert.equal(0, m:read(CR, 4))
  end)

  it("answers a bus error and keeps CR locked until reset after a wrong key", function()
    local m = fresh()
    assert.same({ true }, { m:write(KEYR, 4, KEY1) })
    assert.same({ nil, "fault" }, { m:write(KEYR, 4, 0x12345678) })
    -- the right sequence no longer unlocks
    assert.same({ nil, "fault" }, { m:write(KEYR, 4, KEY1) })
    assert.same({ nil, "fault" }, { m:write(KEYR, 4, KEY2) })
    assert.equal(LOCK, m:read(CR, 4))
    m:reset()
    unlock(m)
    assert.equal(0, m:read(CR, 4))
  end)

  it("answers a bus error when a key is written while already unlocked", function()
    local m = fresh()
    unlock(m)
    assert.same({ nil, "fault" }, { m:write(KEYR, 4, KEY1) })
    assert.equal(LOCK, m:read(CR, 4))
  end)

  it("accepts a wrong key silently when wrong_key_bus_error is off, but still locks", function()
    local m = fresh()
    m:params{ wrong_key_bus_error = false }
    assert.same({ true }, { m:write(KEYR, 4, 0) })
    unlock(m)
    assert.equal(LOCK, m:read(CR, 4))
  end)

  it("ignores writes to CR while LOCK is set", function()
    local m = fresh()
    assert(m:write(CR, 4, PG | PSIZE[4]))
    assert.equal(LOCK, m:read(CR, 4))
  end)

  it("relocks when LOCK is written, and unlocks again with the keys", function()
    local m = fresh()
    unlock(m)
    assert(m:write(CR, 4, LOCK))
    assert.equal(LOCK, m:read(CR, 4))
    unlock(m)
    assert.equal(0, m:read(CR, 4))
  end)

  it("sets PGSERR when flash is written without PG (\"control register has not been correctly configured\")", function()
    local m = fresh()
    unlock(m)
    assert(m:write(CR, 4, PSIZE[4]))
    assert.same({ true }, { m:write(OTP, 4, 0) })
    assert.equal(PGSERR, sr(m))
    assert.equal(0xFFFFFFFF, m:read(OTP, 4))
  end)

  it("sets bit 7 (ERSERR) on F7 for a write without PG, the same RM sentence", function()
    local m = fresh("stm32f767zi")
    assert(m:write(0x1FF0F000, 4, 0))
    assert.equal(0x80, sr(m))
    assert.equal(0xFFFFFFFF, m:read(0x1FF0F000, 4))
  end)

  -- "The write access type ... must correspond to the type of parallelism
  -- chosen ... If not, the write operation is not performed"
  for _, row in ipairs{ { psize = 4, size = 1 }, { psize = 4, size = 2 }, { psize = 2, size = 4 },
                        { psize = 2, size = 1 }, { psize = 1, size = 2 }, { psize = 1, size = 4 } } do
    it(string.format("sets PGPERR and writes nothing when a %d-byte access meets PSIZE x%d",
                     row.size, row.psize * 8), function()
      local m = fresh()
      unlock(m)
      program(m, OTP, row.size, 0, row.psize)
      assert.equal(PGPERR, sr(m))
      assert.equal(0xFFFFFFFF, m:read(OTP, 4))
    end)
  end

  it("sets PGPERR for PSIZE x64, which needs VPP and is not modelled", function()
    local m = fresh()
    unlock(m)
    assert(m:write(CR, 4, PG | 3 << 8))
    assert(m:write(OTP, 4, 0))
    assert.equal(PGPERR, sr(m))
  end)

  it("sets PGAERR when the data would cross the 128-bit row boundary", function()
    local m = fresh()
    unlock(m)
    program(m, OTP + 14, 4, 0)
    assert.equal(PGAERR, sr(m))
    assert.equal(0xFFFFFFFF, m:read(OTP + 12, 4))
    assert.equal(0xFFFFFFFF, m:read(OTP + 16, 4))
  end)

  it("programs an unaligned word that stays inside one 128-bit row", function()
    local m = fresh()
    unlock(m)
    program(m, OTP + 1, 4, 0x00000000)
    assert.equal(EOP, sr(m))
    assert.equal(0x000000FF, m:read(OTP, 4))
    assert.equal(0xFFFFFF00, m:read(OTP + 4, 4))
  end)

  it("sets WRPERR when writing system memory", function()
    local m = fresh()
    unlock(m)
    local before = m:read(SYSMEM + 0x100, 4)
    program(m, SYSMEM + 0x100, 4, 0)
    assert.equal(WRPERR, sr(m))
    assert.equal(before, m:read(SYSMEM + 0x100, 4))
  end)

  it("sets WRPERR when writing the UID", function()
    local m = fresh()
    unlock(m)
    local uid = m:read(0x1FFF7A10, 4)
    program(m, 0x1FFF7A10, 4, 0)
    assert.equal(WRPERR, sr(m))
    assert.equal(uid, m:read(0x1FFF7A10, 4))
  end)

  it("programs as old AND new: bits only go from 1 to 0, with no flag", function()
    local m = fresh()
    unlock(m)
    program(m, OTP, 4, 0xF0F0FF00)
    program(m, OTP, 4, 0x0FF0FFFF)
    assert.equal(0x00F0FF00, m:read(OTP, 4))
    assert.equal(EOP, sr(m))
  end)

  it("programs main flash with the same rules and reads erased flash as 0xFF", function()
    local m = fresh()
    assert.equal(0xFFFFFFFF, m:read(0x08000100, 4))
    unlock(m)
    program(m, 0x08000100, 2, 0x1234)
    assert.equal(0xFFFF1234, m:read(0x08000100, 4))
    program(m, 0x08000100, 4, 0, 2)
    assert.equal(PGPERR | EOP, sr(m))
  end)

  it("erases a sector with SER|STRT, after which it reads 0xFF", function()
    local m = fresh()
    unlock(m)
    program(m, 0x08004000, 4, 0x11223344)
    assert(m:write(CR, 4, 0x2 | 1 << 3 | PSIZE[4]))   -- SER, sector 1
    assert(m:write(CR, 4, 0x2 | 1 << 3 | PSIZE[4] | 1 << 16))
    assert.equal(BSY, sr(m) & BSY)
    m:advance(1000000)
    assert.equal(0xFFFFFFFF, m:read(0x08004000, 4))
  end)

  it("stalls flash reads and CR writes while BSY, then completes after tprog", function()
    local m = fresh()
    m:params{ tprog_us = 16 }
    unlock(m)
    assert(m:write(CR, 4, PG | PSIZE[4]))
    assert(m:write(OTP, 4, 0x12345678))
    assert.equal(BSY, sr(m))                       -- SR reads do not stall
    assert.same({ nil, "stall" }, { m:read(OTP, 4) })
    assert.same({ nil, "stall" }, { m:write(OTP + 4, 4, 0) })
    assert.same({ nil, "stall" }, { m:write(CR, 4, LOCK) })
    m:advance(15)
    assert.same({ nil, "stall" }, { m:read(OTP, 4) })
    m:advance(1)
    assert.equal(0x12345678, m:read(OTP, 4))
    assert.equal(EOP, sr(m))
  end)

  it("does not stall KEYR writes while BSY", function()
    local m = fresh()
    unlock(m)
    assert(m:write(CR, 4, PG | PSIZE[4]))
    assert(m:write(OTP, 4, 0))
    assert.same({ nil, "fault" }, { m:write(KEYR, 4, KEY1) })  -- unlocked: a key is wrong
  end)

  it("sets EOP on success by default, and only with EOPIE when eop_needs_eopie", function()
    local m = fresh()
    m:params{ eop_needs_eopie = true }
    unlock(m)
    program(m, OTP, 4, 0xFFFFFF00)
    assert.equal(0, sr(m))
    assert(m:write(CR, 4, PG | PSIZE[4] | EOPIE))
    assert(m:write(OTP + 4, 4, 0))
    m:advance(100)
    assert.equal(EOP, sr(m))
  end)

  it("sets OPERR with a parallelism error only when ERRIE is set", function()
    local m = fresh()
    unlock(m)
    program(m, OTP, 1, 0, 4)
    assert.equal(PGPERR, sr(m))
    assert(m:write(SR, 4, 0xF3))
    assert(m:write(CR, 4, PG | PSIZE[4] | ERRIE))
    assert(m:write(OTP, 1, 0))
    assert.equal(PGPERR | OPERR, sr(m))
  end)

  it("clears error flags and EOP by writing 1, leaving the others", function()
    local m = fresh()
    unlock(m)
    program(m, OTP, 1, 0, 4)           -- PGPERR
    program(m, OTP + 14, 4, 0)          -- refused: stale PGPERR -> PGSERR
    assert.equal(PGPERR | PGSERR, sr(m))
    assert(m:write(SR, 4, PGPERR))
    assert.equal(PGSERR, sr(m))
    assert(m:write(SR, 4, 0xF3))
    assert.equal(0, sr(m))
  end)

  it("shows sr_at_reset from the image after power-up and reset; hosts must clear it", function()
    local m = fresh(nil, nil, image_text("stm32f407vg", "000000c0"))
    assert.equal(PGSERR | PGPERR, sr(m))
    unlock(m)
    program(m, OTP, 4, 0)
    assert.equal(0xFFFFFFFF, m:read(OTP, 4))       -- refused: stale errors
    assert(m:write(SR, 4, 0xF3))
    program(m, OTP, 4, 0)
    assert.equal(0, m:read(OTP, 4))
    m:reset()
    assert.equal(PGSERR | PGPERR, sr(m))
  end)

  it("programs despite stale errors when stale_errors_block is off", function()
    local m = fresh(nil, nil, image_text("stm32f407vg", "000000c0"))
    m:params{ stale_errors_block = false }
    unlock(m)
    program(m, OTP, 4, 0)
    assert.equal(0, m:read(OTP, 4))
  end)

  -- RDERR (bit 8) exists on F42x/43x/401/411/446, not on F2/F40x (CMSIS)
  local STALE, STALE_RDERR = PGSERR | PGPERR, RDERR | PGSERR | PGPERR
  for _, row in ipairs{ { "stm32f205rg", STALE }, { "stm32f407vg", STALE }, { "stm32f411re", STALE_RDERR },
                        { "stm32f429zi", STALE_RDERR }, { "stm32f446re", STALE_RDERR } } do
    it((row[2] & RDERR ~= 0 and "has" or "has no") .. " RDERR on " .. row[1], function()
      local m = fresh(nil, nil, image_text(row[1], "000001c0"))
      assert.equal(row[2], sr(m))
      assert(m:write(SR, 4, 0x1F3))
      assert.equal(0, sr(m))
    end)
  end

  it("unlocks OPTCR with OPTKEY1 then OPTKEY2, and a wrong option key locks it until reset", function()
    local OPTKEYR, OPTCR = 0x40023C08, 0x40023C14
    local m = fresh()
    assert.equal(0x0FFFAAED, m:read(OPTCR, 4))
    assert(m:write(OPTKEYR, 4, 0x08192A3B))
    assert(m:write(OPTKEYR, 4, 0x4C5D6E7F))
    assert.equal(0x0FFFAAEC, m:read(OPTCR, 4))
    assert.same({ nil, "fault" }, { m:write(OPTKEYR, 4, 0x08192A3B) })
    assert.equal(0x0FFFAAED, m:read(OPTCR, 4))
    assert(m:write(OPTCR, 4, 0x0FFFBBEC))            -- ignored: OPTLOCK
    assert.equal(0x0FFFAAED, m:read(OPTCR, 4))
  end)

  it("writes RDP into the image on OPTSTRT, busy for the option write time", function()
    local OPTKEYR, OPTCR = 0x40023C08, 0x40023C14
    local m = fresh()
    m:params{ topt_us = 100 }
    assert(m:write(OPTKEYR, 4, 0x08192A3B))
    assert(m:write(OPTKEYR, 4, 0x4C5D6E7F))
    assert(m:write(OPTCR, 4, 0x0FFFBBEE))            -- RDP level 1, OPTSTRT
    assert.equal(BSY, sr(m))
    m:advance(100)
    assert.equal(EOP, sr(m))
    assert.equal(0x0FFFBBEC, m:read(OPTCR, 4))
    assert.is_true(m:dirty())
    assert.same({ nil, "fault" }, { m:read(0x08000000, 4) })  -- RDP 1: flash closed to the debugger
  end)

  it("programs a word completely at 2.7 V", function()
    local m = fresh(nil, 2.7)
    unlock(m)
    program(m, OTP, 4, 0)
    assert.equal(0, m:read(OTP, 4))
  end)

  -- HAL FLASH_VOLTAGE_RANGE: x32 is rated from 2.7 V, x16 from 2.1 V. Model:
  -- only the bits to clear at even positions clear, no flag (UNCONFIRMED).
  for _, row in ipairs{ { v = 2.5, size = 4, want = 0xAAAAAAAA }, { v = 2.0, size = 2, want = 0xFFFFAAAA },
                        { v = 2.0, size = 1, want = 0xFFFFFF00 }, { v = 2.5, size = 2, want = 0xFFFF0000 } } do
    it(string.format("programs a x%d unit %s at %.1f V", row.size * 8,
                     row.want % 0x100 == 0 and "fully" or "incompletely, without a flag", row.v), function()
      local m = fresh(nil, row.v)
      unlock(m)
      program(m, OTP, row.size, 0)
      assert.equal(row.want, m:read(OTP, 4))
      assert.equal(EOP, sr(m))
    end)
  end

  it("programs nothing below 1.8 V on an F4, and from 1.7 V on an F7", function()
    local m = fresh(nil, 1.75)
    unlock(m)
    program(m, OTP, 1, 0)
    assert.equal(0xFFFFFFFF, m:read(OTP, 4))
    local f7 = fresh("stm32f767zi", 1.75)
    unlock(f7)
    program(f7, 0x1FF0F000, 1, 0)
    assert.equal(0xFFFFFF00, f7:read(0x1FF0F000, 4))
  end)
end)

-- VPROBE_QUIRKS that act in the flash interface (src/vprobe/quirks.h).
describe("vprobe.flash quirks", function()
  local function with(quirks, part)
    return assert(vm.open{ image = tmp(), part = part or "stm32f407vg", quirks = quirks })
  end

  -- eop (UNCONFIRMED: no source says): EOP after a program without and with
  -- EOPIE
  for _, row in ipairs{ { "", EOP, EOP }, { "eop=always", EOP, EOP }, { "eop=eopie", 0, EOP } } do
    it(string.format("'%s': SR after a program is %X without EOPIE, %X with it", row[1], row[2], row[3]), function()
      local m = with(row[1])
      unlock(m)
      program(m, OTP, 4, 0xFFFFFF00)
      assert.equal(row[2], sr(m))
      assert(m:write(SR, 4, EOP))
      assert(m:write(CR, 4, PG | PSIZE[4] | EOPIE))
      assert(m:write(OTP + 4, 4, 0))
      m:advance(1000)
      assert.equal(row[3], sr(m))
    end)
  end

  -- tprog (16 µs typ / 100 µs max: often quoted, no source found, UNCONFIRMED)
  for _, row in ipairs{ { "", 16 }, { "tprog=typ", 16 }, { "tprog=max", 100 } } do
    it(string.format("'%s': a program unit keeps BSY for %d µs", row[1], row[2]), function()
      local m = with(row[1])
      unlock(m)
      assert(m:write(CR, 4, PG | PSIZE[4]))
      assert(m:write(0x08000000, 4, 0))
      m:advance(row[2] - 1)
      assert.equal(BSY, sr(m) & BSY)
      m:advance(1)
      assert.equal(EOP, sr(m))
    end)
  end

  -- busy_write (RM0090 §3.5.4; OOCD and STL poll BSY per unit, UNCONFIRMED) on
  -- main flash; on F7 bit 7 is ERSERR, the same flag as a write without PG
  -- there (RM0385 §3.7.5)
  local rows = {
    { "stm32f407vg", "busy_write=stall", { nil, "stall" }, 0, EOP },
    { "stm32f407vg", "busy_write=drop", { true }, 0xFFFFFFFF, EOP },
    { "stm32f407vg", "busy_write=pgserr", { true }, 0xFFFFFFFF, EOP | PGSERR },
    { "stm32f205rg", "busy_write=pgserr", { true }, 0xFFFFFFFF, EOP | PGSERR },
    { "stm32f767zi", "busy_write=pgserr", { true }, 0xFFFFFFFF, EOP | PGSERR },
  }
  for _, row in ipairs(rows) do
    local part, q, answer, word2, flags = table.unpack(row)
    it(string.format("%s on %s: a main-flash word written while BSY answers %s; it reads %08X, SR %X",
                     q, part, answer[2] or "ok", word2, flags), function()
      local m = with(q, part)
      unlock(m)
      assert(m:write(CR, 4, PG | PSIZE[4]))
      assert(m:write(0x08000000, 4, 0))
      assert.same(answer, { m:write(0x08000004, 4, 0) })
      m:advance(1000)
      if answer[2] == "stall" then assert(m:write(0x08000004, 4, 0)) end
      m:advance(1000)
      assert.same({ 0, word2, flags }, { m:read(0x08000000, 4), m:read(0x08000004, 4), sr(m) })
      if flags & PGSERR ~= 0 then
        assert(m:write(CR, 4, PG | PSIZE[4]))
        assert(m:write(0x08000008, 4, 0))                  -- left set, PGSERR refuses the next
        m:advance(1000)
        assert.equal(0xFFFFFFFF, m:read(0x08000008, 4))
      end
    end)
  end
end)
