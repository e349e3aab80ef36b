-- Encoders a recipe defines (issue 11 item 2): exact size, a decoder that
-- gives the value back, checked at load on the samples and literals.
local recipe = require("stotp.recipe")
local plan = require("stotp.plan")
local fake = require("fake_target")

local HEADER = 'product = "p"\nparts = { "stm32f4" }\njournal = "p.db"\nserials = { first = 1, last = 9999 }\n'

-- A hardware revision "A3" as one letter and one digit, in two bytes.
local REV = [[
local rev = encoder {
  name = "rev", size = 2,
  encode = function(v)
    local l, d = v:match("^(%u)(%d)$")
    if not l then return nil, "a revision is a letter and a digit, e.g. A3" end
    return l .. string.char(tonumber(d))
  end,
  decode = function(b) return b:sub(1, 1) .. b:byte(2) end,
  samples = { "A1", "C9" },
}
]]

local function load(body) return recipe.load_string(HEADER .. body, "p.cfg") end

local function plan_for(r, serial)
  local b = fake.board()
  return plan.build(r, { serial = serial, uid_bytes = b.uid_bytes, now = 0, key_fingerprints = {} },
    { otp = b.otp, locks = b.locks, block_size = 32 })
end

describe("recipe-defined encoders", function()
  it("encode literals, computed values and serials, and decode them back", function()
    local r = assert(load(REV .. 'local sn = encoder { name = "sn", size = 3, samples = { 0, 9999 },\n' ..
      '  encode = function(v) return string.pack(">I3", v * 2) end,\n' ..
      '  decode = function(b) return string.unpack(">I3", b) // 2 end }\n' ..
      'block(0) {\n  field "rev" { rev, "B2" },\n  field "s" { sn, serial },\n' ..
      '  field "r2" { rev, function(b) return b.serial < 100 and "A1" or "A2" end },\n}\n'))
    local p = plan_for(r, 42)
    assert.is_falsy(p.refused)
    assert.same({ "B\2", string.pack(">I3", 84), "A\1" }, { p.fields[1].new, p.fields[2].new, p.fields[3].new })
    local enc = r.by_name.rev.encoder
    assert.equal("B2", enc:decode("B\2"))
  end)

  local refused = {
    { "an encode that gives the wrong size", 'local e = encoder { name = "e", size = 2, samples = { 1 },\n' ..
      '  encode = function(v) return "abc" end, decode = function(b) return 1 end }\n',
      "p.cfg:5: encoder e: sample 1: encoder e gave 3 bytes for 1, not a string of 2 bytes" },
    { "a decode that does not give the value back", 'local e = encoder { name = "e", size = 1, samples = { 1, 2 },\n' ..
      '  encode = function(v) return string.char(v) end, decode = function(b) return 1 end }\n',
      "p.cfg:5: encoder e: sample 2: decode(encode(2)) gives 1, not the value back" },
    { "an encode that is not deterministic", 'local n = 0\nlocal e = encoder { name = "e", size = 1, samples = { 1 },\n' ..
      '  encode = function(v) n = n + 1 return string.char(n) end, decode = function(b) return 1 end }\n',
      "p.cfg:6: encoder e: sample 1: encoder e is not deterministic" },
    { "an encoder without decode", 'local e = encoder { name = "e", size = 1, samples = { 1 },\n' ..
      '  encode = function(v) return "x" end }\n', "p.cfg:5: encoder e: encode and decode must be functions" },
    { "an encoder without samples", 'local e = encoder { name = "e", size = 1,\n' ..
      '  encode = function(v) return "x" end, decode = function() return 1 end }\n',
      "p.cfg:5: encoder e: samples must list values to check encode and decode on" },
    { "a misspelt key", 'local e = encoder { name = "e", size = 1, sample = { 1 },\n' ..
      '  encode = function(v) return "x" end, decode = function() return 1 end }\n',
      "p.cfg:5: encoder: unknown key \"sample\"" },
    { "a size larger than a block", 'local e = encoder { name = "e", size = 65, samples = { 1 },\n' ..
      '  encode = function(v) return "x" end, decode = function() return 1 end }\n',
      "p.cfg:5: encoder e: size must be an integer 1..64" },
    { "a hole in the samples", 'local x\nlocal e = encoder { name = "e", size = 1, samples = { 1, x, 3 },\n' ..
      '  encode = function(v) return string.char(v) end, decode = function(b) return b:byte() end }\n',
      "p.cfg:6: encoder e: samples has no entry 2 but has 3 after it" },
    { "a literal the encoder cannot give back", REV .. 'block(0) { field "r" { rev, "B22" } }\n',
      "p.cfg:15: field 'r': a revision is a letter and a digit, e.g. A3" },
    { "a computed value the encoder refuses", REV .. 'block(0) { field "r" { rev, function() return "ZZ" end } }\n',
      "p.cfg:15: field 'r': on a sample board (serial 1) the function gives \"ZZ\": a revision is a letter and a digit" },
    { "an encoder that loops", 'local e = encoder { name = "e", size = 1, samples = { 1 },\n' ..
      '  encode = function(v) while true do end end, decode = function(b) return 1 end }\n', "the config runs too long" },
  }
  for _, row in ipairs(refused) do
    it("refuses " .. row[1] .. " at load", function()
      local r, err = load(row[2])
      assert.is_nil(r)
      assert.truthy(err:find(row[3], 1, true), err)
    end)
  end

  it("refuses the plan as a config error when the encoder fails on the board at hand", function()
    local r = assert(load(REV .. 'block(0) { field "r" { rev, function(b) return b.serial == 1 and "A1" or "?" end } }\n'))
    local p = plan_for(r, 2)
    assert.same({ true, true }, { p.refused, p.config_error })
    assert.truthy(p.reasons[1]:find("p.cfg:15: field 'r': a revision is a letter and a digit", 1, true), p.reasons[1])
  end)
end)
