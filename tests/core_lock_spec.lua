-- safety rule 4 in stotp.core: a lock byte is written only after the
-- block's data has been verified, by this handle's own successful write or
-- against the caller's `expect`; a failed write leaves its blocks
-- unverified. Run through both transports.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-lock.img"
local PART, PROBE = "stm32f429zi", "v2-1:J40M27"
local FF = "\xFF"
local WANT = "\x10\x20\x30\x40"
-- bit 0 of data byte 3 stays 1 (vprobe fault): 0x40 reads back 0x41
local STUCK = "stuck@3:1"

local function open(transport, fault)
  return assert(kit.open(transport, IMG, PART, PROBE, { fault = fault }))
end

-- Runs f(target) on a new connection; returns its results and whether the
-- image file changed.
local function on_fresh_handle(transport, f)
  local before = kit.slurp(IMG)
  local p = open(transport)
  local res = table.pack(f(assert(p:attach())))
  p:close()
  return res, kit.slurp(IMG) ~= before
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core otp_lock (" .. transport .. ")", function()
    before_each(function() os.remove(IMG) end)

    it("refuses to lock a block a failed write left unverified, changing nothing", function()
      local p = open(transport, STUCK)
      local t = assert(p:attach())
      local w = { t:otp_write(0, WANT) }
      assert.same({ nil, "verify" }, { w[1], w[3] })
      local before = t:otp_read()
      p:trace(true)
      local r = { t:otp_lock(0) }
      local writes = kit.writes(p:trace(false))
      assert.same({ nil, "verify" }, { r[1], r[3] })
      assert.matches("block 0 holds data a failed write left unverified (0x1FFF7800): nothing locked", r[2], 1, true)
      assert.same({}, writes)                    -- not even the flash keys
      assert.equal(before, t:otp_read())
      assert.is_false(t:otp_locks()[1])
      p:close()
      assert.equal(string.rep(FF, 16), kit.image_locks(IMG))
    end)

    it("after a failed write, locks only against an expect that matches the read-back", function()
      local p = open(transport, STUCK)
      local t = assert(p:attach())
      assert.is_nil((t:otp_write(0, WANT)))
      local wanted = WANT .. FF:rep(28)
      local r = { t:otp_lock(0, { expect = { [0] = wanted } }) }
      assert.same({ nil, "verify" }, { r[1], r[3] })
      assert.matches("block 0 differs from expect at offset 0x3 (0x1FFF7803): reads 0x41, expected 0x40; nothing locked",
                     r[2], 1, true)
      assert.is_false(t:otp_locks()[1])
      -- the caller accepts what the block really holds
      local held = "\x10\x20\x30\x41" .. FF:rep(28)
      assert.equal(held, t:otp_read():sub(1, 32))
      assert.is_true((t:otp_lock(0, { expect = { [0] = held } })))
      assert.is_true(t:otp_locks()[1])
      p:close()
    end)

    it("locks a block written by another handle only against expect", function()
      local p = open(transport)
      local data = kit.pattern(64, 3, 1, 0x7F)
      assert.is_true((assert(p:attach()):otp_write(0, data)))
      p:close()
      local res, changed = on_fresh_handle(transport, function(t) return t:otp_lock(0) end)
      assert.same({ nil, "verify" }, { res[1], res[3] })
      assert.matches("block 0 was not written and verified through this handle: nothing locked", res[2], 1, true)
      assert.is_false(changed)
      -- one block named wrong refuses the whole call
      res, changed = on_fresh_handle(transport, function(t)
        return t:otp_lock({ 0, 1 }, { expect = { [0] = data:sub(1, 32), [1] = data:sub(1, 32) } })
      end)
      assert.same({ nil, "verify" }, { res[1], res[3] })
      assert.matches("block 1 differs from expect at offset 0x20", res[2], 1, true)
      assert.is_false(changed)
      res = on_fresh_handle(transport, function(t)
        return t:otp_lock({ 0, 1 }, { expect = { [0] = data:sub(1, 32), [1] = data:sub(33, 64) } })
      end)
      assert.is_true(res[1])
      assert.equal("\0\0" .. FF:rep(14), kit.image_locks(IMG))
    end)

    it("locks a block this handle wrote and verified without expect, next to one given by expect", function()
      local p = open(transport)
      local t = assert(p:attach())
      assert.is_true((t:otp_write(32, "\x5A")))
      assert.is_true((t:otp_lock(1, 2, { expect = { [2] = FF:rep(32) } })))
      p:close()
      assert.equal(FF .. "\0\0" .. FF:rep(13), kit.image_locks(IMG))
    end)

    it("a later successful write of the block's bytes verifies them again", function()
      local p = open(transport, STUCK)
      local t = assert(p:attach())
      assert.is_nil((t:otp_write(0, WANT)))
      -- what the stuck cell allows: every byte already holds it, nothing is
      -- written, and the read proves the range
      local ok, st = t:otp_write(0, "\x10\x20\x30\x41")
      assert.is_true(ok)
      assert.equal(0, st.bytes)
      assert.is_true((t:otp_lock(0)))
      p:close()
      assert.equal("\0" .. FF:rep(15), kit.image_locks(IMG))
    end)
  end)
end
