-- stotp.core OTP primitives against the virtual probe, one shared body run
-- over transport (libusb drop-in, in process) x probe kind x part.
local env = require("testenv")
local stotp = require("stotp.core")

local TMP = os.getenv("TMPDIR") or "/tmp"
local PROBES = { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" }
local PARTS = {
  stm32f205rg = { family = "F2", dev_id = 0x411, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f407vg = { family = "F4", dev_id = 0x413, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f429zi = { family = "F4", dev_id = 0x419, base = 0x1FFF7800, lock = 0x1FFF7A00, bs = 32 },
  stm32f722ze = { family = "F7", dev_id = 0x452, base = 0x1FF07800, lock = 0x1FF07A00, bs = 32 },
  stm32f767zi = { family = "F7", dev_id = 0x451, base = 0x1FF0F000, lock = 0x1FF0F400, bs = 64 },
}
local PART_ORDER = { "stm32f205rg", "stm32f407vg", "stm32f429zi", "stm32f722ze", "stm32f767zi" }

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Opens a probe on board image `img` through `transport`; extra: voltage.
local function open(transport, img, part, probe, extra)
  extra = extra or {}
  env.setenv("VPROBE_FAULT", nil)
  env.setenv("VPROBE_STATS", nil)
  if transport == "usb" then
    env.setenv("VPROBE_STATE", img)
    env.setenv("VPROBE_TARGET", part)
    env.setenv("VPROBE_PROBE", probe)
    env.setenv("VPROBE_VOLTAGE", extra.voltage and tostring(extra.voltage))
    return stotp.open()
  end
  env.setenv("VPROBE_VOLTAGE", nil)
  return stotp.open { sim = img, sim_part = part, sim_probe = probe, sim_voltage = extra.voltage }
end

-- A pattern with some bits still set, so later writes can clear more.
local function pattern(n, seed)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = string.char(((i * 7 + seed) % 256) & 0xF7) end
  return table.concat(t)
end

for _, transport in ipairs { "usb", "sim" } do
  for _, probe in ipairs(PROBES) do
    for _, part in ipairs(PART_ORDER) do
      local info = PARTS[part]
      local img = string.format("%s/stotp-core-%s-%s-%s.img", TMP, transport,
                                probe:gsub(":", "_"), part)
      local size = 16 * info.bs

      describe(string.format("stotp.core otp (%s, %s, %s)", transport, probe, part), function()
        local p, t

        before_each(function()
          os.remove(img)
          p = assert(open(transport, img, part, probe))
          t = assert(p:attach())
        end)

        after_each(function()
          if p then p:close() end
          p, t = nil, nil
        end)

        -- Runs f on a fresh connection and checks the image did not change.
        local function refused_unchanged(f, extra)
          p:close()
          local before = slurp(img)
          local q = assert(open(transport, img, part, probe, extra))
          local u = assert(q:attach())
          local res = { f(u) }
          q:close()
          assert.equal(before, slurp(img))
          p = nil
          return res
        end

        it("identifies the part and its OTP layout", function()
          assert.equal(info.family, t.family)
          assert.equal(info.dev_id, t.dev_id)
          assert.same({ base = info.base, blocks = 16, block_size = info.bs,
                        lock_base = info.lock, size = size }, t.otp)
          assert.matches("^%x+$", t.uid)
          assert.equal(24, #t.uid)
          assert.equal(12, #t.uid_bytes)
          assert.equal(0, t.rdp)
          assert.is_true(t.flash_kib > 0)
        end)

        it("writes, verifies and locks every block, then reads the same back", function()
          local data = pattern(size, 3)
          local ok, st = t:otp_write(0, data)
          assert.is_true(ok)
          assert.equal(size, st.bytes)
          assert.equal(data, t:otp_read())
          local blocks = {}
          for b = 0, 15 do blocks[#blocks + 1] = b end
          assert.is_true((t:otp_lock(blocks)))
          local locks = t:otp_locks()
          for b = 1, 16 do assert.is_true(locks[b]) end
          p:close()
          local q = assert(open(transport, img, part, probe))
          local u = assert(q:attach())
          assert.equal(data, u:otp_read())
          q:close()
        end)

        it("writes in forced per-unit mode with the same result", function()
          local data = pattern(40, 9)
          local ok, st = t:otp_write(5, data, { mode = "unit" })
          assert.is_true(ok)
          assert.equal("unit", st.mode)
          assert.equal(data, t:otp_read():sub(6, 45))
          assert.equal(string.rep("\255", 5), t:otp_read():sub(1, 5))
        end)

        it("reports same, program and bits per byte without writing", function()
          assert.is_true((t:otp_write(0, "\x0F\xF0")))
          local r = t:otp_check(0, "\x0F\x10\xFF")
          assert.same({ ok = true, same = 2, program = 1, bits = 0, locked = 0,
            bytes = {
              { offset = 0, old = 0x0F, new = 0x0F, action = "same" },
              { offset = 1, old = 0xF0, new = 0x10, action = "program" },
              { offset = 2, old = 0xFF, new = 0xFF, action = "same" },
            } }, { ok = r.ok, same = r.same, program = r.program, bits = r.bits,
                   locked = r.locked, bytes = { r.bytes[1], r.bytes[2], r.bytes[3] } })
          assert.same({ ok = false, same = 0, program = 0, bits = 1, locked = 0 },
            (function(x) return { ok = x.ok, same = x.same, program = x.program,
              bits = x.bits, locked = x.locked } end)(t:otp_check(1, "\xF1")))
        end)

        it("refuses a 0->1 bit and leaves the board image unchanged", function()
          assert.is_true((t:otp_write(0, "\x00\x0F")))
          local res = refused_unchanged(function(u) return u:otp_write(0, "\x00\x1F\x00") end)
          assert.is_nil(res[1])
          assert.equal("bits", res[3])
          assert.matches("0x0F -> 0x1F", res[2], 1, true)
        end)

        it("refuses a write into a locked block and leaves the image unchanged", function()
          assert.is_true((t:otp_write(info.bs, "\x55")))
          assert.is_true((t:otp_lock(1)))
          local res = refused_unchanged(function(u) return u:otp_write(info.bs + 1, "\x00") end)
          assert.same({ nil, "locked" }, { res[1], res[3] })
        end)

        it("refuses an absolute address as offset, naming this part's OTP area", function()
          local res = refused_unchanged(function(u) return u:otp_write(0x1FF0F000, "\x00") end)
          assert.same({ nil, "range" }, { res[1], res[3] })
          assert.matches(string.format("0x%08X%%-0x%08X", info.base, info.base + size - 1), res[2])
        end)

        it("refuses a range reaching into the lock bytes", function()
          local res = refused_unchanged(function(u) return u:otp_write(size - 2, "\x00\x00\x00") end)
          assert.same({ nil, "range" }, { res[1], res[3] })
          assert.matches("lock bytes", res[2], 1, true)
        end)

        it("refuses to program at a supply too low for any PSIZE", function()
          local res = refused_unchanged(function(u) return u:otp_write(0, "\x00") end,
                                        { voltage = 1.75 })
          assert.same({ nil, "voltage" }, { res[1], res[3] })
        end)
      end)
    end
  end
end
