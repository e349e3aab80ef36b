-- One error vocabulary (issue 9 item 3, luv's "Error Handling"): every code
-- stotp.core returns is documented in README "Error codes" and the table
-- and src/errors.c stay equal; no failure hides under another's code (out
-- of memory is not "usb", a sim board the model refuses is not
-- "notfound"); a message is never cut silently; and `stotp provision
-- --json` carries the code, so a station wrapper never parses English.
local env = require("testenv")
local kit = require("corekit")
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")
local stotp = require("stotp.core")

local NEW = kit.TMP .. "/stotp-errors-new.img" -- must never be created

local function readme_section()
  return assert(testfiles.slurp("README.md"):match("\n## Error codes\n(.-)\n## "), "README has no Error codes section")
end

-- The backquoted first column of each markdown table in text, one set per
-- table, in order.
local function table_codes(text)
  local tables, current = {}, nil
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local code = line:match("^| `([%w_]+)` |")
    if code then
      current = current or {}
      current[#current + 1] = code
    elseif not line:match("^|") then
      if current then tables[#tables + 1] = current end
      current = nil
    end
  end
  return tables
end

local function sorted(list)
  local t = { table.unpack(list) }
  table.sort(t)
  return t
end

local function documented()
  local all = {}
  for _, t in ipairs(table_codes(readme_section())) do
    for _, c in ipairs(t) do all[c] = true end
  end
  return all
end

describe("error codes", function()
  -- other specs of this process may leave VPROBE_* set
  before_each(function()
    for _, v in ipairs({ "VPROBE_FAULT", "VPROBE_QUIRKS", "VPROBE_PROBE", "VPROBE_TARGET" }) do env.setenv(v, nil) end
  end)

  it("are the same in README's table and in src/errors.c", function()
    local c = {}
    for name in testfiles.slurp("src/errors.c"):gmatch('%[ST_[%u_]+%]%s*=%s*"([%w_]+)"') do
      if name ~= "ok" then c[#c + 1] = name end
    end
    assert.is_true(#c >= 18, "found only " .. #c .. " codes in src/errors.c")
    assert.same(sorted(c), sorted(table_codes(readme_section())[1]))
  end)

  it("of the command line are each in README's second table", function()
    local src = testfiles.slurp("lua/stotp/cli/common.lua")
    local map = assert(src:match("local STATUS_CODES = (%b{})"))
    local cli = {}
    for code in map:gmatch('=%s*"([%w_]+)"') do cli[#cli + 1] = code end
    assert.same(sorted(cli), sorted(table_codes(readme_section())[2]))
  end)

  -- Each a board the model refuses to make: nothing is created.
  local sims = {
    { "an unknown part", { sim_part = "stm32f999" }, "unknown target 'stm32f999'" },
    { "an unknown probe", { sim_probe = "v9" }, "unknown VPROBE_PROBE 'v9'" },
    { "an unknown quirk", { sim_quirks = "bogus=1" }, "unknown quirk 'bogus'" },
    { "an unknown fault", { sim_fault = "bogus" }, "bad item 'bogus'" },
    { "an image in a directory that does not exist", { sim = kit.TMP .. "/no-such-dir/b.img" }, "No such file" },
  }
  for _, row in ipairs(sims) do
    it("reports " .. row[1] .. " for a sim board as 'sim', not 'notfound'", function()
      os.remove(NEW)
      local opts = { sim = NEW }
      for k, v in pairs(row[2]) do opts[k] = v end
      local r = { stotp.open(opts) }
      assert.same({ nil, "sim" }, { r[1], r[3] })
      assert.equal("sim: ", r[2]:sub(1, 5))
      assert.matches(row[3], r[2], 1, true)
      assert.is_nil(io.open(NEW))
    end)
  end

  it("lists every part the model knows when refusing an unknown one, uncut", function()
    local _, msg = stotp.open { sim = NEW, sim_part = "stm32f999" }
    for _, part in ipairs({ "stm32f205rg", "stm32f207zg", "stm32f401re", "stm32f405rg", "stm32f407vg", "stm32f411re",
      "stm32f429zi", "stm32f439zi", "stm32f446re", "stm32f722ze", "stm32f746zg", "stm32f767zi" }) do
      assert.matches(part, msg, 1, true)
    end
    assert.matches("%)$", msg)
  end)

  it("ends a message too long for its buffer with an ellipsis, keeping its start", function()
    local dir = kit.TMP .. "/" .. string.rep("d", 1100)
    local r = { stotp.open { sim = dir .. "/b.img" } }
    assert.same({ nil, "sim" }, { r[1], r[3] })
    assert.equal("sim: sim: " .. kit.TMP, r[2]:sub(1, 10 + #kit.TMP))
    assert.equal("\u{2026}", r[2]:sub(-3))
    assert.is_true(utf8.len(r[2]) ~= nil, "the cut message is not valid UTF-8")
  end)

  it("reports a file behind a directory it cannot search as 'permission', not 'notfound'", function()
    local uid = io.popen("id -u"):read("l")
    if uid == "0" then
      pending("root searches every directory")
      return
    end
    local dir = testfiles.tmpdir("stotp-errors")
    os.execute("mkdir " .. dir .. "/locked && touch " .. dir .. "/locked/key.bin && chmod 000 " .. dir .. "/locked")
    local r = { stotp.file_info(dir .. "/locked/key.bin") }
    os.execute("chmod 700 " .. dir .. "/locked && rm -rf " .. dir)
    assert.same({ nil, "permission" }, { r[1], r[3] })
    assert.matches("^permission: .*/locked/key.bin: Permission denied$", r[2])
  end)

  describe("stotp provision --json", function()
    local dir
    before_each(function()
      dir = testfiles.sandbox()
      station.copy_example(dir, "sensor-mac.cfg")
    end)
    after_each(function() os.execute("rm -rf " .. dir) end)

    -- Exit status and code of a run: the code is documented, and present
    -- exactly when the run did not succeed.
    local function result(args, envs)
      args = args:gsub("sensor%-mac%.cfg", dir .. "/sensor-mac.cfg"):gsub(" b%.img", " " .. dir .. "/b.img")
        :gsub(" j%.db", " " .. dir .. "/j.db"):gsub("nope%.cfg", dir .. "/nope.cfg")
      local code, out, err = station.provision(dir, args, envs)
      local r = dkjson.decode(out)
      assert.is_table(r, err)
      if code == 0 then
        assert.is_nil(r.code)
      else
        assert.is_true(documented()[r.code], "undocumented code " .. tostring(r.code))
      end
      return code, r
    end

    it("has no code when the board is provisioned", function()
      local code, r = result("sensor-mac.cfg --sim b.img --yes --json")
      assert.same({ 0, "provisioned" }, { code, r.status })
    end)

    it("has code 'usage' for a wrong command line (exit 2)", function()
      local code, r = result("sensor-mac.cfg --bogus --json")
      assert.same({ 2, "usage error", "usage" }, { code, r.status, r.code })
    end)

    it("has code 'config' for a recipe it cannot read (exit 2)", function()
      local code, r = result("nope.cfg --sim b.img --json")
      assert.same({ 2, "config error", "config" }, { code, r.status, r.code })
    end)

    it("has the core's code 'notfound' when no probe has the serial asked for (exit 1)", function()
      local code, r = result("sensor-mac.cfg --probe 000000000000000000000000 --journal j.db --yes --json",
        "LD_LIBRARY_PATH=" .. testfiles.build .. "/vprobe")
      assert.same({ 1, "no board", "notfound" }, { code, r.status, r.code })
    end)

    it("has the core's code 'usb' when the probe is unplugged during the burn (exit 1)", function()
      local code, r = result("sensor-mac.cfg --sim b.img --yes --json", "VPROBE_FAULT=unplug@18") -- the write
      assert.same({ 1, "failed", "usb" }, { code, r.status, r.code })
    end)

    it("has code 'refused' for a board of a part the recipe does not accept (exit 1)", function()
      local code, r = result("sensor-mac.cfg --sim b.img --sim-part stm32f767zi --yes --json")
      assert.same({ 1, "refused", "refused" }, { code, r.status, r.code })
    end)
  end)
end)
