-- Releasing a board (issue 10 item 9): target:run() lets the firmware run,
-- target:reset() restarts the chip running or halted at the reset vector;
-- after either, the handle writes no more OTP.
local stotp = require("stotp")

local DHCSR, S_HALT = 0xE000EDF0, 1 << 17

describe("target:run and target:reset", function()
  local path, p, t
  before_each(function()
    path = os.tmpname()
    os.remove(path)
    p = assert(stotp.open({ sim = path, sim_part = "stm32f429zi" }))
    t = assert(p:attach())
  end)
  after_each(function()
    t:close()
    p:close()
    os.remove(path)
    os.remove(path .. ".lock")
  end)

  local function halted() return assert(t:read32(DHCSR)) & S_HALT ~= 0 end

  it("runs the firmware, and then writes no OTP", function()
    assert.is_true(halted())
    assert.is_true(t:run())
    assert.is_false(halted())
    local r = { t:otp_write(0, "\0") }
    assert.same({ nil, "target" }, { r[1], r[3] })
    assert.truthy(r[2]:find("no longer halted", 1, true) or r[2]:find("since attach", 1, true), r[2])
  end)

  it("resets the chip to run, and then writes no OTP", function()
    assert.is_true(t:reset())
    assert.is_false(halted())
    local r = { t:otp_write(0, "\0") }
    assert.same({ nil, "target" }, { r[1], r[3] })
    assert.equal(("\xFF"):rep(512), assert(t:otp_read()))
  end)

  it("resets the chip halted at the reset vector when asked", function()
    assert.is_true(t:reset({ halt = true }))
    assert.is_true(halted())
    -- the vector catch is put back: a later reset does not halt
    assert.equal(0, assert(t:read32(0xE000EDFC)) & 1)
  end)

  it("raises on a misspelt option or an extra argument", function()
    assert.has_error(function() t:reset({ hlat = true }) end)
    assert.has_error(function() t:reset({ halt = "yes" }) end)
    assert.has_error(function() t:run(1) end)
  end)
end)

describe("a target whose probe was closed", function()
  it("says so when printed, and answers closed to every call", function()
    local path = os.tmpname()
    os.remove(path)
    local p = assert(stotp.open({ sim = path, sim_part = "stm32f429zi" }))
    local t = assert(p:attach())
    p:close()
    assert.matches("^stotp%.Target: STM32F427/429/437/439 .* %(probe closed%)$", tostring(t))
    local r = { t:otp_read() }
    assert.same({ nil, "closed" }, { r[1], r[3] })
    t:close()
    assert.equal("stotp.Target: (closed)", tostring(t))
    os.remove(path)
    os.remove(path .. ".lock")
  end)
end)
