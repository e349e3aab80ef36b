-- stotp.core OTP primitives against the virtual probe, one shared body run
-- over transport (libusb drop-in, in process) x probe kind x part. The
-- README's OTP safety rules each have a spec here that fails when the
-- rule is broken (rule numbers in the names).
local kit = require("corekit")

local TMP, PARTS, slurp = kit.TMP, kit.PARTS, kit.slurp
local FLASH_CR = 0x40023C10

-- A pattern with some bits still set, so later writes can clear more.
local function pattern(n, seed)
  return kit.pattern(n, 7, seed, 0xF7)
end

-- Every probe x part at the default clock, and the fast links where the
-- slowest program time (VPROBE_QUIRKS tprog=max, 100 µs) outlasts the
-- firmware's WAIT retries (OOCD commit 9fce8a21c), so a burst write answers
-- WAIT and the per-unit fallback runs: V2 at 4 MHz, V3 at 8 and 24 MHz.
local CONFIGS = {}
for _, probe in ipairs(kit.PROBES) do
  for _, part in ipairs(kit.PART_ORDER) do CONFIGS[#CONFIGS + 1] = { probe, part, {} } end
end
for _, fast in ipairs { { "v2:J37", 4000 }, { "v3:J7M3", 8000 }, { "v3:J7M3", 24000 } } do
  for _, part in ipairs { "stm32f429zi", "stm32f767zi" } do
    CONFIGS[#CONFIGS + 1] = { fast[1], part, { khz = fast[2], quirks = "tprog=max" } }
  end
end

for _, transport in ipairs { "usb", "sim" } do
  for _, cfg in ipairs(CONFIGS) do
    local probe, part, base = cfg[1], cfg[2], cfg[3]
    do
      local info = PARTS[part]
      local label = base.khz and string.format("%s, %d kHz, tprog=max", probe, base.khz) or probe
      local img = string.format("%s/stotp-core-%s-%s-%s-%s.img", TMP, transport,
                                probe:gsub(":", "_"), part, base.khz or "dflt")
      local size = 16 * info.bs
      -- the configuration's open options, with `extra` over them
      local function opts(extra)
        local o = {}
        for k, v in pairs(base) do o[k] = v end
        for k, v in pairs(extra or {}) do o[k] = v end
        return o
      end

      describe(string.format("stotp.core otp (%s, %s, %s)", transport, label, part), function()
        local p, t

        before_each(function()
          os.remove(img)
          p = assert(kit.open(transport, img, part, probe, opts()))
          t = assert(p:attach())
        end)

        after_each(function()
          if p then p:close() end
          p, t = nil, nil
        end)

        -- Runs f on a fresh connection and checks the image did not change.
        local function refused_unchanged(f, extra)
          if p then p:close() end
          local before = slurp(img)
          local q = assert(kit.open(transport, img, part, probe, opts(extra)))
          local u = assert(q:attach())
          local res = { f(u, q) }
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
          local blocks = kit.all_blocks()
          assert.is_true((t:otp_lock(blocks)))
          local locks = t:otp_locks()
          for b = 1, 16 do assert.is_true(locks[b]) end
          p:close()
          local q = assert(kit.open(transport, img, part, probe, opts()))
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

        -- Rule 6: an address given as an offset is refused, the message
        -- naming this part's area and, when it is one, whose OTP it is.
        local others = {
          [0x1FFF7800] = "STM32F2/F4", [0x1FF0F000] = "STM32F74x%-F77x", [0x1FF07800] = "STM32F72x/F73x",
        }
        for addr, who in pairs(others) do
          it(string.format("rule 6: refuses 0x%08X as an offset, naming the right areas", addr), function()
            local res = refused_unchanged(function(u) return u:otp_write(addr, "\x00") end)
            assert.same({ nil, "range" }, { res[1], res[3] })
            assert.matches(string.format("OTP area is 0x%08X%%-0x%08X", info.base, info.base + size - 1), res[2])
            if addr == info.base then
              assert.matches("an absolute address: offsets count from " .. string.format("0x%08X", addr), res[2], 1, true)
            else
              assert.matches(string.format("0x%08X is in the OTP of the %s, not this part's", addr, who), res[2])
            end
          end)
        end

        it("rule 6: refuses write32 on this part's OTP data and lock bytes", function()
          for _, addr in ipairs { info.base, info.base + size - 4, info.lock, info.lock + 12 } do
            local res = refused_unchanged(function(u) return u:write32(addr, 0) end)
            assert.same({ nil, string.format("range: 0x%08X is in the OTP area: use otp_write or otp_lock", addr),
                          "range" }, res)
          end
        end)

        it("rule 3: writes only the bytes that change, never a same-value neighbour", function()
          assert.is_true((t:otp_write(1, "\x00")))
          assert.is_true((t:otp_write(9, "\x0F")))
          local want = "\x10\x00\x20\x30\x40\x50\x60\x70\x80\x0F\x0A\x0B"
          p:trace(true)
          local ok, st = t:otp_write(0, want)
          local trace = p:trace(false)
          assert.is_true(ok)
          assert.equal(10, st.bytes)
          local changed = {}
          for _, o in ipairs { 0, 2, 3, 4, 5, 6, 7, 8, 10, 11 } do changed[#changed + 1] = info.base + o end
          assert.same(changed, kit.touched(trace, info.base, info.lock + 16))
          assert.equal(want, t:otp_read():sub(1, 12))
        end)

        it("rule 3: writes nothing at all when every byte already holds its value", function()
          assert.is_true((t:otp_write(0, "\x12\x34")))
          p:trace(true)
          local ok, st = t:otp_write(0, "\x12\x34\xFF")
          local trace = p:trace(false)
          assert.is_true(ok)
          assert.equal(0, st.bytes)
          assert.same({}, kit.writes(trace))
        end)

        it("rule 3: a range over same bytes of a locked block leaves that block alone", function()
          -- a write of a locked block's byte would end in WRPERR (RM0090
          -- §3.5.4, PM0059 §2.6)
          assert.is_true((t:otp_write(info.bs - 2, "\x01\x02")))
          assert.is_true((t:otp_lock(0)))
          p:trace(true)
          assert.is_true((t:otp_write(info.bs - 2, "\x01\x02\x03\x04")))
          assert.same({ info.base + info.bs, info.base + info.bs + 1 },
                      kit.touched(p:trace(false), info.base, info.lock + 16))
        end)

        it("rule 4: locks with PSIZE x8 and byte writes of only the named lock bytes, then reads all back", function()
          assert.is_true((t:otp_write(2 * info.bs, "\x5A")))
          p:trace(true)
          local erased = string.rep("\xFF", info.bs)
          assert.is_true((t:otp_lock(2, 5, 6, { expect = { [5] = erased, [6] = erased } })))
          local trace = p:trace(false)
          local writes, psize = kit.writes(trace), nil
          local last_lock_write = 0
          for _, w in ipairs(writes) do
            if w.reg == FLASH_CR then psize = (w.value >> 8) & 3 end
            if w.addr then
              assert.same({ 1, 0 }, { w.width, psize }, "lock write must be 8-bit under PSIZE x8")
              last_lock_write = w.index
            end
          end
          assert.same({ info.lock + 2, info.lock + 5, info.lock + 6 }, kit.touched(trace, info.base, info.lock + 16))
          local read_back = false
          for _, r in ipairs(kit.reads(trace)) do
            if r.index > last_lock_write and r.addr <= info.lock and r.addr + r.n >= info.lock + 16 then
              read_back = true
            end
          end
          assert.is_true(read_back, "all lock bytes read back after the lock writes")
          -- already locked blocks are not written again (rule 3 for locks)
          p:trace(true)
          assert.is_true((t:otp_lock({ 5, 7 }, { expect = { [7] = erased } })))
          assert.same({ info.lock + 7 }, kit.touched(p:trace(false), info.base, info.lock + 16))
          p:close()
          p = nil
          -- exactly 0x00 in the locked blocks' bytes, neighbours still 0xFF
          assert.equal("\xFF\xFF\0\xFF\xFF\0\0\0" .. string.rep("\xFF", 8), kit.image_locks(img))
        end)

        it("rule 4: refuses to lock a block whose data no longer reads back as written, locking none", function()
          assert.is_true((t:otp_write(info.bs, "\x0F")))
          local other = assert(p:attach())     -- a second handle on the same chip
          assert.is_true((other:otp_write(info.bs, "\x0E")))
          p:trace(true)
          -- block 0 passes (expect); block 1 fails, so neither is locked
          local r = { t:otp_lock(0, 1, { expect = { [0] = string.rep("\xFF", info.bs) } }) }
          assert.same({ nil, "verify" }, { r[1], r[3] })
          assert.matches("block 1 does not read back as written", r[2], 1, true)
          assert.same({}, kit.touched(p:trace(false), info.lock, info.lock + 16))
          assert.same({ false, false }, { t:otp_locks()[1], t:otp_locks()[2] })
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
