-- Issue 8 item 5 (CMSIS FLASH_ACR): the F2/F4 flash data cache. A board whose
-- firmware enabled it (image "dcache firmware") may answer a debugger's
-- OTP read from a line cached before programming (quirk dcache=stale, the
-- default). stotp turns the cache off and resets it around its OTP reads
-- and puts FLASH_ACR back.
local kit = require("corekit")
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local vm = require "vprobe_model"

local IMG = kit.TMP .. "/stotp-core-dcache.img"
local FLASH_ACR, FLASH_KEYR, FLASH_CR, OTP = 0x40023C00, 0x40023C04, 0x40023C10, 0x1FFF7800

local function board(part, extra)
  os.remove(IMG)
  assert(kit.open("sim", IMG, part, "v2-1:J40M27")):close()
  spit(IMG, slurp(IMG) .. extra)
end

describe("vprobe flash data cache", function()
  teardown(function() os.remove(IMG) end)
  local function program_byte(m)
    assert(m:write(FLASH_KEYR, 4, 0x45670123))
    assert(m:write(FLASH_KEYR, 4, 0xCDEF89AB))
    assert(m:write(FLASH_CR, 4, 0x001))
    assert(m:write(OTP, 1, 0x12))
    m:advance(100)
  end

  it("serves a stale line after programming while DCEN, until DCRST", function()
    board("stm32f407vg", "dcache firmware\n")
    local m <close> = assert(vm.open{ image = IMG })
    assert.equal(0x700, m:read(FLASH_ACR, 4) & 0x700)
    assert.equal(0xFF, m:read(OTP, 1))            -- the line is cached
    program_byte(m)
    assert.equal(0xFF, m:read(OTP, 1))            -- stale
    assert(m:write(FLASH_ACR, 4, 0x300))          -- DCEN off
    assert.equal(0x12, m:read(OTP, 1))            -- not cached
    assert(m:write(FLASH_ACR, 4, 0x700))          -- DCEN on again, no reset
    assert.equal(0xFF, m:read(OTP, 1))            -- the old line is still there
    assert(m:write(FLASH_ACR, 4, 0x300))
    assert(m:write(FLASH_ACR, 4, 0x1300))         -- DCRST while DCEN = 0
    assert(m:write(FLASH_ACR, 4, 0x700))
    assert.equal(0x12, m:read(OTP, 1))
  end)

  it("reads through with quirk dcache=coherent, and without the image setting", function()
    board("stm32f407vg", "dcache firmware\n")
    local m <close> = assert(vm.open{ image = IMG, quirks = "dcache=coherent" })
    m:read(OTP, 1)
    program_byte(m)
    assert.equal(0x12, m:read(OTP, 1))
    board("stm32f407vg", "")
    local n <close> = assert(vm.open{ image = IMG })
    assert.equal(0, n:read(FLASH_ACR, 4) & 0x400)
  end)
end)

describe("stotp.core and the flash data cache", function()
  teardown(function() os.remove(IMG) end)
  for _, transport in ipairs { "usb", "sim" } do
    for _, part in ipairs { "stm32f205rg", "stm32f407vg", "stm32f429zi" } do
      it("turns the data cache off and resets it around its OTP reads, then restores FLASH_ACR (" ..
         transport .. ", " .. part .. ")", function()
        board(part, "dcache firmware\n")
        local p <close> = assert(kit.open(transport, IMG, part, "v2-1:J40M27"))
        local t = assert(p:attach())
        local acr = t:read32(FLASH_ACR)
        assert.equal(0x400, acr & 0x400)
        assert.equal(string.rep("\xFF", 4), t:otp_read():sub(1, 4))   -- lines cached, if any
        p:trace(true)
        local ok, msg = t:otp_write(0, "\x12\x34\x56\x78")
        local trace = p:trace(false)
        assert.is_true(ok, msg)
        assert.equal("\x12\x34\x56\x78", t:otp_read():sub(1, 4))
        assert.equal(acr, t:read32(FLASH_ACR))
        -- every OTP read is preceded by DCEN off, DCRST on, and followed by the restore
        local steps = {}
        for _, w in ipairs(kit.writes(trace)) do
          if w.op == "reg" and w.reg == FLASH_ACR then steps[#steps + 1] = w.value end
        end
        local reads = 0
        for _, r in ipairs(kit.reads(trace)) do if r.addr == OTP then reads = reads + 1 end end
        assert.is_true(reads >= 1)   -- the plan may come from the otp_read just before
        assert.equal(3 * reads, #steps)
        for i = 1, #steps, 3 do
          assert.same({ acr & ~0x400, (acr & ~0x400) | 0x1000, acr }, { steps[i], steps[i + 1], steps[i + 2] })
        end
      end)
    end
    it("costs nothing on a board whose cache is off (" .. transport .. ")", function()
      board("stm32f407vg", "")
      local p <close> = assert(kit.open(transport, IMG, "stm32f407vg", "v2-1:J40M27"))
      local t = assert(p:attach())
      p:trace(true)
      assert(t:otp_write(0, "\x01"))
      for _, w in ipairs(kit.writes(p:trace(false))) do
        assert.is_false(w.op == "reg" and w.reg == FLASH_ACR)
      end
    end)
  end
end)
