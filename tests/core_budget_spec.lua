-- Acceptance: all 512 data bytes of an F4 OTP written, verified, and all
-- 16 blocks locked in no more than 60 USB round trips from attach() on,
-- counted by the model (vp_board_stats / VPROBE_STATS), not by stotp.
local env = require("testenv")
local stotp = require("stotp.core")

local TMP = os.getenv("TMPDIR") or "/tmp"
local BUDGET = 60

local function data512()
  local t = {}
  for i = 0, 511 do t[#t + 1] = string.char((i * 13 + 1) % 256 & 0xFE) end
  return table.concat(t)
end

local function burn(t)
  local ok, st = t:otp_write(0, data512())
  assert.is_true(ok, st)
  assert.is_false(st.fell_back)
  local blocks = {}
  for b = 0, 15 do blocks[#blocks + 1] = b end
  assert.is_true((t:otp_lock(blocks)))
  assert.equal(data512(), t:otp_read())
end

local function read_json_transactions(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return tonumber(s:match('"transactions"%s*:%s*(%d+)'))
end

for _, part in ipairs { "stm32f407vg", "stm32f429zi" } do
  for _, probe in ipairs { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" } do
    describe(string.format("stotp.core round trips (%s, %s)", part, probe), function()
      it("writes 512 bytes, verifies and locks 16 blocks within 60 in process", function()
        local img = TMP .. "/stotp-core-budget-sim.img"
        os.remove(img)
        env.setenv("VPROBE_FAULT", nil)
        env.setenv("VPROBE_VOLTAGE", nil)
        env.setenv("VPROBE_STATS", nil)
        local p = assert(stotp.open { sim = img, sim_part = part, sim_probe = probe })
        local s0 = p:stats()
        local t = assert(p:attach())
        burn(t)
        local s1 = p:stats()
        local used = s1.transactions - s0.transactions
        assert.is_true(used <= BUDGET, "used " .. used)
        -- stotp's own count agrees with the model's
        assert.equal(used, s1.commands - s0.commands)
        p:close()
      end)

      it("stays within 60 through the libusb drop-in (VPROBE_STATS)", function()
        local img = TMP .. "/stotp-core-budget-usb.img"
        local stats = TMP .. "/stotp-core-budget-stats.json"
        os.remove(img)
        os.remove(stats)
        env.setenv("VPROBE_FAULT", nil)
        env.setenv("VPROBE_VOLTAGE", nil)
        env.setenv("VPROBE_STATE", img)
        env.setenv("VPROBE_TARGET", part)
        env.setenv("VPROBE_PROBE", probe)
        env.setenv("VPROBE_STATS", stats)
        local p = assert(stotp.open())
        local before_attach = p:stats().commands
        burn(assert(p:attach()))
        p:close()   -- the drop-in writes VPROBE_STATS at libusb_exit
        env.setenv("VPROBE_STATS", nil)
        local used = read_json_transactions(stats) - before_attach
        assert.is_true(used <= BUDGET, "used " .. used)
      end)
    end)
  end
end
