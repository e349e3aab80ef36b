-- The `stotp` command as a station runs it (build/bin/stotp, written by
-- make from lua/stotp/cli/stotp.in): subcommands, their usage errors, and
-- provision.lua as `stotp provision` under its old name.
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")

describe("the stotp command", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("lists its subcommands on --help and prints one version string", function()
    local code, out = station.stotp(dir, "--help")
    assert.equal(0, code)
    for _, c in ipairs({ "provision", "check", "read", "probes", "report", "journal", "repl", "hwtest" }) do
      assert.truthy(out:find("\n   " .. c .. " ", 1, true), c)
    end
    local _, v = station.stotp(dir, "--version")
    local _, v2 = station.run("lua5.4 " .. station.ROOT .. "/provision.lua --version", dir)
    assert.equal(require("stotp.version") .. "\n", v)
    assert.equal(v, v2)
  end)

  it("refuses an unknown subcommand with a did-you-mean and the whole list: exit 2", function()
    local code, out, err = station.stotp(dir, "provison x.cfg")
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("stotp: usage error: unknown subcommand 'provison' (did you mean 'provision'?); the subcommands are " ..
      "provision, station, check, read, probes, report, journal, repl, hwtest\n", err)
  end)

  it("suggests the option meant by a misspelt one: exit 2, no image made", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local code, _, err = station.stotp(dir, "provision " .. cfg .. " --sim " .. dir .. "/a.img --dryrun")
    assert.equal(2, code)
    assert.truthy(err:find("unknown option '--dryrun'; did you mean '--dry-run'?", 1, true), err)
    assert.is_nil(io.open(dir .. "/a.img"))
  end)

  local misspelt = {
    { "a vocabulary word", 'field "serial" { u32el, serial },', "'u32el' is not part of the recipe vocabulary " ..
      "(did you mean 'u32le'?)" },
    { "a setting", 'journl = "x.db"', "unknown setting 'journl' (did you mean 'journal'?)" },
  }
  for _, m in ipairs(misspelt) do
    it("suggests the word meant by a misspelt " .. m[1] .. " in a recipe, with one error prefix: exit 2", function()
      local cfg = dir .. "/m.cfg"
      testfiles.spit(cfg, 'product = "m"\nparts = { "stm32f4" }\njournal = "m.db"\nserials = { first = 1, last = 9 }\n' ..
        (m[2]:find("^field") and "block(0) { " .. m[2] .. " }\n" or m[2] .. '\nblock(0) { field "s" { u32le, serial } }\n'))
      local code, out, err = station.stotp(dir, "provision " .. cfg .. " --sim " .. dir .. "/m.img")
      assert.equal(2, code)
      assert.equal("", out)
      assert.truthy(err:find(m[3], 1, true), err)
      local _, prefixes = err:gsub("config error:", "")
      assert.equal(1, prefixes)
      assert.is_nil(io.open(dir .. "/m.img"))
    end)
  end

  it("provisions with `stotp provision` exactly as provision.lua does", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local code, out, err = station.stotp(dir, "provision " .. cfg .. " --sim " .. dir .. "/a.img --yes --json")
    assert.equal(0, code, err)
    local r = dkjson.decode(out)
    local code2, out2 = station.provision(dir, cfg .. " --sim " .. dir .. "/b.img --yes --json")
    assert.equal(0, code2)
    local r2 = dkjson.decode(out2)
    assert.same({ "provisioned", 100000 }, { r.status, r.serial })
    assert.same({ r.status, r.serial, r.fields_written }, { r2.status, r2.serial, r2.fields_written })
  end)

  it("runs a recipe's examples with `stotp check` as with provision.lua --check", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local code, out = station.stotp(dir, "check " .. cfg)
    local code2, out2 = station.run("lua5.4 " .. station.ROOT .. "/provision.lua " .. cfg .. " --check", dir)
    assert.same({ 0, 0 }, { code, code2 })
    assert.truthy(out:find("example(s), 0 failed", 1, true), out)
    assert.equal(out, out2)
  end)

  it("makes a new --sim image of the recipe's first part when --sim-part is not given", function()
    local cfg = station.copy_example(dir, "f7-gateway.cfg")
    local code, out, err = station.stotp(dir, "provision " .. cfg .. " --sim " .. dir .. "/g.img --yes --json")
    assert.equal(0, code, err)
    assert.same({ "provisioned", "STM32F765/767/769/777/779" }, { dkjson.decode(out).status, dkjson.decode(out).part })
  end)

  it("refuses --sim-part against an image of another part, naming the image's part: exit 2, image unchanged", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/f7.img"
    station.copy_example(dir, "f7-gateway.cfg")
    assert.equal(0, (station.stotp(dir, "provision " .. dir .. "/f7-gateway.cfg --sim " .. img .. " --yes")))
    local before = testfiles.slurp(img)
    for _, extra in ipairs({ " --dry-run", " --yes" }) do
      local code, out, err = station.stotp(dir, "provision " .. cfg .. " --sim " .. img .. " --sim-part stm32f429zi" ..
        extra)
      assert.equal(2, code)
      assert.falsy(out:find("block", 1, true))
      assert.truthy(err:find("usage error: the --sim image " .. img .. " holds a STM32F765/767/769/777/779 board, " ..
        "not a stm32f429zi", 1, true), err)
      assert.equal(before, testfiles.slurp(img))
    end
  end)

  it("holds no test switch on the station's path: STOTP_TEST_CRASH_* change nothing", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    for _, cmd in ipairs({ "lua5.4 " .. station.ROOT .. "/provision.lua ", testfiles.build .. "/bin/stotp provision " }) do
      local code, _, err = station.run("STOTP_TEST_CRASH_AT=attached STOTP_TEST_CRASH_AFTER_WRITES=1 " .. cmd .. cfg ..
        " --sim " .. dir .. "/" .. #cmd .. ".img --yes", dir)
      assert.equal(0, code, err)
    end
  end)
end)
