-- Issue 3 acceptance: an unsupported part is named on attach and every
-- OTP call on it is refused with "unsupported", leaving the board image
-- unchanged. vprobe's stm32l476rg is an STM32L4 identity (DBGMCU_IDCODE,
-- CPUID) with no F2/F4/F7 flash or OTP model. Both transports.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-unsupported.img"
local PART = "stm32l476rg"
local NAME = "STM32L47x/L48x (DEV_ID 0x415) is not an STM32F2/F4/F7"

-- Every OTP call, with arguments that would be accepted on an F4.
local CALLS = {
  { "otp_read" },
  { "otp_locks" },
  { "otp_check", 0, "\0" },
  { "otp_write", 0, "\0" },
  { "otp_write", 0, "\0", { mode = "unit" } },
  { "otp_lock", 0 },
  { "otp_lock", { 0, 1 }, { expect = { [0] = ("\xFF"):rep(32) } } },
}

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core on an unsupported part (" .. transport .. ")", function()
    setup(function()
      os.remove(IMG)
      local p = assert(kit.open(transport, IMG, PART, "v2-1:J40M27"))
      p:close()   -- the image now exists
    end)

    it("attaches and names the part, with no OTP layout", function()
      local p = assert(kit.open(transport, IMG, PART, "v2-1:J40M27"))
      local t = assert(p:attach())
      assert.same({ "L4", 0x415, "STM32L47x/L48x", false },
                  { t.family, t.dev_id, t.line, t.supported })
      assert.is_nil(t.otp)
      assert.matches("STM32L47x/L48x", tostring(t), 1, true)
      p:close()
    end)

    for _, call in ipairs(CALLS) do
      it("refuses " .. call[1] .. " with 'unsupported' naming the part, image unchanged", function()
        local before = kit.slurp(IMG)
        local p = assert(kit.open(transport, IMG, PART, "v2-1:J40M27"))
        local t = assert(p:attach())
        p:trace(true)
        local r = { t[call[1]](t, table.unpack(call, 2)) }
        local writes = kit.writes(p:trace(false))
        p:close()
        assert.same({ nil, "unsupported" }, { r[1], r[3] })
        assert.matches("unsupported: " .. NAME, r[2], 1, true)
        assert.same({}, writes)
        assert.equal(before, kit.slurp(IMG))
      end)
    end
  end)
end
