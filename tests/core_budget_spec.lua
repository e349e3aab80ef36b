-- Acceptance: all 512 data bytes of an F4 OTP written, verified, and all
-- 16 blocks locked in no more than 60 USB round trips from attach() on,
-- counted by the model (vp_board_stats / VPROBE_STATS), not by stotp.
local kit = require("corekit")

local BUDGET = 60
local DATA = kit.pattern(512, 13, 1, 0xFE)

local function burn(t)
  local ok, st = t:otp_write(0, DATA)
  assert.is_true(ok, st)
  assert.is_false(st.fell_back)
  assert.is_true((t:otp_lock(kit.all_blocks())))
  assert.equal(DATA, t:otp_read())
end

local function read_json_transactions(path)
  return tonumber(kit.slurp(path):match('"transactions"%s*:%s*(%d+)'))
end

for _, part in ipairs { "stm32f407vg", "stm32f429zi" } do
  for _, probe in ipairs(kit.PROBES) do
    describe(string.format("stotp.core round trips (%s, %s)", part, probe), function()
      it("writes 512 bytes, verifies and locks 16 blocks within 60 in process", function()
        local img = kit.TMP .. "/stotp-core-budget-sim.img"
        os.remove(img)
        local p = assert(kit.open("sim", img, part, probe))
        local s0 = p:stats()
        burn(assert(p:attach()))
        local s1 = p:stats()
        local used = s1.transactions - s0.transactions
        assert.is_true(used <= BUDGET, "used " .. used)
        -- stotp's own count agrees with the model's
        assert.equal(used, s1.commands - s0.commands)
        p:close()
      end)

      it("stays within 60 through the libusb drop-in (VPROBE_STATS)", function()
        local img = kit.TMP .. "/stotp-core-budget-usb.img"
        local stats = kit.TMP .. "/stotp-core-budget-stats.json"
        os.remove(img)
        os.remove(stats)
        local p = assert(kit.open("usb", img, part, probe, { stats = stats }))
        local before_attach = p:stats().commands
        burn(assert(p:attach()))
        p:close()   -- the drop-in writes VPROBE_STATS at libusb_exit
        require("testenv").setenv("VPROBE_STATS", nil)
        local used = read_json_transactions(stats) - before_attach
        assert.is_true(used <= BUDGET, "used " .. used)
      end)
    end)
  end
end
