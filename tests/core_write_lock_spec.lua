-- otp_write's `lock` option (issue 12 item 3): the blocks a write
-- completes are locked in the same flash session, after the whole area
-- read back as planned (safety rule 4), one guard and one unlock for both.
-- Every bad input is refused before anything is written; no fault at any
-- command of the call leaves a block locked over data other than the
-- caller's statement of it.
local kit = require("corekit")

local PART, PROBE = "stm32f407vg", "v2:J37"
local IMG = kit.TMP .. "/stotp-write-lock.img"
local RECORD = "\x43\x4E\x45\x53\xA0\x86\x01\x00\x03\x02\x80\xE1\x00\x00\x00\x12\x34\x56\x78"
local BLOCK0 = RECORD .. ("\xFF"):rep(32 - #RECORD)

local function fresh()
  os.remove(IMG)
  local p = assert(kit.open("sim", IMG, PART, PROBE))
  p:close()
  return kit.slurp(IMG)
end

-- The board as a clean handle reads it: OTP data and lock flags.
local function board()
  return kit.read_back("sim", IMG, PART, PROBE)
end

describe("otp_write with lock", function()
  after_each(function() os.remove(IMG) end)

  it("locks the block in the same flash session once the write reads back, in fewer round trips than two calls",
    function()
      fresh()
      local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
      local t = assert(p:attach())
      local s0 = p:stats()
      local ok, st = t:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } })
      assert.is_true(ok, st)
      local used = p:stats().transactions - s0.transactions
      assert.same({ 1, false }, { st.locked, st.fell_back })
      -- one guard and unlock, data, read-back, lock byte, SR, relock,
      -- read-back: 13 on RW_MISC firmware (a write and an otp_lock: 18)
      assert.is_true(used <= 13, "used " .. used)
      p:close()
      local data, locks = board()
      assert.equal(BLOCK0, data:sub(1, 32))
      assert.same({ true, false }, { locks[1], locks[2] })
    end)

  it("writes the lock byte after the data read back, x8, and nothing else in the lock area", function()
    fresh()
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    p:trace(true)
    assert(t:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } }))
    local trace = p:trace(false)
    local data_at, read_at, lock_at
    for _, w in ipairs(kit.writes(trace)) do
      if w.op == "write" and w.addr == 0x1FFF7800 then data_at = w.index end
      if w.op == "write" and w.addr >= 0x1FFF7A00 and w.addr < 0x1FFF7A10 then
        assert.same({ 0x1FFF7A00, 1, 1 }, { w.addr, w.n, w.width })
        lock_at = w.index
      end
    end
    for _, r in ipairs(kit.reads(trace)) do
      if data_at and r.index > data_at and not read_at and r.addr == 0x1FFF7800 then read_at = r.index end
    end
    assert.truthy(data_at and read_at and lock_at)
    assert.is_true(data_at < read_at and read_at < lock_at)
  end)

  it("refuses the whole call when a block would read otherwise after the write; nothing written", function()
    local before = fresh()
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    local other = BLOCK0:sub(1, 31) .. "\x00"
    local ok, msg, code = t:otp_write(0, RECORD, { lock = { [0] = other } })
    p:close()
    assert.same({ nil, "verify" }, { ok, code })
    assert.matches("lock: block 0 would hold 0xFF at 0x1FFF781F after this write, not 0x00 as given: nothing written",
      msg, 1, true)
    assert.equal(before, kit.slurp(IMG))
  end)

  local BAD = {
    { "a block past the last", { [16] = BLOCK0 }, "range", "lock: block 16 with 32 bytes: blocks are 0-15 of 32 bytes" },
    { "a negative block", { [-1] = BLOCK0 }, "range", "lock: block -1" },
    { "a block of the wrong size", { [0] = BLOCK0 .. "\xFF" }, "range", "lock: block 0 with 33 bytes" },
  }
  for _, row in ipairs(BAD) do
    it("refuses " .. row[1] .. " with a clear error; nothing written", function()
      local before = fresh()
      local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
      local t = assert(p:attach())
      local ok, msg, code = t:otp_write(0, RECORD, { lock = row[2] })
      p:close()
      assert.same({ nil, row[3] }, { ok, code })
      assert.matches(row[4], msg, 1, true)
      assert.equal(before, kit.slurp(IMG))
    end)
  end

  local MISUSE = {
    { "a lock that is not a table", "yes", "option 'lock' must be a table of block = bytes" },
    { "a block number that is not an integer", { ["0"] = BLOCK0 }, "lock keys must be block numbers" },
    { "block contents that are not a string", { [0] = 5 }, "lock[0] must be a string" },
  }
  for _, row in ipairs(MISUSE) do
    it("raises on " .. row[1] .. "; nothing written", function()
      local before = fresh()
      local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
      local t = assert(p:attach())
      local ok, err = pcall(t.otp_write, t, 0, RECORD, { lock = row[2] })
      p:close()
      assert.is_false(ok)
      assert.matches(row[3], err, 1, true)
      assert.equal(before, kit.slurp(IMG))
    end)
  end

  it("checks an already locked block against the statement and does not write its lock byte again", function()
    fresh()
    do
      local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
      local t = assert(p:attach())
      assert(t:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } }))
    end
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    local ok, msg, code = t:otp_write(0x40, "\x01", { lock = { [0] = BLOCK0:sub(1, 31) .. "\x00" } })
    assert.same({ nil, "verify" }, { ok, code }, msg)
    p:trace(true)
    local ok2, st = t:otp_write(0x40, "\x01", { lock = { [0] = BLOCK0 } })
    assert.is_true(ok2, st)
    for _, w in ipairs(kit.writes(p:trace(false))) do
      assert.is_false(w.op == "write" and w.addr >= 0x1FFF7A00 and w.addr < 0x1FFF7A10, "a lock byte written again")
    end
  end)

  it("locks a block the write does not touch when its contents are as given", function()
    fresh()
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    assert(t:otp_write(0, RECORD, { lock = { [0] = BLOCK0, [5] = ("\xFF"):rep(32) } }))
    p:close()
    local _, locks = board()
    assert.same({ true, true, false }, { locks[1], locks[6], locks[2] })
  end)

  it("leaves the block unlocked when a cell does not program (read-back differs)", function()
    fresh()
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE, { fault = "stuck@9:0x80" }))
    local t = assert(p:attach())
    local ok, msg, code = t:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } })
    p:close()
    assert.same({ nil, "verify" }, { ok, code }, msg)
    local _, locks = board()
    assert.is_false(locks[1])
  end)

  it("falls back per unit when the burst drops units, and still locks only after the data read back whole", function()
    fresh()
    local p <close> = assert(kit.open("sim", IMG, PART, PROBE, { quirks = "busy_write=drop,tprog=max" }))
    local t = assert(p:attach())
    local ok, st = t:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } })
    assert.is_true(ok, st)
    assert.same({ true, 1 }, { st.fell_back, st.locked })
    p:close()
    local data, locks = board()
    assert.same({ BLOCK0, true }, { data:sub(1, 32), locks[1] })
  end)

  -- A fault at each command of the call: whatever is left, a locked block
  -- holds exactly the caller's statement of it, and a rerun completes.
  for _, kind in ipairs { "reset", "unplug", "wait", "powerloss" } do
    it("never locks a block over other data when a " .. kind .. " hits any command of the call", function()
      fresh()
      local before_call
      do
        local p <close> = assert(kit.open("sim", IMG, PART, PROBE))
        assert(p:attach())
        before_call = p:stats().commands
      end
      for n = 1, 16 do
        fresh()
        local at = kind == "powerloss" and n or before_call + n
        local fault = kind == "wait" and ("wait@%d:8"):format(at) or ("%s@%d"):format(kind, at)
        local p = assert(kit.open("sim", IMG, PART, PROBE, { fault = fault }))
        local t = assert(p:attach())
        pcall(t.otp_write, t, 0, RECORD, { lock = { [0] = BLOCK0 } })
        p:close()
        local data, locks = board()
        if locks[1] then assert.equal(BLOCK0, data:sub(1, 32), fault) end
        local q <close> = assert(kit.open("sim", IMG, PART, PROBE))
        local u = assert(q:attach())
        local ok, st = u:otp_write(0, RECORD, { lock = { [0] = BLOCK0 } })
        if ok or not locks[1] then
          assert.is_true(ok, fault .. ": " .. tostring(st))
        end
        q:close()
        local d2, l2 = board()
        assert.same({ BLOCK0, true }, { d2:sub(1, 32), l2[1] }, fault)
      end
    end)
  end
end)
