-- A station worker loads its recipe once per board (stotp provision's own
-- code path). With a memo (the worker's), a recipe whose text, included
-- files and master keys are those of the last load that passed skips the
-- bounded child (stotp.sandbox: the same inputs compute the same), and is
-- still loaded and checked here, afresh, every time.
local recipe = require("stotp.recipe")
local testfiles = require("testfiles")
local core = require("stotp.core")
local write = testfiles.spit

local BASE = 'product = "base"; parts = { "stm32f4" }; journal = "line.db"; serials = { first = 1, last = 999 }\n' ..
  'block(0) { field "serial" { u16le, serial }, field "model" { ascii(6), "BASE" } }\nlock { 0 }\n'

local KEYED = [[
include "base.cfg"
product = "keyed"
block(1) { field "k" { bytes(16), derived_key("keys/master.key", "k") } }
]]

local KEY_A = string.rep("a1", 32) .. "\n"
local KEY_B = string.rep("b2", 32) .. "\n"

describe("stotp.recipe.load_file with a memo", function()
  local dir, children, real
  before_each(function()
    dir = testfiles.sandbox()
    write(dir .. "/base.cfg", BASE)
    write(dir .. "/v.cfg", KEYED)
    write(dir .. "/keys/master.key", KEY_A)
    os.execute("chmod 600 " .. dir .. "/keys/master.key")
    children, real = 0, core.run_bounded
    core.run_bounded = function(...)
      children = children + 1
      return real(...)
    end
  end)
  after_each(function()
    core.run_bounded = real
    os.execute("rm -rf " .. dir)
  end)

  local function key_of(r) return r.master_keys[next(r.master_keys)] end

  it("checks an unchanged recipe in the bounded child once, and loads it afresh each time", function()
    local memo = {}
    local r1 = assert(recipe.load_file(dir .. "/v.cfg", memo))
    local r2 = assert(recipe.load_file(dir .. "/v.cfg", memo))
    local r3 = assert(recipe.load_file(dir .. "/v.cfg", memo))
    assert.equal(1, children)
    assert.are_not.equal(r1, r2)
    assert.are_not.equal(r2.fields, r3.fields)
    assert.equal("keyed", r3.product)
    assert.equal(key_of(r1), key_of(r3))
  end)

  it("checks every load in the child without a memo (stotp provision)", function()
    assert(recipe.load_file(dir .. "/v.cfg"))
    assert(recipe.load_file(dir .. "/v.cfg"))
    assert.equal(2, children)
  end)

  -- one row per input whose change must send the next load through the child
  local CHANGES = {
    { "its text", function() write(dir .. "/v.cfg", KEYED .. "-- edited\n") end },
    { "a file it includes", function() write(dir .. "/base.cfg", BASE .. "-- edited\n") end },
    { "a master key file it derives from", function() write(dir .. "/keys/master.key", KEY_B) end },
  }
  for _, row in ipairs(CHANGES) do
    it("checks the recipe in the child again once " .. row[1] .. " changes", function()
      local memo = {}
      local r1 = assert(recipe.load_file(dir .. "/v.cfg", memo))
      row[2]()
      local r2 = assert(recipe.load_file(dir .. "/v.cfg", memo))
      assert.equal(2, children)
      assert(recipe.load_file(dir .. "/v.cfg", memo))
      assert.equal(2, children)
      if row[1]:find("key") then assert.are_not.equal(key_of(r1), key_of(r2)) end
    end)
  end

  it("refuses a recipe edited into a memory bomb after a load that passed, in the child", function()
    local memo = {}
    assert(recipe.load_file(dir .. "/v.cfg", memo))
    write(dir .. "/v.cfg", KEYED .. 'local s = ("x"):rep(1 << 30)\n')
    local r, err = recipe.load_file(dir .. "/v.cfg", memo)
    assert.is_nil(r)
    assert.matches("the config needs more than 64 MiB of memory", err, 1, true)
    assert.equal(2, children)
  end)

  it("refuses a config error every time, never remembering it", function()
    local memo = {}
    write(dir .. "/v.cfg", KEYED .. 'product = 5\n')
    local _, e1 = recipe.load_file(dir .. "/v.cfg", memo)
    local _, e2 = recipe.load_file(dir .. "/v.cfg", memo)
    assert.is_string(e1)
    assert.equal(e1, e2)
    assert.equal(2, children)
  end)
end)
