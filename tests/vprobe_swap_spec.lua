-- vprobe for the production line: a board swapped on a probe's fixture (the
-- image file at the probe's path replaced), a fixture with no board (an
-- empty image file), the probe's own serial, per-probe faults and
-- VPROBE_REALTIME.
local testfiles = require("testfiles")
local env = require("testenv")
local stotp = require("stotp")
local common = require("stotp.cli.common")

-- A new board image at `path` (a fresh random UID), made in place by
-- opening it once.
local function new_board(path)
  local p = assert(stotp.open({ sim = path }))
  p:close()
end

local function uid_of(path)
  local p = assert(stotp.open({ sim = path }))
  local t = assert(p:attach())
  local uid = t.uid
  t:close()
  p:close()
  return uid
end

-- The operator's swap: a new board made beside the slot, renamed over it.
-- Returns the new board's UID.
local function swap(slot)
  local spare = slot .. ".spare"
  new_board(spare)
  local uid = uid_of(spare)
  assert(os.rename(spare, slot))
  return uid
end

describe("vprobe board swap", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("keeps the probe's serial when the board image behind it is replaced", function()
    local slot = dir .. "/slot.img"
    new_board(slot)
    local p = assert(stotp.open({ sim = slot }))
    local serial = p.serial
    p:close()
    local before = uid_of(slot)
    swap(slot)
    assert.are_not.equal(before, uid_of(slot))
    p = assert(stotp.open({ sim = slot }))
    assert.equal(serial, p.serial)
    p:close()
  end)

  it("gives two probes distinct serials", function()
    local a = assert(stotp.open({ sim = dir .. "/a.img" }))
    local b = assert(stotp.open({ sim = dir .. "/b.img" }))
    assert.are_not.equal(a.serial, b.serial)
    a:close()
    b:close()
  end)

  it("refuses the old session's accesses after a swap and shows the new board at the next connect", function()
    local slot = dir .. "/slot.img"
    local p = assert(stotp.open({ sim = slot }))
    local t = assert(p:attach())
    local old = t.uid
    local new = swap(slot)
    -- an access of the old session (otp_read could be served from the
    -- handle's last read, attach's, which sent no command since)
    local back, err = t:read(0x1FFF7800, 16)
    assert.is_nil(back)
    assert.is_string(err)
    local ok = t:otp_write(0, "\0")
    assert.is_falsy(ok)
    t:close()
    local t2 = assert(p:attach())
    assert.equal(new, t2.uid)
    assert.are_not.equal(old, t2.uid)
    assert.equal(("\xFF"):rep(512), assert(t2:otp_read()))
    t2:close()
    p:close()
  end)

  it("treats an empty image as a fixture with no board: the probe answers, its target does not", function()
    local slot = dir .. "/slot.img"
    testfiles.spit(slot, "")
    local p = assert(stotp.open({ sim = slot }))
    assert.is_string(p.serial)
    local t, err = p:attach()
    assert.is_nil(t)
    assert.is_string(err)
    assert.equal("", testfiles.slurp(slot))
    local new = swap(slot)
    local t2 = assert(p:attach())
    assert.equal(new, t2.uid)
    t2:close()
    p:close()
  end)

  it("sees a board taken away (its image removed) as gone, and creates none in its place", function()
    local slot = dir .. "/slot.img"
    local p = assert(stotp.open({ sim = slot }))
    local t = assert(p:attach())
    t:close()
    os.remove(slot)
    assert.is_nil(p:attach())
    assert.is_nil(testfiles.slurp(slot))
    p:close()
  end)
end)

describe("vprobe per-probe faults (VPROBE_FAULT_<N>)", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function()
    for _, v in ipairs({ "VPROBE_STATE", "VPROBE_FAULT_2" }) do env.setenv(v, nil) end
    os.execute("rm -rf " .. dir)
  end)

  it("applies VPROBE_FAULT_2 to the second probe only", function()
    local a, b = dir .. "/a.img", dir .. "/b.img"
    env.setenv("VPROBE_STATE", a .. ":" .. b)
    env.setenv("VPROBE_FAULT_2", "unplug@1")
    local list = assert(stotp.probes())
    assert.equal(2, #list)
    local pa = assert(stotp.open({ serial = list[1].serial }))
    assert(pa:attach()):close()
    pa:close()
    local pb, err = stotp.open({ serial = list[2].serial })
    assert.is_nil(pb)
    assert.truthy(tostring(err):find("unplugged", 1, true), err)
  end)
end)

describe("VPROBE_REALTIME", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function()
    for _, v in ipairs({ "VPROBE_REALTIME", "VPROBE_LATENCY_US", "VPROBE_WALLCLOCK" }) do env.setenv(v, nil) end
    os.execute("rm -rf " .. dir)
  end)

  -- A lower bound only: the run cannot take less wall time than the
  -- simulated time it slept; how much more depends on the machine.
  it("makes a run take at least its simulated time in wall time", function()
    env.setenv("VPROBE_REALTIME", "1")
    env.setenv("VPROBE_LATENCY_US", "20000")
    local t0 = common.uptime()
    local p = assert(stotp.open({ sim = dir .. "/rt.img" }))
    local t = assert(p:attach())
    assert(t:otp_read())
    local sim_s = p:stats().sim_us / 1e6
    t:close()
    p:close()
    local wall = common.uptime() - t0
    assert.is_true(sim_s > 0.2, tostring(sim_s))
    assert.is_true(wall >= sim_s - 0.02, string.format("wall %.3f s, simulated %.3f s", wall, sim_s))
  end)

  it("refuses VPROBE_REALTIME together with VPROBE_WALLCLOCK, creating no image", function()
    env.setenv("VPROBE_REALTIME", "1")
    env.setenv("VPROBE_WALLCLOCK", "2")
    local p, err = stotp.open({ sim = dir .. "/rt.img" })
    assert.is_nil(p)
    assert.truthy(tostring(err):find("VPROBE_REALTIME and VPROBE_WALLCLOCK", 1, true), err)
    assert.is_nil(testfiles.slurp(dir .. "/rt.img"))
  end)
end)
