-- The contract the provisioning layer relies on, run against both the
-- pure-Lua fake target (tests/support/fake_target.lua, used by the plan and
-- CLI specs) and the real stotp.core on an in-process virtual board, so the
-- fake cannot drift from what it stands in for (issue 9 item 7).
local fake = require("fake_target")

local BLANK = ("\xFF"):rep(32)

local implementations = {
  { "the fake target", function()
    local t = fake.core({}).open({ sim = "x", sim_part = "stm32f429zi" }).attach()
    return t, function() end
  end },
  { "stotp.core on a virtual board", function()
    local stotp = require("stotp")
    local path = os.tmpname()
    os.remove(path)
    local p = assert(stotp.open({ sim = path, sim_part = "stm32f429zi" }))
    local t = assert(p:attach())
    return t, function()
      t:close()
      p:close()
      os.remove(path)
      os.remove(path .. ".lock")
    end
  end },
}

for _, impl in ipairs(implementations) do
  describe("target contract: " .. impl[1], function()
    local t, done
    before_each(function() t, done = impl[2]() end)
    after_each(function() done() end)

    it("names the part and its 12-byte UID", function()
      assert.equal("STM32F427/429/437/439", t.name)
      assert.equal("F4", t.family)
      assert.equal(12, #t.uid_bytes)
      assert.equal(require("stotp.fields").tohex(t.uid_bytes), t.uid)
      assert.truthy(t.uid:find("^%x+$") and #t.uid == 24)
      assert.same({ 16, 32 }, { t.otp.blocks, t.otp.block_size })
    end)

    it("reads a blank OTP as 0xFF and sixteen open lock bytes", function()
      assert.equal(("\xFF"):rep(512), t:otp_read())
      local locks = t:otp_locks()
      assert.equal(16, #locks)
      for i = 1, 16 do assert.is_false(locks[i]) end
    end)

    it("programs by clearing bits and reads the bytes back", function()
      assert.is_true((t:otp_write(33, "\x12\x34")))
      assert.equal("\xFF\x12\x34" .. ("\xFF"):rep(29), t:otp_read():sub(33, 64))
    end)

    it("refuses a bit from 0 to 1 with code bits, writing nothing", function()
      assert(t:otp_write(0, "\x0F"))
      local r = { t:otp_write(0, "\xF0\x00") }
      assert.same({ nil, "bits" }, { r[1], r[3] })
      assert.is_not_true(r[4]) -- touched: no program command went out
      assert.equal("\x0F\xFF", t:otp_read():sub(1, 2))
    end)

    it("refuses an offset past the OTP with code range", function()
      local r = { t:otp_write(512, "\x00") }
      assert.same({ nil, "range" }, { r[1], r[3] })
    end)

    it("locks a block only when it reads back as expected", function()
      local r = { t:otp_lock({ 1 }, { expect = { [1] = ("\x00"):rep(32) } }) }
      assert.same({ nil, "verify" }, { r[1], r[3] })
      assert.is_false(t:otp_locks()[2])
      assert.is_true((t:otp_lock({ 1 }, { expect = { [1] = BLANK } })))
      assert.is_true(t:otp_locks()[2])
    end)

    it("refuses to change a locked block with code locked", function()
      assert(t:otp_lock({ 2 }, { expect = { [2] = BLANK } }))
      local r = { t:otp_write(64, "\x00") }
      assert.same({ nil, "locked" }, { r[1], r[3] })
      assert.is_not_true(r[4])
      assert.equal(BLANK, t:otp_read():sub(65, 96))
    end)

    it("takes bytes a locked block already holds as done, without writing", function()
      assert(t:otp_lock({ 4 }, { expect = { [4] = BLANK } }))
      assert.is_true((t:otp_write(4 * 32, "\xFF\xFF")))
      assert.equal(BLANK, t:otp_read():sub(129, 160))
    end)

    it("raises on a misspelt option of otp_lock", function()
      assert.has_error(function() t:otp_lock({ 3 }, { expext = {} }) end)
    end)
  end)
end
