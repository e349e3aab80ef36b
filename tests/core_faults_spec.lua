-- Faults injected by the virtual probe (VPROBE_FAULT) while writing and
-- locking: a clear error, no crash, no hang, never a false success.
local env = require("testenv")
local stotp = require("stotp.core")

local TMP = os.getenv("TMPDIR") or "/tmp"
local IMG = TMP .. "/stotp-core-faults.img"
local CODES = { usb = true, target = true, flash = true, verify = true, wait = true }

local function data()
  local t = {}
  for i = 0, 511 do t[#t + 1] = string.char((i * 5 + 2) % 256 & 0xEF) end
  return table.concat(t)
end

local function open(transport, fault)
  env.setenv("VPROBE_VOLTAGE", nil)
  env.setenv("VPROBE_STATS", nil)
  if transport == "usb" then
    env.setenv("VPROBE_STATE", IMG)
    env.setenv("VPROBE_TARGET", "stm32f429zi")
    env.setenv("VPROBE_PROBE", "v2-1:J40M27")
    env.setenv("VPROBE_FAULT", fault)
    return stotp.open()
  end
  env.setenv("VPROBE_FAULT", nil)
  return stotp.open { sim = IMG, sim_part = "stm32f429zi", sim_probe = "v2-1:J40M27", sim_fault = fault }
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
      res = { t:otp_write(0, data()) }
      if res[1] then res = { t:otp_lock(0, 1, 2) } end
    end
    p:close()
  end
  local q = assert(open(transport, nil))
  local u = assert(q:attach())
  local back, locks = u:otp_read(), u:otp_locks()
  q:close()
  return res, back, locks
end

local function check(res, back, locks, fault)
  if res[1] then
    -- success must be true: every byte and the three locks are there
    assert.equal(data(), back, fault)
    assert.same({ true, true, true, false }, { locks[1], locks[2], locks[3], locks[4] }, fault)
  else
    assert.is_nil(res[1], fault)
    assert.is_string(res[2], fault)
    assert.is_true(CODES[res[3]] == true, fault .. ": " .. tostring(res[3]))
    assert.equal(res[3] .. ":", res[2]:match("^%w+:"), fault)
  end
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core faults (" .. transport .. ")", function()
    for _, kind in ipairs { "unplug", "reset", "powerloss" } do
      it("never reports a false success when the probe sees " .. kind .. " at any step", function()
        local failures = 0
        for n = 1, 60 do
          local fault = kind .. "@" .. n
          local res, back, locks = run(transport, fault)
          check(res, back, locks, fault)
          if not res[1] then failures = failures + 1 end
        end
        assert.is_true(failures > 0)   -- the fault did hit the write
      end)
    end

    it("retries short WAIT runs and falls back to per-unit writes on a burst WAIT", function()
      local fell_back = false
      for n = 1, 60 do
        local fault = "wait@" .. n .. ":1"
        os.remove(IMG)
        local p = assert(open(transport, fault))
        local t = assert(p:attach())
        local ok, st = t:otp_write(0, data())
        assert.is_true(ok, fault .. ": " .. tostring(st))
        fell_back = fell_back or st.fell_back
        p:close()
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
