-- A random key cut short half-way (issue 7 item 5): with an escrow the
-- rerun finishes it, without one the block is declared spent before
-- anything else is written.
local keys = require("stotp.keys")
local recipe = require("stotp.recipe")
local station = require("station")
local testfiles = require("testfiles")
local slurp, write = testfiles.slurp, testfiles.spit
local dkjson = require("dkjson")

local KEK = ("c3"):rep(32)

-- examples/f7-gateway.cfg (a 16-byte random_key at block 2 +42, burned in
-- x16, x32 and x16 units) with an escrow, or as it is.
local function gateway(dir, with_escrow)
  local cfg = station.copy_example(dir, "f7-gateway.cfg")
  if with_escrow then
    write(dir .. "/keys/escrow.kek", KEK)
    os.execute("chmod 600 " .. dir .. "/keys/escrow.kek")
    write(cfg, slurp(cfg) .. '\nescrow = "keys/escrow.kek"\n')
  end
  return cfg
end

-- What one provisioning run leaves: exit status, result, image bytes.
local function run(dir, cfg, img, env)
  local code, out, err = station.provision(dir, cfg .. " --sim " .. img .. " --sim-part stm32f767zi --yes --json", env)
  return code, dkjson.decode(out) or {}, err
end

local function key_in(b) return b.otp:sub(2 * 64 + 43, 2 * 64 + 58) end

-- A board whose burn lost power in the middle of the key: the image.
local function cut_in_key(dir, cfg)
  for n = 1, 60 do
    local img = dir .. "/cut" .. n .. ".img"
    assert.equal(1, (station.provision(dir, cfg .. " --sim " .. img .. " --sim-part stm32f767zi --yes",
      "VPROBE_FAULT=powerloss@" .. n)))
    if key_in(station.readback(dir, img)) ~= ("\xFF"):rep(16) then return img end
  end
  error("no power loss fell in the key")
end

describe("stotp.keys wrap", function()
  it("unwraps what it wrapped, and refuses another key-encryption key", function()
    local kek, other = ("\1"):rep(32), ("\2"):rep(32)
    local w = keys.wrap(kek, ("\x5A"):rep(16))
    assert.equal(16 + 24, #w)
    assert.equal(("\x5A"):rep(16), keys.unwrap(kek, w))
    assert.is_nil(keys.unwrap(other, w))
    assert.is_nil(keys.unwrap(kek, w:sub(1, 39) .. "\0"))
    assert.is_nil(keys.unwrap(kek, w:sub(1, 20)))
  end)
end)

describe("stotp.plan burn of a random key", function()
  it("writes it in one pass at the widest width its place allows, other fields as the core likes", function()
    local plan = require("stotp.plan")
    local calls = {}
    local target = { otp_write = function(_, offset, bytes, opts)
      calls[#calls + 1] = { offset, #bytes, opts and opts.width or false }
      return true
    end }
    local p = { fields = {
      { name = "a", status = "write", offset = 170, size = 16, new = ("\0"):rep(16), random = true },
      { name = "b", status = "write", offset = 192, size = 16, new = ("\0"):rep(16), random = true },
      { name = "c", status = "write", offset = 209, size = 3, new = ("\0"):rep(3), random = true },
      { name = "d", status = "write", offset = 0, size = 4, new = ("\0"):rep(4), random = false },
    } }
    assert(plan.burn(target, p, function() end))
    assert.same({ { 170, 16, 16 }, { 192, 16, 32 }, { 209, 3, 8 }, { 0, 4, false } }, calls)
  end)
end)

describe("recipe escrow setting", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("loads the key-encryption key next to the config", function()
    local r = assert(recipe.load_file(gateway(dir, true)))
    assert.equal(dir .. "/keys/escrow.kek", r.escrow.path)
    assert.equal(("\xC3"):rep(32), r.escrow.kek)
  end)

  it("refuses an escrow when no field is a random key", function()
    write(dir .. "/keys/escrow.kek", KEK)
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    write(cfg, slurp(cfg) .. '\nescrow = "keys/escrow.kek"\n')
    local r, err = recipe.load_file(cfg)
    assert.is_nil(r)
    assert.matches("sensor%-mac.cfg:%d+: escrow is set, but no field is a random_key: nothing to escrow", err)
  end)

  it("refuses a missing key-encryption key before any probe is opened", function()
    local cfg = gateway(dir, true)
    os.remove(dir .. "/keys/escrow.kek")
    local code, _, err = station.provision(dir, cfg .. " --sim " .. dir .. "/n.img --yes")
    assert.equal(2, code)
    assert.truthy(err:find("escrow: cannot read key file " .. dir .. "/keys/escrow.kek", 1, true), err)
    assert.is_nil(io.open(dir .. "/n.img"))
  end)
end)

describe("provision.lua with a random key cut short", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("finishes the same key on a rerun after a power loss at every program operation, with an escrow", function()
    local cfg = gateway(dir, true)
    local cuts_in_key = 0
    for n = 1, 60 do
      local img = dir .. "/e" .. n .. ".img"
      local code = run(dir, cfg, img, "VPROBE_FAULT=powerloss@" .. n)
      if code == 0 then break end
      assert.equal(1, code, "powerloss@" .. n)
      local partial = key_in(station.readback(dir, img))
      if partial ~= ("\xFF"):rep(16) then cuts_in_key = cuts_in_key + 1 end
      local code2, r, err2 = run(dir, cfg, img)
      assert.equal(0, code2, "powerloss@" .. n .. ": " .. err2)
      local b = station.readback(dir, img)
      assert.equal(r.key_fingerprints.pairing_key, keys.fingerprint(key_in(b)), "powerloss@" .. n)
      assert.equal("0010000000000000", b.locks)
      -- The finished key is the one the first run drew: every bit the cut
      -- run cleared is still clear.
      for i = 1, 16 do assert.equal(0, key_in(b):byte(i) & ~partial:byte(i), "powerloss@" .. n) end
    end
    assert.is_true(cuts_in_key >= 3, "only " .. cuts_in_key .. " cuts fell in the key")
    -- Verified boards keep no wrapped key.
    local journal = station.journal_text(dir .. "/e1.img.journal.db")
    assert.falsy(journal:find("wrapped", 1, true))
  end)

  it("finishes it after a kill right after the key's write and right after the escrow commit", function()
    local cfg = gateway(dir, true)
    for i, step in ipairs({ "recorded", "write:pairing_key", "burned" }) do
      local img = dir .. "/k" .. i .. ".img"
      assert.equal(137, (run(dir, cfg, img, "STOTP_TEST_CRASH_AT=" .. step)), step)
      local code, r, err = run(dir, cfg, img)
      assert.equal(0, code, step .. ": " .. err)
      assert.equal(r.key_fingerprints.pairing_key, keys.fingerprint(key_in(station.readback(dir, img))), step)
    end
  end)

  it("journals only the wrapped key and fingerprints while a burn is unfinished", function()
    local cfg = gateway(dir, true)
    local img = dir .. "/w.img"
    assert.equal(1, (run(dir, cfg, img, "VPROBE_FAULT=powerloss@12")))
    local env = require("luasql.sqlite3").sqlite3()
    local conn = assert(env:connect(img .. ".journal.db"))
    local cur = assert(conn:execute("SELECT wrapped, key_fingerprint, kek_fingerprint FROM stotp_escrow"))
    local row = cur:fetch({}, "a")
    cur:close(); conn:close(); env:close()
    local key = keys.unwrap(("\xC3"):rep(32), (row.wrapped:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)))
    assert.equal(row.key_fingerprint, keys.fingerprint(key))
    assert.equal(keys.fingerprint(("\xC3"):rep(32)), row.kek_fingerprint)
    local text = station.journal_text(img .. ".journal.db")
    for _, form in ipairs(station.secret_forms(key)) do assert.falsy(text:find(form, 1, true)) end
  end)

  it("refuses a rerun under another key-encryption key, writing nothing", function()
    local cfg = gateway(dir, true)
    local img = cut_in_key(dir, cfg)
    write(dir .. "/keys/escrow.kek", ("d4"):rep(32))
    local before = slurp(img)
    local code, r = run(dir, cfg, img)
    assert.equal(1, code)
    assert.truthy(r.reason:find("was escrowed under another key-encryption key", 1, true), r.reason)
    assert.equal(before, slurp(img))
  end)

  it("warns before the burn, and declares the block spent on the rerun, without an escrow", function()
    local cfg = gateway(dir, false)
    local _, out0 = station.provision(dir, cfg .. " --sim " .. dir .. "/dry.img --sim-part stm32f767zi --dry-run")
    assert.truthy(out0:find("note: field 'pairing_key' is a random key without escrow: if this burn is cut short " ..
      "while it is written, block 2 can never be completed", 1, true), out0)
    local img = cut_in_key(dir, cfg)
    local before = slurp(img)
    local code2, r = run(dir, cfg, img)
    assert.equal(1, code2)
    assert.truthy(r.reason:find("holds part of a random key (or of a value that depends on one) that a burn cut " ..
      "short, and no escrowed copy of that key exists, so it can never be completed: the block is spent", 1, true),
      r.reason)
    assert.equal(before, slurp(img))
  end)
end)
