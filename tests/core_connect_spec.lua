-- Issue 8 item 7: connect under reset. A board whose firmware turns SWD
-- off, or sleeps in STOP mode, soon after reset (image "boot swd-off" /
-- "boot sleep") cannot be attached normally: the message suggests
-- connecting under reset, and stotp.open{connect = "under-reset"} holds
-- NRST, enters SWD and catches the core at the reset vector.
local kit = require("corekit")
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local stotp = require("stotp")

local IMG = kit.TMP .. "/stotp-core-connect.img"
local PART, PROBE = "stm32f407vg", "v2-1:J40M27"
local DHCSR, DEMCR = 0xE000EDF0, 0xE000EDFC

local function board(extra)
  os.remove(IMG)
  assert(kit.open("sim", IMG, PART, PROBE)):close()
  spit(IMG, slurp(IMG) .. extra)
  return slurp(IMG)
end

local function open(transport, connect)
  if transport == "usb" then
    kit.open("usb", IMG, PART, PROBE):close()   -- sets VPROBE_* for the drop-in
    return stotp.open { connect = connect }
  end
  return stotp.open { sim = IMG, sim_part = PART, sim_probe = PROBE, connect = connect }
end

describe("connect under reset", function()
  teardown(function() os.remove(IMG) end)
  for _, transport in ipairs { "usb", "sim" } do
    for _, boot in ipairs { "swd-off", "sleep" } do
      it("refuses a normal attach to firmware that does " .. boot .. ", suggesting connect under reset (" ..
         transport .. ")", function()
        local before = board("boot " .. boot .. "\n")
        local p <close> = assert(open(transport, nil))
        local t, msg, code = p:attach()
        assert.is_nil(t)
        assert.equal("target", code)
        assert.matches("does not answer over SWD", msg)
        assert.matches('connect = "under%-reset"', msg)
        p:close()
        assert.equal(before, slurp(IMG))
      end)

      it("attaches under reset to firmware that does " .. boot .. ", the core caught at the reset vector, and burns (" ..
         transport .. ")", function()
        board("boot " .. boot .. "\n")
        local p <close> = assert(open(transport, "under-reset"))
        local t = assert(p:attach())
        assert.equal(0x413, t.dev_id)
        local dhcsr = t:read32(DHCSR)
        assert.equal(1, (dhcsr >> 17) & 1)                   -- halted
        assert.equal(0, t:read32(DEMCR) & 1)                 -- VC_CORERESET put back
        assert.is_true((t:otp_write(0, "\x42")))
        assert.is_true((t:otp_lock(0)))
        p:close()
        assert.matches("\notp 0000: 42ff", slurp(IMG))
      end)
    end

    it("attaches under reset to a board whose firmware leaves SWD alone (" .. transport .. ")", function()
      board("")
      local p <close> = assert(open(transport, "under-reset"))
      assert(p:attach())
    end)
  end

  for _, bad in ipairs { "under_reset", "reset", "", 1, true } do
    it("raises on connect = " .. tostring(bad), function()
      board("")
      assert.has_error(function() stotp.open { sim = IMG, connect = bad } end)
    end)
  end
end)
