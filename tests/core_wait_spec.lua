-- WAIT and FAULT as real ST-Link firmware gives them (OOCD commit 9fce8a21c,
-- BMP stlinkv2.c, PYO stlink.py, issue 8 item 3): a stalled write answers
-- SWD_AP_WAIT after a handful of WAIT ACKs and still completes; a V3 answers a
-- busy AP with WAIT, then AP_FAULT once, then OK; sticky error flags stay set
-- until the host writes DP ABORT (VPROBE_QUIRKS sticky=kept, the default).
-- stotp gives no false failure and never leaves FLASH_CR unlocked or PG set.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-wait.img"
local FLASH_CR = 0x40023C10
local DATA = kit.pattern(512, 3, 1, 0xFB)

-- FLASH_CR after an operation: LOCK (bit 31) set, PG (bit 0) clear.
local function assert_cr_safe(t, what)
  local cr = assert(t:read32(FLASH_CR))
  assert(cr & 0x80000000 ~= 0, string.format("%s: FLASH_CR 0x%08X left unlocked", what, cr))
  assert(cr & 1 == 0, string.format("%s: FLASH_CR 0x%08X left with PG set", what, cr))
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core WAIT and FAULT (" .. transport .. ")", function()
    for _, probe in ipairs(kit.PROBES) do
      it("reads on after a memory fault on " .. probe .. ", clearing the sticky flags", function()
        for _, quirks in ipairs { "sticky=kept", "sticky=cleared" } do
          os.remove(IMG)
          local p <close> = assert(kit.open(transport, IMG, "stm32f429zi", probe, { quirks = quirks }))
          local t = assert(p:attach())
          local r = { t:read(0x60000000, 4) }   -- FMC bank 1: not mapped on the model
          assert.same({ nil, "target" }, { r[1], r[3] }, quirks)
          assert.equal(t.uid_bytes, t:read(0x1FFF7A10, 12), quirks)
          assert.is_true((t:otp_write(0, "\x5A")), quirks)
          assert_cr_safe(t, quirks)
        end
      end)
    end

    it("takes V3's AP_FAULT after a WAIT as part of the WAIT, at every step of a burn and lock", function()
      os.remove(IMG)
      local p = assert(kit.open(transport, IMG, "stm32f429zi", "v3:J7M3"))
      local t = assert(p:attach())
      assert.is_true((t:otp_write(0, DATA)))
      assert.is_true((t:otp_lock(kit.all_blocks())))
      local total = p:stats().commands
      p:close()
      for n = 1, total do
        local fault = "wait@" .. n .. ":1"
        os.remove(IMG)
        local q <close> = assert(kit.open(transport, IMG, "stm32f429zi", "v3:J7M3", { fault = fault }))
        local u = assert(q:attach())
        local ok, msg = u:otp_write(0, DATA)
        assert(ok, fault .. ": " .. tostring(msg))
        ok, msg = u:otp_lock(kit.all_blocks())
        assert(ok, fault .. ": " .. tostring(msg))
        assert.equal(DATA, u:otp_read(), fault)
        assert_cr_safe(u, fault)
      end
    end)

    for _, fast in ipairs { { "v2:J37", 4000 }, { "v3:J7M3", 8000 }, { "v3:J7M3", 24000 } } do
      it(string.format("burns and locks with tprog=max on %s at %d kHz, the burst falling back", fast[1], fast[2]), function()
        os.remove(IMG)
        local p <close> = assert(kit.open(transport, IMG, "stm32f429zi", fast[1],
                                          { khz = fast[2], quirks = "tprog=max" }))
        local t = assert(p:attach())
        local ok, st = t:otp_write(0, DATA)
        assert(ok, tostring(st))
        assert.is_true(st.fell_back)
        assert.is_true((t:otp_lock(kit.all_blocks())))
        assert.equal(DATA, t:otp_read())
        assert_cr_safe(t, fast[1])
      end)
    end
  end)
end
