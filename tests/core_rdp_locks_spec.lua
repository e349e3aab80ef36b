-- Issue 7 item 14, the C parts: a read fault on a chip at RDP level 1 says
-- so, and target:otp_locks() returns the raw lock bytes as a second value,
-- so a lock byte that is neither 00 nor FF can be shown as it is.
local kit = require("corekit")
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit

local IMG = kit.TMP .. "/stotp-core-rdp-locks.img"
local PART, PROBE = "stm32f429zi", "v2-1:J40M27"

-- A fresh image with `from` replaced by `to` in its text.
local function image(from, to)
  os.remove(IMG)
  assert(kit.open("sim", IMG, PART, PROBE)):close()
  local text = slurp(IMG)
  local changed = text:gsub(from, to)
  assert(changed ~= text)
  spit(IMG, changed)
  return changed
end

describe("stotp.core at RDP level 1", function()
  teardown(function() os.remove(IMG) end)
  for _, transport in ipairs { "usb", "sim" } do
    it("names read protection when a read faults (" .. transport .. ")", function()
      local before = image("\nrdp aa\n", "\nrdp bb\n")
      local p <close> = assert(kit.open(transport, IMG, PART, PROBE, { quirks = "rdp1_otp=fault" }))
      local t = assert(p:attach())
      assert.equal(1, t.rdp)
      local calls = {
        { "otp_read", 0x1FFF7800, function() return t:otp_read() end },
        { "otp_locks", 0x1FFF7800, function() return t:otp_locks() end },
        { "read", 0x08000000, function() return t:read(0x08000000, 4) end },
        { "read32", 0x1FFF7800, function() return t:read32(0x1FFF7800) end },
        { "otp_write", 0x1FFF7800, function() return t:otp_write(0, "\x01") end },
        { "otp_lock", 0x1FFF7800, function() return t:otp_lock(0) end },
      }
      for _, c in ipairs(calls) do
        local ok, msg, code = c[3]()
        assert.is_nil(ok, c[1])
        assert.equal("target", code, c[1])
        assert.equal(("target: read of 0x%08X faulted: the chip is at RDP level 1 ("):format(c[2]),
                     msg:sub(1, 64), c[1])
      end
      p:close()
      assert.equal(before, slurp(IMG))
    end)
  end
end)

describe("target:otp_locks()", function()
  teardown(function() os.remove(IMG) end)
  it("returns the 16 raw lock bytes as a second value, a byte neither 00 nor FF as it is", function()
    image("\nlock ffffffffffffffffffffffffffffffff", "\nlock 00ff5affffffffffffffffffffffff7f")
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    local locked, raw = t:otp_locks()
    p:close()
    assert.same({ true, false, false }, { locked[1], locked[2], locked[3] })
    assert.equal(16, #locked)
    assert.equal("\x00\xFF\x5A" .. string.rep("\xFF", 12) .. "\x7F", raw)
  end)
end)
