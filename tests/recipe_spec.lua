-- stotp.recipe: board.cfg in a sandbox -> checked layout, or an error that
-- names file, line and field.
local testfiles = require("testfiles")
local write = testfiles.spit
local recipe = require("stotp.recipe")
local bad = require("bad_configs")

local tmpdir = testfiles.sandbox


describe("stotp.recipe", function()
  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("loads the illustration of issue 4 into an ordered, placed layout", function()
    write(dir .. "/keys/master.key", ("5a"):rep(32))
    write(dir .. "/board.cfg", [[
product = "sensor-c"
parts   = { "stm32f4" }
journal = "provision.db"
serials = { first = 100000, last = 199999 }
block(0) {
  field "magic"  { u32le, 0x53454E43 },
  field "serial" { u32le, serial },
  field "hw_rev" { u8, 3 },
  field "mac"    { mac, from_serial("02:80:E1:00:00:00", 100000) },
  field "crc"    { crc32, over = { "magic", "serial", "hw_rev", "mac" } },
}
block(1) { field "device_key" { bytes(16), derived_key("keys/master.key", "device-key") } }
lock { 1, 0 }
]])
    local r = assert(recipe.load_file(dir .. "/board.cfg"))
    assert.equal("sensor-c", r.product)
    assert.same({ "stm32f4" }, r.parts)
    assert.equal(dir .. "/provision.db", r.journal)
    assert.same({ first = 100000, last = 199999 }, r.serials)
    local placed = {}
    for _, f in ipairs(r.fields) do placed[#placed + 1] = { f.name, f.block, f.at, f.size } end
    assert.same({ { "magic", 0, 0, 4 }, { "serial", 0, 4, 4 }, { "hw_rev", 0, 8, 1 }, { "mac", 0, 9, 6 },
      { "crc", 0, 15, 4 }, { "device_key", 1, 0, 16 } }, placed)
    assert.same({ 0, 1 }, r.locks)
    assert.equal(("\x5a"):rep(32), r.master_keys["keys/master.key"])
    assert.equal(32, r.block_size)
  end)

  it("sizes blocks by the parts a config accepts", function()
    assert.same({ [64] = true }, recipe.block_sizes("stm32f767"))
    assert.same({ [32] = true }, recipe.block_sizes("stm32f722"))
    assert.same({ [32] = true, [64] = true }, recipe.block_sizes("stm32f7"))
    assert.same({}, recipe.block_sizes("stm32f1"))
  end)

  it("accepts a target by the part numbers of its line name", function()
    local r = { parts = { "stm32f4", "stm32f767zi" } }
    assert.same({ "stm32f427", "stm32f429", "stm32f437", "stm32f439" }, recipe.part_numbers("STM32F427/429/437/439"))
    assert.same({ "stm32f401" }, recipe.part_numbers("STM32F401xD/E"))
    assert.is_true(recipe.accepts(r, "STM32F427/429/437/439"))
    assert.is_true(recipe.accepts(r, "STM32F401xD/E"))
    assert.is_true(recipe.accepts(r, "STM32F765/767/769/777/779"))
    assert.is_false(recipe.accepts(r, "STM32F745/746/750/756"))
    assert.is_false(recipe.accepts(r, "STM32F205/207/215/217"))
    assert.is_false(recipe.accepts({ parts = { "stm32f2" } }, "STM32F722/723/730/732/733"))
  end)

  it("leaves the globals of the station untouched", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    write(dir .. "/g.cfg", bad.HEADER .. 'local x = 1\nblock(0) { field "a" { u8, x } }\n')
    assert(recipe.load_file(dir .. "/g.cfg"))
    for k in pairs(_G) do assert.is_true(before[k], k) end
  end)

  it("turns an error no check foresaw into a placed message, not a traceback", function()
    local keys = require("stotp.keys")
    local load_master = keys.load_master
    keys.load_master = function() error("unforeseen", 0) end
    write(dir .. "/n.cfg", bad.HEADER .. 'block(1) {\n  field "k" { bytes(16), derived_key("keys/k.key", "dev") },\n}\n')
    local ok, r, err = pcall(recipe.load_file, dir .. "/n.cfg")
    keys.load_master = load_master
    assert.same({ true, nil, dir .. "/n.cfg:6: field 'k': cannot check this value: unforeseen" }, { ok, r, err })
  end)

  it("gives every config its own, unchangeable vocabulary", function()
    write(dir .. "/m.cfg", bad.HEADER .. 'u8.size = 0\n')
    assert.is_nil((recipe.load_file(dir .. "/m.cfg")))
    local fields = require("stotp.fields")
    assert.same({ 1, "\x07" }, { fields.u8.size, fields.u8:encode(7) })
  end)

  it("reads a config that starts with a UTF-8 byte-order mark, as lua5.4 reads a file", function()
    write(dir .. "/bom.cfg", "\239\187\191" .. bad.HEADER .. 'block(0) { field "a" { u8, 1 } }\n')
    local r = assert(recipe.load_file(dir .. "/bom.cfg"))
    assert.equal("t", r.product)
  end)

  it("refuses precompiled Lua, naming the file", function()
    write(dir .. "/bc.cfg", string.dump(function() end))
    assert.same({ nil, dir .. "/bc.cfg: is precompiled Lua (bytecode); a recipe must be Lua source text" },
      { recipe.load_file(dir .. "/bc.cfg") })
  end)

  it("stops a pattern search that would run for ever, within the CPU-time budget", function()
    local sandbox = require("stotp.sandbox")
    local saved = sandbox.MAX_MS
    sandbox.MAX_MS = 300
    write(dir .. "/slow.cfg", bad.HEADER .. 'local s = ("a"):rep(100000)\nlocal x = s:find(".-.-.-.-.-b")\n')
    local r, err = recipe.load_file(dir .. "/slow.cfg")
    sandbox.MAX_MS = saved
    assert.same({ nil, dir .. "/slow.cfg: the config needs more than 0.3 s of CPU time (a pattern or string function on " ..
      "a huge input?)" },
      { r, err })
  end)

  it("refuses a key file that is a FIFO without opening it (a reader would block for ever)", function()
    os.execute("mkdir -p " .. dir .. "/keys && mkfifo " .. dir .. "/keys/fifo.key")
    write(dir .. "/f.cfg", bad.HEADER .. 'block(1) { field "k" { bytes(16), derived_key("keys/fifo.key", "dev") } }\n')
    assert.same({ nil, dir .. "/f.cfg:5: field 'k': key file " .. dir .. "/keys/fifo.key is a fifo, not a regular file" },
      { recipe.load_file(dir .. "/f.cfg") })
  end)

  describe("with a master key file other users can reach", function()
    local body = 'block(1) { field "k" { bytes(16), derived_key("keys/k.key", "dev") } }\n'
    before_each(function()
      write(dir .. "/keys/k.key", ("5a"):rep(32))
      os.execute("chmod 644 " .. dir .. "/keys/k.key")
    end)

    it("loads it with a warning that names the file and the fix", function()
      write(dir .. "/w.cfg", bad.HEADER .. body)
      local r = assert(recipe.load_file(dir .. "/w.cfg"))
      local path = dir .. "/keys/k.key"
      assert.same({ dir .. "/w.cfg:5: field 'k': key file " .. path .. " can be read by other users (mode 0644): " ..
        "chmod 600 " .. path }, r.warnings)
    end)

    it("refuses it when the recipe sets strict_key_files", function()
      write(dir .. "/s.cfg", bad.HEADER .. "strict_key_files = true\n" .. body)
      local r, err = recipe.load_file(dir .. "/s.cfg")
      assert.is_nil(r)
      assert.matches("s.cfg:6: field 'k': key file .* can be read by other users %(mode 0644%).*%(strict_key_files is set%)",
        err)
    end)

    it("loads a private one without a warning", function()
      os.execute("chmod 600 " .. dir .. "/keys/k.key")
      write(dir .. "/p.cfg", bad.HEADER .. "strict_key_files = true\n" .. body)
      assert.same({}, assert(recipe.load_file(dir .. "/p.cfg")).warnings)
    end)
  end)

  describe("refuses a malformed config", function()
    for _, row in ipairs(bad.rows) do
      it("with " .. row[1] .. ", naming the place", function()
        if row.key then write(dir .. "/keys/k.key", row.key) end
        write(dir .. "/bad.cfg", bad.HEADER .. row[2])
        local r, err = recipe.load_file(dir .. "/bad.cfg")
        assert.is_nil(r)
        local shown = err:gsub(dir .. "/", "", 1)
        assert.truthy(shown:find(row[3], 1, true), "got: " .. shown)
        if row.also then assert.truthy(shown:find(row.also, 1, true), "got: " .. shown) end
        assert.is_nil(io.open(dir .. "/pwned"))
      end)
    end
  end)
end)

-- The recipe's time budget is CPU time, so a loaded machine (a sanitized
-- `make check` on a busy CI host) does not end a recipe that would finish;
-- a child that neither finishes nor uses CPU is killed at 10 times the
-- budget of wall time.
describe("stotp.core.run_bounded", function()
  local core = require("stotp.core")

  it("ends a child that spends its CPU budget, with 'time'", function()
    assert.same({ false, "time", "" }, { core.run_bounded(function() while true do end end, 1 << 20, 200) })
  end)

  it("lets a child run past its budget of wall time while it uses no CPU", function()
    -- sleep(1) is another process: its time is not the child's CPU time
    assert.same({ true }, { core.run_bounded(function() os.execute("sleep 0.5") end, 1 << 20, 200) })
  end)

  it("kills a child that neither finishes nor uses CPU, at 10 times the budget of wall time", function()
    assert.same({ false, "time", "" }, { core.run_bounded(function() os.execute("sleep 30") end, 1 << 20, 100) })
  end)

  it("ends a child that asks for more memory than its budget, with 'memory'", function()
    local ok, why = core.run_bounded(function() local t = {} for i = 1, 1e7 do t[i] = i end return t end, 1 << 20, 5000)
    assert.same({ false, "memory" }, { ok, why })
  end)
end)
