-- Computed values (issue 11 item 1): a field's value as a function of the
-- board, deterministic, sandboxed, blind to keys, within every budget.
local recipe = require("stotp.recipe")
local plan = require("stotp.plan")
local fake = require("fake_target")
local testfiles = require("testfiles")
local station = require("station")

local HEADER = 'product = "p"\nparts = { "stm32f4" }\njournal = "p.db"\nserials = { first = 1, last = 99999 }\n'

local function load(body)
  return recipe.load_string(HEADER .. body, "p.cfg")
end

-- The plan of a blank F4 board with serial `serial`.
local function plan_for(r, serial)
  local b = fake.board()
  return plan.build(r, { serial = serial, uid_bytes = b.uid_bytes, now = 1700000000, product = r.product,
    part = "STM32F427/429/437/439", station = "line-1", key_fingerprints = {},
    random_key = function(fd) return ("\x11"):rep(fd.size) end,
    master = function(path) return r.master_keys[path] end },
    { otp = b.otp, locks = b.locks, block_size = 32 }), b
end

local function bytes_of(p, name)
  for _, e in ipairs(p.fields) do if e.name == name then return e.new end end
end

describe("computed values", function()
  it("computes a label from the serial", function()
    local r = assert(load('block(0) {\n  field "sn" { u32le, serial },\n' ..
      '  field "label" { ascii(10), function(board) return ("SN-%05d"):format(board.serial) end },\n}\n'))
    local p = plan_for(r, 42)
    assert.is_falsy(p.refused)
    assert.equal("SN-00042\0\0", bytes_of(p, "label"))
  end)

  it("reads the board view and the fields laid out before it", function()
    local r = assert(load('block(0) {\n  field "rev" { u8, 3 },\n  field "uidc" { bytes(12), uid },\n}\n' ..
      'block(1) { field "t1" { ascii(32), function(b) return table.concat({ b.product, b.station, b.now }, "|") end } }\n' ..
      'block(2) { field "t2" { ascii(32), function(b) return table.concat({ b.part:sub(1, 9), b.fields.rev, ' ..
      '#b.fields.uidc, b.uid:sub(1, 4) }, "|") end } }\n'))
    local p, b = plan_for(r, 7)
    local function padded(s) return s .. ("\0"):rep(32 - #s) end
    assert.equal(padded("p|line-1|1700000000"), bytes_of(p, "t1"))
    assert.equal(padded("STM32F427|3|12|" .. require("stotp.fields").tohex(b.uid_bytes):sub(1, 4)), bytes_of(p, "t2"))
  end)

  it("picks a value by serial range", function()
    local r = assert(load('block(0) {\n  field "sn" { u32le, serial },\n' ..
      '  field "hw" { u8, function(b) if b.serial < 1000 then return 1 elseif b.serial < 5000 then return 2 end ' ..
      'return 3 end },\n}\n'))
    assert.same({ "\1", "\2", "\3" }, { bytes_of(plan_for(r, 999), "hw"), bytes_of(plan_for(r, 1000), "hw"),
      bytes_of(plan_for(r, 90000), "hw") })
  end)

  local refused = {
    { "a counter in an upvalue", 'local n = 0\nblock(0) { field "a" { u8, function() n = n + 1 return n end } }\n',
      "p.cfg:6: field 'a': the function is not deterministic: it gave 1, then 2 for the same board" },
    { "a table address in format", 'local T = {}\nblock(0) { field "a" { ascii(20), function() return ("%p"):format(T) end } }\n',
      "format: %p prints an address, which changes from run to run" },
    { "a table address through %s", 'local T = {}\nblock(0) { field "a" { ascii(20), function() return ("%s"):format(T) end } }\n',
      "(a table has no stable text form)" },
    { "a table address through tostring", 'block(0) { field "a" { ascii(20), function() return tostring({}) end } }\n',
      "tostring of a table gives its address, which changes from run to run" },
    { "a key read from a value function", 'block(0) {\n  field "k" { bytes(16), random_key },\n' ..
      '  field "a" { u8, function(b) return b.fields.k:byte(1) end },\n}\n',
      "p.cfg:7: field 'a': p.cfg:7: board.fields.k is a key: computed values never see keys" },
    { "a field that comes later", 'block(0) {\n  field "a" { u8, function(b) return b.fields.z end },\n  field "z" { u8, 1 },\n}\n',
      "no field 'z' comes before 'a' in the layout" },
    { "a value the encoder cannot take", 'block(0) { field "a" { u8, function(b) return b.serial + 300 end } }\n',
      "p.cfg:5: field 'a': on a sample board (serial 1) the function gives \"301\": value 301 out of range 0..255 for u8" },
    { "a function that returns a table", 'block(0) { field "a" { u8, function() return {} end } }\n',
      "the function returned a table; a computed value is a number or a string" },
    { "a misspelt board key", 'block(0) { field "a" { u32le, function(b) return b.serail end } }\n',
      "board.serail: the board view has serial, uid, uid_bytes, now, product, part, station and fields" },
    { "an endless loop", 'block(0) { field "a" { u8, function() while true do end end } }\n', "the config runs too long" },
    { "a deep recursion", 'local function f(n) return f(n + 1) + 1 end\nblock(0) { field "a" { u8, function() return f(1) end } }\n',
      "the config recurses too deep" },
    { "a string bomb", 'block(0) { field "a" { u8, function() local s = ("x"):rep(2^30) return #s end } }\n',
      "p.cfg:5: field 'a': the config needs more than 64 MiB of memory" },
    { "a block defined from a value function", 'block(0) { field "a" { u8, function() block(5) { } return 1 end } }\n',
      "block can only be used while the config loads, not from a value function" },
    { "a setting changed from a value function", 'block(0) { field "a" { u8, function() product = "x" return 1 end } }\n',
      "the config's settings cannot change after it has loaded" },
  }
  for _, row in ipairs(refused) do
    it("refuses " .. row[1] .. " when the config loads", function()
      local r, err = load(row[2])
      assert.is_nil(r)
      assert.truthy(err:find(row[3], 1, true), err)
    end)
  end

  -- Every way out of a Lua 5.4 sandbox, tried from inside a value function:
  -- each must fail (the config is refused) without having done anything.
  local escapes = {
    "io.open('/tmp/pwned', 'w')", "os.execute('true')", "require('os')", "load('return 1')", "loadstring('x')",
    "dofile('/etc/passwd')", "loadfile('/etc/passwd')", "debug.getinfo(1)", "getmetatable('').__index",
    "setmetatable({}, {})", "rawset(_ENV, 'x', 1)", "rawget(_ENV, 'io')", "collectgarbage()", "pcall(print)",
    "xpcall(print, print)", "coroutine.create(print)", "next({})", "pairs({})", "_G.io", "package.loaded",
    "string.dump(print)", "(''):dump()", "math.random()", "print('x')", "_ENV.io",
  }
  for _, expr in ipairs(escapes) do
    it("gives a value function no way out: " .. expr, function()
      local r, err = load('block(0) { field "a" { u8, function() local x = ' .. expr .. ' return 1 end } }\n')
      assert.is_nil(r, expr .. " was allowed")
      assert.truthy(err:find("p.cfg:5: field 'a':", 1, true), err)
    end)
  end

  describe("at plan time", function()
    local BODY = 'block(0) {\n  field "sn" { u32le, serial },\n  field "a" { u8, function(b)\n' ..
      '    if b.serial == 1 then return 0 end\n%s\n  end },\n}\n'
    local cases = {
      { "a string bomb", 'local s = ("x"):rep(2^30) return #s',
        "p.cfg:7: field 'a': the config needs more than 64 MiB of memory" },
      { "an endless loop", "while true do end", "p.cfg:7: field 'a': p.cfg:9: the config runs too long" },
      { "an error", "error('no label for this board')", "p.cfg:7: field 'a': p.cfg:9: no label for this board" },
    }
    for _, c in ipairs(cases) do
      it("refuses the plan as a config error on " .. c[1] .. ", before any write", function()
        local r = assert(load(BODY:format(c[2])))
        local p = plan_for(r, 2)
        assert.same({ true, true }, { p.refused, p.config_error })
        assert.truthy(table.concat(p.reasons, "; "):find(c[3], 1, true), table.concat(p.reasons, "; "))
      end)
    end
  end)

  describe("end to end", function()
    local dir
    before_each(function() dir = testfiles.sandbox() end)
    after_each(function() os.execute("rm -rf " .. dir) end)

    it("refuses a non-deterministic function with exit 2 before opening the probe", function()
      testfiles.spit(dir .. "/n.cfg", HEADER .. 'local n = 0\nblock(0) { field "a" { u8, function() n = n + 1 return n end } }\n')
      local code, _, err = station.provision(dir, dir .. "/n.cfg --sim " .. dir .. "/n.img --yes")
      assert.equal(2, code)
      assert.truthy(err:find("not deterministic", 1, true), err)
      assert.is_nil(io.open(dir .. "/n.img"))
    end)

    it("stops with exit 2 when a function fails on the board at hand, writing nothing", function()
      testfiles.spit(dir .. "/e.cfg", HEADER .. 'block(0) { field "a" { u8, function(b)\n' ..
        '  if b.uid == "000102030405060708090A0B" then return 1 end\n  error("unknown board")\nend } }\n')
      local img = dir .. "/e.img"
      local code, out, err = station.provision(dir, dir .. "/e.cfg --sim " .. img .. " --yes")
      assert.equal(2, code, out .. err)
      assert.truthy(err:find("e.cfg:5: field 'a': " .. dir .. "/e.cfg:7: unknown board", 1, true), err)
      assert.equal(("\xFF"):rep(512), station.readback(dir, img).otp)
    end)

    it("burns a computed label that OpenOCD reads back", function()
      local openocd = require("openocd")
      testfiles.spit(dir .. "/l.cfg", HEADER .. 'block(0) {\n  field "sn" { u32le, serial },\n' ..
        '  field "label" { ascii(12), function(b) return ("SN-%06d"):format(b.serial) end },\n}\nlock { 0 }\n')
      local img = dir .. "/l.img"
      local code, _, err = station.provision(dir, dir .. "/l.cfg --sim " .. img .. " --sim-part stm32f429zi --yes")
      assert.equal(0, code, err)
      local got = openocd.run({ image = img, part = "stm32f429zi", dir = dir }, {}, { read = true })
      assert.truthy(got.otp, got.out)
      assert.equal(string.pack("<I4", 1) .. "SN-000001\0\0\0", got.otp:sub(1, 16))
      assert.equal("1", got.protected:sub(1, 1))
    end)
  end)
end)
