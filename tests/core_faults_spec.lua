-- Faults injected by the virtual probe (VPROBE_FAULT) while writing and
-- locking: a clear error, no crash, no hang, never a false success.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-faults.img"
local CODES = { usb = true, target = true, flash = true, verify = true, wait = true }
local DATA = kit.pattern(512, 5, 2, 0xEF)

local function open(transport, fault)
  return kit.open(transport, IMG, "stm32f429zi", "v2-1:J40M27", { fault = fault })
end

local function read_back(transport)
  return kit.read_back(transport, IMG, "stm32f429zi", "v2-1:J40M27")
end

-- Write all data then lock blocks 0-2 with `fault` active. Returns the
-- outcome and what a clean connection reads back afterwards.
local function run(transport, fault)
  os.remove(IMG)
  local res
  local p, msg, code = open(transport, fault)
  if not p then
    res = { nil, msg, code }
  else
    local t
    t, msg, code = p:attach()
    if not t then
      res = { nil, msg, code }
    else
      res = { t:otp_write(0, DATA) }
      res.stage = "write"
      if res[1] then
        res = { t:otp_lock(0, 1, 2) }
        res.stage = "lock"
      end
    end
    p:close()
  end
  return res, read_back(transport)
end

local function check(res, back, locks, fault)
  if res[1] then
    -- success must be true: every byte and the three locks are there
    assert.equal(DATA, back, fault)
    assert.same({ true, true, true, false }, { locks[1], locks[2], locks[3], locks[4] }, fault)
  else
    assert.is_nil(res[1], fault)
    assert.is_string(res[2], fault)
    assert.is_true(CODES[res[3]] == true, fault .. ": " .. tostring(res[3]))
    assert.equal(res[3] .. ":", res[2]:match("^%w+:"), fault)
    -- a data write that failed never touched a lock byte (rule 4)
    if res.stage ~= "lock" then
      assert.equal(string.rep("\xFF", 16), kit.image_locks(IMG), fault)
    end
    -- the fourth result, touched, is never false on a chip that changed:
    -- the journal's "cut" note rests on it when the board cannot be read
    if res.stage then
      assert.is_boolean(res[4], fault)
      local changed = res.stage == "write" and back ~= string.rep("\xFF", #DATA) or locks[1] or locks[2] or locks[3]
      if changed then assert.is_true(res[4], fault .. ": the chip changed, the failure says untouched") end
    end
  end
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core faults (" .. transport .. ")", function()
    for _, kind in ipairs { "unplug", "reset", "powerloss" } do
      it("never reports a false success when the probe sees " .. kind .. " at any step", function()
        local failures, said = 0, {}
        for n = 1, 60 do
          local fault = kind .. "@" .. n
          local res, back, locks = run(transport, fault)
          check(res, back, locks, fault)
          if not res[1] then failures = failures + 1 end
          if res.stage and not res[1] then said[res[4]] = true end
        end
        assert.is_true(failures > 0)   -- the fault did hit the write
        -- a program command had gone out when power was lost; the USB
        -- faults land before it as well as after
        assert.is_true(said[true] == true, "no failure said touched")
        if kind ~= "powerloss" then assert.is_true(said[false] == true, "no failure said untouched") end
      end)
    end

    it("retries short WAIT runs and falls back to per-unit writes on a burst WAIT", function()
      local fell_back = false
      for n = 1, 60 do
        local fault = "wait@" .. n .. ":1"
        os.remove(IMG)
        local p = assert(open(transport, fault))
        local t = assert(p:attach())
        local ok, st = t:otp_write(0, DATA)
        assert.is_true(ok, fault .. ": " .. tostring(st))
        fell_back = fell_back or st.fell_back
        p:close()
        assert.equal(DATA, (read_back(transport)), fault)   -- rule 5: success is true
      end
      assert.is_true(fell_back)
    end)

    it("gives up on a WAIT storm with a 'wait' error, not a hang", function()
      local waits = 0
      for n = 16, 30, 2 do
        local fault = "wait@" .. n .. ":1000"
        local res, back, locks = run(transport, fault)
        check(res, back, locks, fault)
        if res[3] == "wait" then waits = waits + 1 end
      end
      assert.is_true(waits > 0)
    end)
  end)
end

-- Rule 5: every written byte is read back and a mismatch stops with
-- "verify". Only a cell that does not program while the flash controller
-- reports success shows that: VPROBE_FAULT stuck@OFFSET:MASK (bits MASK of
-- OTP data byte OFFSET stay 1 whatever is programmed, no SR flag).
describe("stotp.core read-back", function()
  it("rule 5: stops with 'verify' naming the byte when it does not read back as written", function()
    os.remove(IMG)
    local p = assert(kit.open("sim", IMG, "stm32f429zi", "v2-1:J40M27", { fault = "stuck@16:0x01" }))
    local t = assert(p:attach())
    local r = { t:otp_write(0, string.rep("\0", 32)) }
    assert.same({ nil, "verify" }, { r[1], r[3] })
    assert.matches("read-back of 0x1FFF7810 is 0x01, expected 0x00", r[2], 1, true)
    p:close()
    assert.equal(string.rep("\xFF", 16), kit.image_locks(IMG))
  end)
end)
