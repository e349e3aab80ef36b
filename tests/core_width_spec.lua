-- Issue 8 item 6 (STL #1335, #1340): option `width` on otp_write and
-- otp_lock sets the widest program width; it narrows what the measured
-- supply allows and never widens it. An absurd voltage reading is refused
-- with a message that says the probe's reading is at fault.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-width.img"
local PART = "stm32f407vg"
local OTP = 0x1FFF7800
local DATA = "\x01\x02\x03\x04\x05\x06\x07\x08"

-- Write DATA at offset 0 with `opts`; the widths of the memory writes into
-- the OTP data area and the call's result.
local function widths(transport, probe, voltage, opts)
  os.remove(IMG)
  local p <close> = assert(kit.open(transport, IMG, PART, probe, { voltage = voltage }))
  local t = assert(p:attach())
  p:trace(true)
  local res = { t:otp_write(0, DATA, opts) }
  local seen = {}
  for _, w in ipairs(kit.writes(p:trace(false))) do
    if w.op ~= "reg" and w.addr >= OTP and w.addr < OTP + 512 then seen[w.width] = true end
  end
  return seen, res
end

describe("otp_write{width = ...}", function()
  teardown(function() os.remove(IMG) end)
  for _, transport in ipairs { "usb", "sim" } do
    it("narrows the program width to the option (" .. transport .. ")", function()
      for _, row in ipairs { { 8, 1 }, { 16, 2 }, { 32, 4 } } do
        local seen, res = widths(transport, "v2-1:J40M27", 3.3, { width = row[1] })
        assert.is_true(res[1], tostring(res[2]))
        assert.equal(row[2], res[2].width)
        assert.same({ [row[2]] = true }, seen)
      end
    end)

    it("never widens what the supply allows (" .. transport .. ")", function()
      local seen, res = widths(transport, "v2-1:J40M27", 2.4, { width = 32 })   -- x16 from 2.15 V
      assert.is_true(res[1])
      assert.equal(2, res[2].width)
      assert.is_nil(seen[4])
      seen, res = widths(transport, "v2:J25", 3.3, { width = 16 })              -- no 16-bit access
      assert.is_true(res[1])
      assert.equal(1, res[2].width)
      assert.same({ [1] = true }, seen)
    end)

    it("refuses an absurd voltage reading, naming the probe's reading as the cause (" .. transport .. ")", function()
      local _, res = widths(transport, "v2-1:J40M27", 5.0, { width = 8 })
      assert.same({ nil, "voltage" }, { res[1], res[3] })
      assert.matches("absurd", res[2])
      assert.matches("clone probes", res[2])
      assert.equal(string.rep("ff", 32), kit.slurp(IMG):match("\notp 0000: (%x+)"))
    end)
  end

  local bad = { 0, 4, 24, 64, 8.5, "8", true, -8 }
  for _, w in ipairs(bad) do
    it("raises on width = " .. tostring(w) .. ", writing nothing", function()
      os.remove(IMG)
      local p <close> = assert(kit.open("sim", IMG, PART, "v2-1:J40M27"))
      local t = assert(p:attach())
      assert.has_error(function() t:otp_write(0, DATA, { width = w }) end,
                       "otp_write: option 'width' must be 8, 16 or 32 (bits)")
      assert.has_error(function() t:otp_lock(0, { width = w }) end,
                       "otp_lock: option 'width' must be 8, 16 or 32 (bits)")
      assert.equal(string.rep("ff", 32), kit.slurp(IMG):match("\notp 0000: (%x+)"))
    end)
  end

  it("accepts width on otp_lock: lock bytes stay x8", function()
    os.remove(IMG)
    local p <close> = assert(kit.open("sim", IMG, PART, "v2-1:J40M27"))
    local t = assert(p:attach())
    assert(t:otp_write(0, DATA, { width = 16 }))
    local ok, st = t:otp_lock(0, { width = 32 })
    assert.is_true(ok)
    assert.equal(1, st.width)
  end)
end)
