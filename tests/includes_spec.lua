-- Product lines (issue 11 items 3, 4, 6): a variant includes a base and
-- overrides it; includes stay inside the recipe's folder and never loop;
-- a recipe's examples run with no probe.
local recipe = require("stotp.recipe")
local testfiles = require("testfiles")
local station = require("station")
local write = testfiles.spit

local BASE = [[
product = "base"
parts = { "stm32f4" }
journal = "line.db"
serials = { first = 1, last = 999 }
block(0) {
  field "serial" { u16le, serial },
  field "model"  { ascii(6), "BASE" },
  field "crc"    { crc16_ccitt, over = { "serial", "model" } },
}
lock { 0 }
]]

describe("recipe includes", function()
  local dir
  before_each(function() dir = testfiles.sandbox() write(dir .. "/base.cfg", BASE) end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function variant(text)
    write(dir .. "/v.cfg", text)
    return recipe.load_file(dir .. "/v.cfg")
  end

  it("takes the base's layout, then the variant's settings, overrides, blocks and locks", function()
    local r = assert(variant('include "base.cfg"\nproduct = "v"\noverride "model" { ascii(6), "V-2" }\n' ..
      'block(1) { field "cal" { u16le, 7 } }\nlock { 0, 1 }\n'))
    assert.equal("v", r.product)
    assert.same({ 0, 1 }, r.locks)
    assert.equal("V-2\0\0\0", r.by_name.model.literal)
    assert.same({ "base.cfg", "base.cfg", "base.cfg" }, { r.by_name.serial.from, r.by_name.crc.from, "base.cfg" })
    assert.is_nil(r.by_name.model.from)
    assert.is_nil(r.by_name.cal.from)
  end)

  it("lets a variant replace a whole block of its base", function()
    local r = assert(variant('include "base.cfg"\nblock(0) { field "serial" { u32le, serial } }\n'))
    assert.same({ "serial" }, { r.fields[1].name, r.fields[2] and r.fields[2].name })
    assert.equal(4, r.by_name.serial.size)
  end)

  it("includes from a subfolder of the recipe's folder", function()
    os.execute("mkdir -p " .. dir .. "/common")
    write(dir .. "/common/b.cfg", BASE)
    assert(variant('include "common/b.cfg"\n'))
  end)

  local refused = {
    { "a path out of the folder", 'include "../base.cfg"\n', "v.cfg:1: include \"../base.cfg\": an included file must " ..
      "lie inside the recipe's folder" },
    { "an absolute path", 'include "/etc/hostname"\n', "v.cfg:1: include \"/etc/hostname\": an included file must lie " ..
      "inside the recipe's folder" },
    { "a missing file", 'include "nope.cfg"\n', "v.cfg:1: include \"nope.cfg\": " },
    { "a file included twice", 'include "base.cfg"\ninclude "base.cfg"\n', "v.cfg:2: include \"base.cfg\": already " ..
      "included by" },
    { "an override of a field no include defines", 'include "base.cfg"\noverride "nope" { u8, 1 }\n',
      "v.cfg:2: override: no field 'nope' in the files this one includes" },
    { "a block defined twice in the variant itself", 'include "base.cfg"\nblock(2) { field "a" { u8, 1 } }\n' ..
      'block(2) { field "b" { u8, 1 } }\n', "v.cfg:3: block 2 is defined twice (first at line 2)" },
    { "a field name the variant reuses", 'include "base.cfg"\nblock(2) { field "model" { u8, 1 } }\n',
      "v.cfg:2: field 'model': name already used at " },
    { "an include after the config loaded", 'include "base.cfg"\nblock(2) { field "a" { u8, function() ' ..
      'include "base.cfg" return 1 end } }\n', "include can only be used while the config loads" },
  }
  for _, row in ipairs(refused) do
    it("refuses " .. row[1], function()
      local r, err = variant(row[2])
      assert.is_nil(r)
      assert.truthy(err:find(dir .. "/" .. row[3], 1, true) or err:find(row[3], 1, true), err)
    end)
  end

  it("refuses a symlink that leads out of the folder", function()
    local outside = testfiles.sandbox()
    write(outside .. "/evil.cfg", BASE)
    os.execute("ln -s " .. outside .. "/evil.cfg " .. dir .. "/evil.cfg")
    local r, err = variant('include "evil.cfg"\n')
    os.execute("rm -rf " .. outside)
    assert.is_nil(r)
    assert.truthy(err:find("outside the recipe's folder", 1, true), err)
  end)

  it("refuses an include cycle, naming the chain", function()
    write(dir .. "/a.cfg", 'include "b.cfg"\n')
    write(dir .. "/b.cfg", 'include "a.cfg"\n')
    local r, err = variant('include "a.cfg"\n')
    assert.is_nil(r)
    assert.truthy(err:find("include cycle (" .. dir .. "/v.cfg -> " .. dir .. "/a.cfg -> " .. dir .. "/b.cfg -> " ..
      dir .. "/a.cfg)", 1, true), err)
  end)

  it("refuses two includes that both define a block, naming the first", function()
    write(dir .. "/a.cfg", 'block(3) { field "a" { u8, 1 } }\n')
    write(dir .. "/b.cfg", 'block(3) { field "b" { u8, 1 } }\n')
    local r, err = variant('include "base.cfg"\ninclude "a.cfg"\ninclude "b.cfg"\n')
    assert.is_nil(r)
    assert.truthy(err:find(dir .. "/b.cfg:1: block 3 is defined twice (first at " .. dir .. "/a.cfg:1)", 1, true), err)
  end)

  it("names the included file in an error inside it", function()
    write(dir .. "/bad.cfg", 'block(4) { field "x" { u8, 300 } }\n')
    local r, err = variant('include "base.cfg"\ninclude "bad.cfg"\n')
    assert.is_nil(r)
    assert.equal(dir .. "/bad.cfg:1: field 'x': value 300 out of range 0..255 for u8", err)
  end)
end)

describe("recipe examples (--check)", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local bad_examples = {
    { 'example { serial = 1, uid = "00", fields = { model = "BASE" } }', "example: uid must be 24 hex digits" },
    { 'example { serial = 1, uid = ("00"):rep(12), feilds = {} }', "example: unknown key \"feilds\"" },
    { 'example { serial = 1, uid = ("00"):rep(12), fields = { nope = 1 } }', "example: fields names no field 'nope'" },
    { 'example { serial = 1, uid = ("00"):rep(12), fields = { crc = 1 } }', "example: field 'crc' is a CRC: check it " ..
      "with bytes" },
  }
  for _, row in ipairs(bad_examples) do
    it("refuses a malformed example at load: " .. row[2], function()
      write(dir .. "/e.cfg", BASE .. row[1] .. "\n")
      local r, err = recipe.load_file(dir .. "/e.cfg")
      assert.is_nil(r)
      assert.truthy(err:find(dir .. "/e.cfg:11: " .. row[2], 1, true), err)
    end)
  end

  it("passes the examples of the product line in examples/sensor-line, with no probe", function()
    for _, v in ipairs({ "indoor", "outdoor" }) do
      local code, out = station.run("lua5.4 " .. station.ROOT .. "/provision.lua " .. station.ROOT ..
        "/examples/sensor-line/" .. v .. ".cfg --check", dir)
      assert.equal(0, code, out)
      assert.truthy(out:find("2 example(s), 0 failed", 1, true), out)
    end
  end)

  it("fails an example the recipe does not meet, saying which field and why", function()
    write(dir .. "/e.cfg", BASE .. 'example { serial = 7, uid = ("00"):rep(12), fields = { serial = 8, model = "BASE" },' ..
      ' bytes = { crc = "00 00" } }\n')
    local code, out = station.provision(dir, dir .. "/e.cfg --check")
    assert.equal(1, code)
    assert.truthy(out:find("FAILED " .. dir .. "/e.cfg:11", 1, true), out)
    assert.truthy(out:find("field 'serial': example says 8, the recipe gives 7", 1, true), out)
    assert.truthy(out:find("field 'crc': example says bytes 00 00, the recipe gives ", 1, true), out)
    assert.falsy(out:find("field 'model'", 1, true), out)
  end)

  it("provisions a variant, naming the base's fields in the plan", function()
    local img = dir .. "/o.img"
    local code, out, err = station.provision(dir, station.ROOT .. "/examples/sensor-line/outdoor.cfg --sim " .. img ..
      " --yes")
    assert.equal(0, code, err)
    assert.truthy(out:find("block  0 +8   hw_rev       rev          write      (blank) -> 42 03  [base.cfg]", 1, true), out)
    assert.truthy(out:find("block  0 +20  model        ascii(8)     write      (blank) -> 4F 55 54 2D 32 30 30 00\n", 1, true),
      out)
    local b = station.readback(dir, img)
    assert.equal("1100000000000000", b.locks)
    assert.equal("SL-001000\0", b.otp:sub(11, 20))
  end)
end)
