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

describe("provision.lua --width and --connect", function()
  local testfiles = require("testfiles")
  local station = require("station")
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("programs no wider than --width: x8 units only, every byte its own program operation", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/w.img"
    -- power lost in the 19th program operation: with --width 8 that is
    -- the last byte of block 0 (19 bytes), so the first 18 are burned
    local code = station.provision(dir, cfg .. " --sim " .. img .. " --yes --width 8", "VPROBE_FAULT=powerloss@19")
    assert.equal(1, code)
    local b = station.readback(dir, img)
    assert.not_equal(("\xFF"):rep(18), b.otp:sub(1, 18))
    local code2, _, err2 = station.provision(dir, cfg .. " --sim " .. img .. " --yes --width 8")
    assert.equal(0, code2, err2)
  end)

  it("refuses a width the flash interface has not", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local code, _, err = station.provision(dir, cfg .. " --sim " .. dir .. "/x.img --yes --width 64")
    assert.equal(2, code)
    assert.truthy(err:find("--width", 1, true), err)
    assert.is_nil(io.open(dir .. "/x.img"))
  end)

  it("attaches under reset to a board whose firmware turns SWD off", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/s.img"
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --dry-run")))
    local f = assert(io.open(img, "a"))
    f:write("boot swd-off\n")
    f:close()
    local code, _, err = station.provision(dir, cfg .. " --sim " .. img .. " --yes")
    assert.equal(1, code)
    assert.truthy(err:find("under-reset", 1, true) or err:find("under reset", 1, true), err)
    local code2, _, err2 = station.provision(dir, cfg .. " --sim " .. img .. " --yes --connect under-reset")
    assert.equal(0, code2, err2)
  end)
end)
