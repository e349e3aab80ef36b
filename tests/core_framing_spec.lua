-- USB framing faults (OOCD stlink_usb_usb_open, issue 8 item 2): a write's data
-- phase that stops part-way (short@N:M) leaves a real ST-Link waiting for the
-- rest, so the next command packets would become data (with PG set: OTP bytes);
-- a reply that misses the host's timeout (late@N) shifts every later reply.
-- Swept over every command packet of a full burn and lock and of a small
-- write: nothing outside the planned bytes changes, no unplanned lock byte,
-- no false success, and a clean rerun completes the board.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-framing.img"
local PROBE = "v2-1:J40M27"

local FULL = { offset = 0, data = kit.pattern(512, 7, 3, 0xEF), blocks = kit.all_blocks() }
local SMALL = { offset = 3 * 32 + 8, data = "\x12\x34\x56\x78", blocks = { 3 } }

local function open(transport, fault)
  return kit.open(transport, IMG, "stm32f429zi", PROBE, { fault = fault })
end

-- The job: write the planned bytes, then lock the planned blocks.
local function job(t, plan)
  local r = { t:otp_write(plan.offset, plan.data) }
  if r[1] then r = { t:otp_lock(table.unpack(plan.blocks)) } end
  return r
end

-- One run with `fault`; returns the job's result (or the open/attach
-- failure).
local function run(transport, plan, fault)
  local p, msg, code = open(transport, fault)
  if not p then return { nil, msg, code } end
  local t
  t, msg, code = p:attach()
  local r = t and job(t, plan) or { nil, msg, code }
  p:close()
  return r
end

local function read_back(transport)
  return kit.read_back(transport, IMG, "stm32f429zi", PROBE)
end

-- Every data byte is erased or the planned value; every lock byte is erased
-- or belongs to a planned block.
local function check_board(transport, plan, what)
  local back, locks = read_back(transport)
  local lo, hi = plan.offset + 1, plan.offset + #plan.data
  for i = 1, #back do
    local b = back:byte(i)
    if b ~= 0xFF then
      assert(i >= lo and i <= hi and b == plan.data:byte(i - plan.offset),
             string.format("%s: OTP byte %d is 0x%02X, planned %s", what, i - 1, b,
                           (i >= lo and i <= hi) and string.format("0x%02X", plan.data:byte(i - plan.offset)) or "nothing"))
    end
  end
  local planned = {}
  for _, blk in ipairs(plan.blocks) do planned[blk + 1] = true end
  for blk = 1, 16 do
    assert(not locks[blk] or planned[blk], what .. ": unplanned lock of block " .. (blk - 1))
  end
  for _, c in ipairs { kit.image_locks(IMG):byte(1, -1) } do
    assert(c == 0x00 or c == 0xFF, what .. ": a lock byte is neither 00 nor FF")
  end
  return back, locks
end

local function sweep(transport, plan, faults_for)
  -- how many command packets a clean run takes: the sweep covers each
  os.remove(IMG)
  local p = assert(open(transport, nil))
  local t = assert(p:attach())
  assert.is_true(job(t, plan)[1])
  local total = p:stats().commands + 1   -- and DEBUG_EXIT at close
  p:close()
  local hit = 0
  for n = 1, total do
    for _, fault in ipairs(faults_for(n)) do
      os.remove(IMG)
      local r = run(transport, plan, fault)
      local back, locks = check_board(transport, plan, fault)
      if r[1] then
        -- success must be true: every planned byte and lock is there
        assert.equal(plan.data, back:sub(plan.offset + 1, plan.offset + #plan.data), fault)
        for _, blk in ipairs(plan.blocks) do assert.is_true(locks[blk + 1], fault) end
      else
        hit = hit + 1
        assert.is_string(r[2], fault)
        assert.equal(r[3] .. ":", r[2]:match("^%w+:"), fault)
      end
      -- a clean rerun completes the board
      local again = run(transport, plan, nil)
      assert.is_true(again[1] == true, fault .. " then rerun: " .. tostring(again[2]))
      back, locks = read_back(transport)
      assert.equal(plan.data, back:sub(plan.offset + 1, plan.offset + #plan.data), fault)
      for _, blk in ipairs(plan.blocks) do assert.is_true(locks[blk + 1], fault) end
    end
  end
  assert.is_true(hit > 0)
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core USB framing faults (" .. transport .. ")", function()
    for name, plan in pairs { ["512 bytes and 16 locks"] = FULL, ["a small write and its lock"] = SMALL } do
      it("never burns an unplanned byte when a data phase stops short, writing " .. name, function()
        sweep(transport, plan, function(n) return { "short@" .. n .. ":0", "short@" .. n .. ":1" } end)
      end)
      it("never burns an unplanned byte when a reply comes late, writing " .. name, function()
        sweep(transport, plan, function(n) return { "late@" .. n } end)
      end)
    end
  end)
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core after a failed transfer (" .. transport .. ")", function()
    -- the command count of open + attach, so a fault can aim at the
    -- first command after it
    local function attach_commands()
      os.remove(IMG)
      local p = assert(open(transport, nil))
      assert(p:attach())
      local n = p:stats().commands
      p:close()
      return n
    end

    it("re-synchronises before the next command: a late reply never answers a later read", function()
      local n = attach_commands()
      local p <close> = assert(open(transport, "late@" .. (n + 1)))
      local t = assert(p:attach())
      local r = { t:read(0x1FFF7A10, 12) }   -- the UID: READMEM is command n + 1
      assert.same({ nil, "usb" }, { r[1], r[3] })
      assert.matches("^usb: timeout", r[2])
      assert.equal(t.uid_bytes, t:read(0x1FFF7A10, 12))
      assert.equal(t.uid_bytes, t:read(0x1FFF7A10, 12))
      p:close()
    end)

    it("declares a probe that cannot be re-synchronised dead, with a clear error, and sends nothing more", function()
      local n = attach_commands()
      local p <close> = assert(open(transport, "short@" .. (n + 1) .. ":1,unplug@" .. (n + 2)))
      local t = assert(p:attach())
      local r = { t:read(0x1FFF7A10, 12) }
      assert.same({ nil, "usb" }, { r[1], r[3] })
      r = { t:read(0x1FFF7A10, 12) }
      assert.same({ nil, "usb" }, { r[1], r[3] })
      assert.matches("out of step after a failed transfer and could not be re-synchronised", r[2], 1, true)
      local sent = p:stats().commands
      r = { t:read32(0xE0042000) }
      assert.matches("not sent: the probe is out of step", r[2], 1, true)
      assert.equal(sent, p:stats().commands)
      p:close()
    end)
  end)
end
