-- The rockspec and the Makefile must not drift: build the rock
-- from a copy of the tree with luarocks, install it into a private tree, and
-- use the installed module and the installed `stotp` command on a virtual
-- board. The Lua dependencies the rockspec lists come from Debian packages
-- here (.ci/deps), so luarocks is told not to fetch them (--deps-mode none).
local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local have_luarocks = os.execute("command -v luarocks >/dev/null 2>&1")

describe("rockspec", function()
  if not have_luarocks then
    pending("luarocks is not installed (.ci/deps installs it)")
    return
  end

  local dir

  setup(function()
    dir = assert(io.popen("mktemp -d /tmp/stotp-rock.XXXXXX")):read("l")
    assert(run(string.format("cp -r Makefile src lua rockspec examples %q && mkdir -p %q/tests && cp -r tests/support %q/tests/",
      dir, dir, dir)))
  end)

  teardown(function()
    if dir then os.execute(string.format("rm -rf %q", dir)) end
  end)

  it("builds and installs with luarocks make, and the installed module works", function()
    local ok, out = run(string.format(
      "cd %q && luarocks --lua-version 5.4 make --deps-mode none --tree %q/tree rockspec/stotp-scm-1.rockspec", dir, dir))
    assert(ok, out)

    local script = string.format([[
      package.path = %q .. "/tree/share/lua/5.4/?.lua;" .. %q .. "/tree/share/lua/5.4/?/init.lua"
      package.cpath = %q .. "/tree/lib/lua/5.4/?.so"
      local stotp = require("stotp")
      local t, p = assert(stotp.connect{ sim = %q .. "/board.img", sim_part = "stm32f407vg" })
      io.write(t.family, " ", string.format("0x%%08X", t.otp.base), " ", #t:otp_read())
      p:close()
    ]], dir, dir, dir, dir)
    local f = assert(io.open(dir .. "/check.lua", "w"))
    f:write(script)
    f:close()
    ok, out = run(string.format("env -u LD_LIBRARY_PATH lua5.4 %q/check.lua", dir))
    assert(ok, out)
    assert.equal("F4 0x1FFF7800 512", out)
  end)

  it("installs the stotp command, which runs from outside the tree", function()
    local ok, out = run(string.format("cd /tmp && env -u LD_LIBRARY_PATH %q/tree/bin/stotp --version && " ..
      "env -u LD_LIBRARY_PATH %q/tree/bin/stotp probes --help", dir, dir))
    assert(ok, out)
    assert.truthy(out:find("^" .. (require("stotp.version"):gsub("%p", "%%%0")) .. "\n"), out)
    assert.truthy(out:find("Usage: stotp probes", 1, true), out)
  end)

  it("lists every Lua module the code requires as a dependency", function()
    local spec = assert(io.open("rockspec/stotp-scm-1.rockspec")):read("a")
    for _, dep in ipairs({ "luasql%-sqlite3", "luaossl", "argparse", "dkjson" }) do
      assert.truthy(spec:find('"' .. dep .. '"'), dep)
    end
  end)
end)
