-- Read-only checks against a real ST-Link and STM32F2/F4/F7 (make test-hw).
-- Never writes: no otp_write, otp_lock or write32 here.
local stotp = require("stotp.core")

describe("stotp.core on real hardware #hardware", function()
  it("lists, attaches, identifies and reads the OTP and its locks", function()
    local list = assert(stotp.probes())
    assert.is_true(#list >= 1, "no ST-Link attached")
    local p = assert(stotp.open { serial = os.getenv("STOTP_SERIAL") or list[1].serial })
    local t = assert(p:attach())
    assert.is_true(t.family == "F2" or t.family == "F4" or t.family == "F7")
    assert.equal(24, #t.uid)
    assert.equal(t.otp.size, #assert(t:otp_read()))
    assert.equal(16, #assert(t:otp_locks()))
    p:close()
  end)
end)
