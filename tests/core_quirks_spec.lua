-- Whether one memory command may carry several program units back-to-back
-- while BSY stalls the bus is UNCONFIRMED (RM0090 §3.5.4; OOCD and STL poll BSY
-- per unit). vprobe models three readings (VPROBE_QUIRKS
-- busy_write=stall|drop|pgserr); in each, a full OTP write and the lock of
-- every block must end correct, programming per unit only what the burst left
-- undone (rule 3), and must still fail cleanly when a byte cannot be programmed
-- at all.
local env = require("testenv")
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-quirks.img"
local BEHAVIOURS = { "stall", "drop", "pgserr" }
local FF = "\xFF"

for _, transport in ipairs { "usb", "sim" } do
  for _, probe in ipairs { "v2:J25", "v2-1:J40M27", "v3:J7M3" } do
    for _, part in ipairs { "stm32f429zi", "stm32f767zi" } do
      local info = kit.PARTS[part]
      local size = 16 * info.bs
      for _, how in ipairs(BEHAVIOURS) do
        -- tprog=max (100 us) makes the next unit of a burst arrive while
        -- BSY (about 25 us per AP write at 1.8 MHz); at the default typical
        -- tprog every reading programs the whole burst
        local quirks = "busy_write=" .. how .. ",tprog=max"
        describe(string.format("stotp.core with %s (%s, %s, %s)", quirks, transport, probe, part), function()
          local p

          before_each(function() os.remove(IMG) end)
          after_each(function()
            if p then p:close() end
            p = nil
          end)
          teardown(function() env.setenv("VPROBE_QUIRKS", nil) end)

          it("writes the whole OTP and locks every block, correct at the end", function()
            local data = kit.pattern(size, 13, 1, 0xFE)
            p = assert(kit.open(transport, IMG, part, probe, { quirks = quirks }))
            local t = assert(p:attach())
            -- the first 8 bytes already hold their value: never written
            assert.is_true((t:otp_write(0, data:sub(1, 8))))
            p:trace(true)
            local ok, st = t:otp_write(0, data)
            local trace = p:trace(false)
            assert.is_true(ok, st)
            assert.equal(size - 8, st.bytes)
            assert.equal(how ~= "stall", st.fell_back)
            for _, a in ipairs(kit.touched(trace, info.base, info.base + 8)) do
              error(string.format("rule 3: wrote 0x%08X, which already held its value", a))
            end
            local lok, lst = t:otp_lock(kit.all_blocks())
            assert.is_true(lok, lst)
            assert.equal(how ~= "stall", lst.fell_back)
            assert.equal(data, t:otp_read())
            p:close()
            p = nil
            assert.equal(string.rep("\0", 16), kit.image_locks(IMG))
            local q = assert(kit.open(transport, IMG, part, probe))
            assert.equal(data, assert(q:attach()):otp_read())
            q:close()
          end)

          it("still reports 'verify' when a byte does not program even per unit", function()
            p = assert(kit.open(transport, IMG, part, probe, { quirks = quirks, fault = "stuck@40:0x01" }))
            local t = assert(p:attach())
            local r = { t:otp_write(0, string.rep("\0", 64)) }
            assert.same({ nil, "verify" }, { r[1], r[3] })
            assert.matches(string.format("read-back of 0x%08X is 0x01, expected 0x00", info.base + 40), r[2], 1, true)
            -- the rest did program, and the failed block is not lockable
            assert.equal(string.rep("\0", 40) .. "\1" .. string.rep("\0", 23), t:otp_read():sub(1, 64))
            assert.same({ nil, "verify" }, (function(...) local x = { ... }; return { x[1], x[3] } end)(t:otp_lock(40 // info.bs)))
            p:close()
            p = nil
            assert.equal(string.rep(FF, 16), kit.image_locks(IMG))
          end)
        end)
      end
    end
  end
end
