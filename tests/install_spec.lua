-- `make install` (PREFIX, DESTDIR): the stotp command, the modules, the C
-- module and the udev rule, used from outside the source tree.
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")

describe("make install", function()
  local dir
  setup(function()
    dir = testfiles.sandbox()
    local code, _, err = station.run(string.format("make -s -C %q install PREFIX=%q", station.ROOT, dir .. "/prefix"), dir)
    assert(code == 0, err)
  end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("installs a stotp command that lists probes and provisions a board from outside the repo", function()
    local bin = dir .. "/prefix/bin/stotp"
    local code, out, err = station.run(string.format("cd %q && VPROBE_STATE=%q LD_LIBRARY_PATH=%q %q probes --json",
      dir, dir .. "/p.img", testfiles.build .. "/vprobe", bin), dir)
    assert.equal(0, code, err)
    assert.equal(1, #dkjson.decode(out).probes)
    station.copy_example(dir, "sensor-mac.cfg")
    code, out, err = station.run(string.format("cd %q && env -u LD_LIBRARY_PATH %q provision sensor-mac.cfg --sim b.img " ..
      "--yes --json", dir, bin), dir)
    assert.equal(0, code, err)
    assert.same({ "provisioned", 100000 }, { dkjson.decode(out).status, dkjson.decode(out).serial })
    -- the launcher loads the installed modules, not the source tree's
    local launcher = testfiles.slurp(bin)
    assert.truthy(launcher:find(dir .. "/prefix/share/lua/5.4", 1, true))
    assert.falsy(launcher:find(station.ROOT .. "/lua", 1, true))
  end)

  it("names the installed udev rule in stotp.udev_rule", function()
    local script = dir .. "/rule.lua"
    testfiles.spit(script, string.format([[
      package.path = %q .. "/share/lua/5.4/?.lua;" .. %q .. "/share/lua/5.4/?/init.lua"
      package.cpath = %q .. "/lib/lua/5.4/?.so"
      io.write(require("stotp").udev_rule)]], dir .. "/prefix", dir .. "/prefix", dir .. "/prefix"))
    local code, out, err = station.run("cd " .. dir .. " && lua5.4 " .. script, dir)
    assert.equal(0, code, err)
    assert.equal(dir .. "/prefix/share/stotp/49-stotp-stlink.rules", out)
    assert.truthy(io.open(out)):close()
  end)

  -- The C core itself, without init.lua's help: STOTP_UDEV_RULE defined
  -- by make install (issue 10 item 1), in stotp.core.udev_rule and in the
  -- message a user without the rule gets (vprobe's "access" fault).
  it("builds a C core that names the installed udev rule when access is denied", function()
    local script = dir .. "/denied.lua"
    testfiles.spit(script, string.format([[
      package.cpath = %q .. "/lib/lua/5.4/?.so"
      local core = require("stotp.core")
      local _, msg, code = core.open()
      io.write(core.udev_rule, "\n", tostring(code), "\n", tostring(msg))]], dir .. "/prefix"))
    local code, out, err = station.run(string.format("cd %q && VPROBE_STATE=%q VPROBE_FAULT=access LD_LIBRARY_PATH=%q " ..
      "lua5.4 %q", dir, dir .. "/denied.img", testfiles.build .. "/vprobe", script), dir)
    assert.equal(0, code, err)
    local rule = dir .. "/prefix/share/stotp/49-stotp-stlink.rules"
    local got_rule, got_code, msg = out:match("^([^\n]*)\n([^\n]*)\n(.*)$")
    assert.same({ rule, "permission" }, { got_rule, got_code })
    assert.matches("install the udev rule " .. rule .. " into /etc/udev/rules.d/", msg, 1, true)
    assert.falsy(msg:find("examples/udev", 1, true))
  end)

  it("stages into DESTDIR with the paths of PREFIX", function()
    local code, _, err = station.run(string.format("make -s -C %q install PREFIX=/opt/stotp DESTDIR=%q", station.ROOT,
      dir .. "/stage"), dir)
    assert.equal(0, code, err)
    local launcher = testfiles.slurp(dir .. "/stage/opt/stotp/bin/stotp")
    assert.truthy(launcher:find('"/opt/stotp/share/lua/5.4"', 1, true), launcher)
    assert.truthy(launcher:find('"/opt/stotp/lib/lua/5.4"', 1, true))
    for _, f in ipairs({ "lib/lua/5.4/stotp/core.so", "share/lua/5.4/stotp/cli/provision.lua",
      "share/lua/5.4/stotp/init.lua", "share/stotp/49-stotp-stlink.rules" }) do
      assert.truthy(io.open(dir .. "/stage/opt/stotp/" .. f), f):close()
    end
  end)
end)
