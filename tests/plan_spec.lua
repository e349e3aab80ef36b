-- stotp.plan: wanted bytes against the board's OTP -> write / same /
-- impossible per field, refusal of the whole plan, burn, verify, lock.
local recipe = require("stotp.recipe")
local plan = require("stotp.plan")
local fields = require("stotp.fields")
local keys = require("stotp.keys")
local fake = require("fake_target")

local CFG = [[
product = "p"
parts = { "stm32f4", "stm32f767" }
journal = "p.db"
serials = { first = 100, last = 999 }
block(0) {
  field "magic"  { u16be, 0xCAFE },
  field "serial" { u32le, serial },
  field "crc"    { crc16_ccitt, over = { "magic", "serial" } },
}
block(3) { field "key" { bytes(16), random_key } }
lock { 0 }
]]

local function setup(part)
  local r = assert(recipe.load_string(CFG, "p.cfg"))
  local b = fake.board(part)
  local t = fake.core({ x = b }).open({ serial = "x" }).attach()
  local key = ("\x11"):rep(16)
  local ctx = { serial = 123, first = 100, uid_bytes = b.uid_bytes, now = 0, key_fingerprints = {},
    random_key = function() return key end }
  local function build()
    return plan.build(r, ctx, { otp = t:otp_read(), locks = t:otp_locks(), block_size = t.otp.block_size })
  end
  return r, b, t, ctx, build, key
end

local function statuses(p)
  local s = {}
  for _, e in ipairs(p.fields) do s[e.name] = e.status end
  return s
end

describe("stotp.plan", function()
  it("plans every field of a blank board as a write, with the exact bytes", function()
    local _, _, _, _, build, key = setup()
    local p = build()
    assert.is_false(p.refused)
    assert.same({ magic = "write", serial = "write", crc = "write", key = "write" }, statuses(p))
    local crc = fields.crc16_ccitt_of("\xCA\xFE" .. string.pack("<I4", 123))
    assert.equal("\xCA\xFE" .. string.pack("<I4", 123) .. string.pack("<I2", crc), p.fields[1].new .. p.fields[2].new .. p.fields[3].new)
    assert.equal(3 * 32, p.fields[4].offset)
    assert.equal(key, p.fields[4].new)
    local block0 = "\xCA\xFE" .. string.pack("<I4", 123) .. string.pack("<I2", crc) .. ("\xFF"):rep(24)
    assert.same({ { block = 0, status = "lock", expect = block0, secret = false } }, p.locks)
    assert.same({ key = keys.fingerprint(key) }, p.key_fingerprints)
  end)

  it("places blocks by the part's block size (64 bytes on an F7)", function()
    local _, _, _, _, build = setup("stm32f767zi")
    assert.equal(3 * 64, build().fields[4].offset)
  end)

  it("burns, verifies and locks, and then finds nothing left to do", function()
    local _, b, t, _, build = setup()
    local p = build()
    local steps = {}
    assert.is_true(plan.burn(t, p, function(s) steps[#steps + 1] = s end))
    assert.is_true(plan.verify(t, p))
    assert.is_true(plan.lock(t, p, function(s) steps[#steps + 1] = s end))
    assert.same({ "write:magic", "write:serial", "write:crc", "write:key", "lock:0" }, steps)
    assert.is_true(b.locks[1])
    local again = build()
    assert.same({ magic = "same", serial = "same", crc = "same", key = "same" }, statuses(again))
    assert.is_true(again.complete)
  end)

  it("writes only the fields that are not there yet", function()
    local _, _, t, _, build = setup()
    assert(t:otp_write(0, "\xCA\xFE"))
    local p = build()
    assert.same({ magic = "same", serial = "write", crc = "write", key = "write" }, statuses(p))
    assert.equal(3, p.writes)
  end)

  it("refuses the whole plan when one field needs a bit from 0 to 1", function()
    local _, b, t, ctx, build = setup()
    ctx.recorded_payload = build().payload_sha256 -- this journal began this very burn
    assert(t:otp_write(2, "\x7A")) -- serial 123 = 7B: bit 0 of its first byte is gone
    local p = build()
    assert.is_true(p.refused)
    assert.same({ "field 'serial': byte +0 needs a bit from 0 to 1 (holds 7A, wanted 7B)" }, p.reasons)
    assert.is_nil(p.payload_sha256)
    assert.equal(1, #b.log)
  end)

  -- The re-burn of review item S1: 100001 = A1 86 01 00 -> 100000 = A0 86 01 00
  -- only clears bits, so the bit rule alone would let it through.
  it("refuses a value another journal burned even when clearing bits would reach the wanted one", function()
    local _, b, t, ctx, build = setup()
    assert(t:otp_write(2, string.pack("<I4", 127))) -- 7F: 123 (7B) is 7F with a bit cleared
    local p = build()
    assert.is_true(p.refused)
    assert.same({ "field 'serial': block 0 holds 7F 00 00 00, a different value than planned (7B 00 00 00); " ..
      "this board was provisioned before (another journal?)" }, p.reasons)
    ctx.recorded_payload = ("0"):rep(64)
    assert.same({ "field 'serial': block 0 holds 7F 00 00 00, a different value than planned (7B 00 00 00); " ..
      "the journal's record of this board planned another payload (was the recipe changed?)" }, build().reasons)
    assert.equal(1, #b.log)
  end)

  it("completes a field a crash left half burned when the journal recorded this payload", function()
    local _, _, t, ctx, build = setup()
    ctx.recorded_payload = build().payload_sha256
    assert(t:otp_write(0, "\xCA\xFE\x7B\x00")) -- magic whole, serial cut short after two bytes
    assert(t:otp_write(5, "\xF0"))               -- and its last byte half programmed
    local p = build()
    assert.is_false(p.refused)
    assert.same({ magic = "same", serial = "write", crc = "write", key = "write" }, statuses(p))
    ctx.recorded_payload = nil
    assert.equal("impossible", statuses(build()).serial)
  end)

  it("keeps random keys out of the payload hash, so a rerun that draws a new key can still complete", function()
    local _, _, t, ctx, build = setup()
    local h = build().payload_sha256
    ctx.random_key = function() return ("\x99"):rep(16) end
    assert.equal(h, build().payload_sha256)
    -- the hash is still over every other field's exact bytes
    local want = {}
    for _, f in ipairs({ { 0, "\xCA\xFE" }, { 2, string.pack("<I4", 123) } }) do
      want[#want + 1] = string.pack(">I2", f[1]) .. f[2]
    end
    local crc = fields.crc16_ccitt_of("\xCA\xFE" .. string.pack("<I4", 123))
    want[#want + 1] = string.pack(">I2", 6) .. string.pack("<I2", crc)
    assert.equal(keys.sha256_hex(table.concat(want)), h)
    assert(t:otp_write(96, ("\x99"):rep(8))) -- half a key a crash left: not completable
    ctx.recorded_payload = h
    local p = build()
    assert.same({ "field 'key': block 3 holds part of a random key (or of a value that depends on one) that a burn " ..
      "cut short, and no escrowed copy of that key exists, so it can never be completed: the block is spent. Set the " ..
      "board aside (do not lock it); a recipe with escrow = \"...\" lets a rerun finish such a burn (README, " ..
      "\"Random keys and escrow\")" }, p.reasons)
  end)

  it("locks each block against its whole planned contents and refuses when it reads back otherwise", function()
    local _, b, t, _, build = setup()
    local p = build()
    assert.is_true(plan.burn(t, p, function() end))
    assert.is_true(plan.verify(t, p))
    assert.is_true(plan.lock(t, p, function() end))
    local last = b.log[#b.log]
    assert.same({ "lock", 0, t:otp_read():sub(1, 32) }, { last.op, last.block, last.expect })
    local _, b2, t2, _, build2 = setup()
    local p2 = build2()
    assert(t2:otp_write(20, "\x00")) -- a byte outside every field changes after the plan
    assert.same({ nil, "locking block 0: block 0 differs from expect; nothing locked", "verify" },
      { plan.lock(t2, p2, function() end) })
    assert.is_false(b2.locks[1])
  end)

  it("locks in the last write's flash session, and plan.lock then steps without locking again", function()
    local _, b, t, _, build = setup()
    local p = build()
    local steps = {}
    assert.is_true(plan.burn(t, p, function(s) steps[#steps + 1] = s end))
    assert.is_true(b.locks[1])
    local n = #b.log
    assert.is_true(plan.lock(t, p, function(s) steps[#steps + 1] = s end))
    assert.equal(n, #b.log)
    assert.equal("lock:0", steps[#steps])
  end)

  it("writes nothing of the last write when a block it locks would read otherwise", function()
    local _, b, t, _, build = setup()
    local p = build()
    local key = p.fields[#p.fields]
    assert(t:otp_write(20, "\x00")) -- a byte outside every field changes after the plan
    local ok, err, code = plan.burn(t, p, function() end)
    assert.same({ nil, "verify" }, { ok, code })
    assert.truthy(err:find("lock: block 0 would differ", 1, true), err)
    assert.equal(("\xFF"):rep(key.size), t:otp_read():sub(key.offset + 1, key.offset + key.size))
    assert.is_false(b.locks[1])
  end)

  it("lists the MAC addresses it derives from the serial", function()
    local r = assert(recipe.load_string([[
product = "m"
parts = { "stm32f4" }
journal = "m.db"
serials = { first = 10, last = 20 }
block(0) { field "mac" { mac, from_serial("02:00:00:00:00:00", 5) } }
]], "m.cfg"))
    local p = plan.build(r, { serial = 12, key_fingerprints = {} },
      { otp = ("\xFF"):rep(512), locks = {}, block_size = 32 })
    assert.same({ mac = 0x020000000007 }, p.macs)
    assert.equal("\x02\x00\x00\x00\x00\x07", p.fields[1].new)
  end)

  it("refuses a write into a locked block but accepts bytes already there", function()
    local _, _, t, _, build = setup()
    assert(t:otp_lock(3, { expect = { [3] = ("\xFF"):rep(32) } }))
    local p = build()
    assert.is_true(p.refused)
    assert.same({ "field 'key': block 3 is locked" }, p.reasons)
  end)

  it("keeps a recorded random key already in OTP and refuses an unknown one", function()
    local _, _, t, ctx, build = setup()
    local old = ("\x22"):rep(16)
    assert(t:otp_write(96, old))
    ctx.key_fingerprints = { key = keys.fingerprint(old) }
    assert.same("same", statuses(build()).key)
    ctx.key_fingerprints = { key = "sha256:0000000000000000" }
    local p = build()
    assert.equal("impossible", statuses(p).key)
  end)

  it("shows keys only as fingerprints in the diff", function()
    local _, _, _, _, build, key = setup()
    local text = table.concat(plan.diff_lines(build()), "\n")
    assert.falsy(text:find(fields.tohex(key, " "), 1, true))
    assert.falsy(text:find(fields.tohex(key), 1, true))
    assert.truthy(text:find("(blank) -> key " .. keys.fingerprint(key), 1, true))
    assert.truthy(text:find("(blank) -> CA FE", 1, true))
  end)

  it("gives the same payload hash for the same bytes and another for others", function()
    local _, _, _, ctx, build = setup()
    local h1, h2 = build().payload_sha256, build().payload_sha256
    ctx.serial = 124
    assert.equal(h1, h2)
    assert.not_equal(h1, build().payload_sha256)
  end)

  it("stops and reports when the read-back differs", function()
    local _, b, t, _, build = setup()
    local p = build()
    p.locks = {} -- nothing locked with the last write: plan.verify sees it
    b.corrupt_after_write = true
    assert.is_true(plan.burn(t, p, function() end))
    assert.same({ nil, "field 'magic' reads back different from what was burned", "verify" }, { plan.verify(t, p) })
  end)

  it("shows a lock byte that is neither 00 nor FF as it is", function()
    local r = assert(recipe.load_string(CFG, "p.cfg"))
    local b = fake.board()
    local lock_bytes = "\x5A" .. ("\xFF"):rep(15)
    local p = plan.build(r, { serial = 100, uid_bytes = b.uid_bytes, now = 0, key_fingerprints = {},
      random_key = function() return ("\x11"):rep(16) end },
      { otp = b.otp, locks = b.locks, lock_bytes = lock_bytes, block_size = 32 })
    local lines = plan.diff_lines(p)
    assert.equal("  lock   0                                lock       5A -> 00  (a lock cut short?)", lines[#lines - 1])
  end)
end)
