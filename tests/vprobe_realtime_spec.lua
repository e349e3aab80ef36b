-- VPROBE_REALTIME in USB terms (the test-only vprobe_board binding): where
-- a transfer's simulated time is waited out. A bulk OUT completes once the
-- probe has taken the data; the probe's work shows when the host reads the
-- reply (a busy function NAKs what follows, USB 2.0 §8.5.1), so OUTs do
-- not sleep and the next IN waits out all that is owed, in one sleep. The
-- bounds are a tenth of a second or more from what is asserted, never a
-- speed target.
local vb = require("vprobe_board")
local raw = require("stlink_raw")
local testfiles = require("testfiles")
local common = require("stotp.cli.common")

local LATENCY_US = 400000 -- one round trip: 0.4 s of wall time

describe("VPROBE_REALTIME transfers", function()
  local dir, b
  before_each(function()
    dir = testfiles.sandbox()
    b = assert(vb.open({ state = dir .. "/rt.img", target = "stm32f407vg", probe = "v2-1:J40M27",
      latency = LATENCY_US, realtime = true }))
  end)
  after_each(function()
    if b then b:close() end
    os.execute("rm -rf " .. dir)
  end)

  local GET_VERSION = raw.cmd("B", 0xF1)

  it("returns a command's OUT at once, and its reply no sooner than the round trip", function()
    local usb = b:usb()
    local t0 = common.uptime()
    assert(b:out(usb.ep_out, GET_VERSION))
    local t_out = common.uptime() - t0
    local reply = assert(b:in_(usb.ep_in, 6))
    local t_in = common.uptime() - t0
    assert.equal(6, #reply)
    assert.is_true(t_out < LATENCY_US / 2e6, string.format("the OUT took %.3f s", t_out))
    assert.is_true(t_in >= LATENCY_US / 1e6 - 0.01, string.format("the reply came after %.3f s", t_in))
  end)

  it("waits out two commands' work at the reply of the second", function()
    local usb = b:usb()
    local t0 = common.uptime()
    assert(b:out(usb.ep_out, GET_VERSION))
    assert(b:out(usb.ep_out, GET_VERSION))
    assert.is_true(common.uptime() - t0 < LATENCY_US / 1e6, "the OUTs slept")
    assert(b:in_(usb.ep_in, 6))
    local t_in = common.uptime() - t0
    assert.is_true(t_in >= 2 * LATENCY_US / 1e6 - 0.01, string.format("the reply came after %.3f s", t_in))
  end)

  it("waits out what the probe still owes when the host lets go of it", function()
    local usb = b:usb()
    local t0 = common.uptime()
    assert(b:out(usb.ep_out, GET_VERSION))
    b:close()
    b = nil
    local t = common.uptime() - t0
    assert.is_true(t >= LATENCY_US / 1e6 - 0.01, string.format("closed after %.3f s", t))
  end)
end)
