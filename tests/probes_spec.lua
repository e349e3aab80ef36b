-- `stotp probes` (every probe connected, one line each) and --probe as a
-- unique prefix of a serial.
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")
local cli = require("stotp.cli")
local fake = require("fake_target")

describe("stotp probes", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function probes(imgs, extra)
    return station.stotp(dir, "probes" .. (extra or ""), "VPROBE_STATE=" .. imgs .. " LD_LIBRARY_PATH=" .. testfiles.build ..
      "/vprobe")
  end

  it("lists every probe with kind, firmware, serial, voltage, part and UID; --json the same", function()
    local a, b = dir .. "/a.img", dir .. "/b.img"
    local code, out, err = probes(a .. ":" .. b, " --json")
    assert.equal(0, code, err)
    local r = dkjson.decode(out)
    assert.equal(2, #r.probes)
    local uids = { [station.readback(dir, a).uid] = true, [station.readback(dir, b).uid] = true }
    for _, p in ipairs(r.probes) do
      assert.same({ "V2-1", "V2J40M27", 3.3, "STM32F427/429/437/439" }, { p.kind, p.firmware, p.voltage, p.part })
      assert.truthy(p.serial:find("^%x+$"))
      assert.is_true(uids[p.uid], p.uid)
    end
    local tcode, text = probes(a .. ":" .. b)
    assert.equal(0, tcode)
    local n = 0
    for l in text:gmatch("[^\n]+") do
      n = n + 1
      local p = r.probes[n]
      assert.equal(string.format("ST-Link/V2-1  V2J40M27   %-24s  3.30 V  STM32F427/429/437/439, UID %s", p.serial,
        p.uid), l)
    end
    assert.equal(2, n)
  end)

  it("exits 1 and says so when no probe is connected", function()
    local code, out, err = station.run("env -u LD_LIBRARY_PATH " .. testfiles.build .. "/bin/stotp probes", dir)
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("stotp probes: no ST-Link probe found (is it plugged in, and may this user open it?)\n", err)
  end)

  it("exits 2 on an unknown option and opens nothing", function()
    local code, _, err = probes(dir .. "/a.img", " --jsn")
    assert.equal(2, code)
    assert.truthy(err:find("unknown option '--jsn'; did you mean '--json'?", 1, true), err)
    assert.is_nil(io.open(dir .. "/a.img"))
  end)
end)

describe("--probe with a prefix of a serial", function()
  local dir, core, boards
  before_each(function()
    dir = testfiles.sandbox()
    boards = { ["066DFF485550"] = fake.board(), ["066DFF4933AB"] = fake.board(), ["0671FF57"] = fake.board() }
    core = fake.core(boards)
    function core.probes()
      local t = {}
      for serial in pairs(boards) do t[#t + 1] = { serial = serial, kind = "V2-1" } end
      table.sort(t, function(x, y) return x.serial < y.serial end)
      return t
    end
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function run(argv)
    local out, err = { text = "" }, { text = "" }
    local function w(b) return function(self, ...) for _, s in ipairs({ ... }) do b.text = b.text .. s end return self end end
    out.write, err.write = w(out), w(err)
    out.flush, err.flush = function() end, function() end
    local code = cli.main(argv, { stotp = function() return core end, out = out, err = err,
      getenv = function(k) return k == "STOTP_STATION" and "s1" or nil end })
    return code, out.text, err.text
  end

  it("provisions the one probe a unique prefix names", function()
    station.copy_example(dir, "sensor-mac.cfg")
    local code, out, err = run({ "provision", dir .. "/sensor-mac.cfg", "--probe", "0671", "--journal", dir .. "/j.db",
      "--yes", "--json" })
    assert.equal(0, code, err)
    assert.equal("provisioned", dkjson.decode(out).status)
    assert.truthy(#boards["0671FF57"].log > 0)
    assert.same({}, boards["066DFF485550"].log)
  end)

  it("refuses an ambiguous prefix, listing the candidates and asking for --probe SERIAL; nothing written", function()
    station.copy_example(dir, "sensor-mac.cfg")
    local code, _, err = run({ "provision", dir .. "/sensor-mac.cfg", "--probe", "066DFF", "--journal", dir .. "/j.db",
      "--yes" })
    assert.equal(1, code)
    assert.truthy(err:find("--probe 066DFF matches 2 probes (066DFF485550, 066DFF4933AB): give more of the serial, " ..
      "--probe SERIAL", 1, true), err)
    assert.equal(0, core.opened)
    for _, b in pairs(boards) do assert.same({}, b.log) end
  end)
end)
