-- probe:trace() in stotp.core: one entry per command sent, and for an
-- RW_MISC_OUT (F2 51) its data phase, so the register writes a batch
-- carries (DBGMCU at attach, the flash keys) are as visible to the specs
-- that follow writes as WRITEDEBUGREG ones. Run through both transports.
local kit = require("corekit")

local IMG = kit.TMP .. "/stotp-core-trace.img"
local PART = "stm32f429zi"
-- ARMv7-M ARM C1.6.2 (DHCSR), RM0090 rev 19 §38.16.3 and §38.16.4
-- (DBGMCU_CR, DBGMCU_APB1_FZ), §38.6.1 (DBGMCU_IDCODE)
local DHCSR, DBGMCU_CR, DBGMCU_APB1_FZ, IDCODE = 0xE000EDF0, 0xE0042004, 0xE0042008, 0xE0042000
-- What an attach writes to a board fresh from power-on (DBGMCU bits 0):
-- halt (DBGKEY | C_HALT | C_DEBUGEN), both watchdogs frozen (DBG_IWDG_STOP,
-- DBG_WWDG_STOP), debug kept in SLEEP, STOP and STANDBY.
local ATTACH_WRITES = {
  { DHCSR, 0xA05F0003 }, { DBGMCU_APB1_FZ, 0x1800 }, { DBGMCU_CR, 0x7 },
}
local TRACE_CAP = 4096 -- src/lstotp_probe.c

-- The register writes of a trace as { reg, value } pairs, and the command
-- code (F2 xx) of the entry each came from.
local function reg_writes(trace)
  local pairs_, codes = {}, {}
  for _, w in ipairs(kit.writes(trace)) do
    if w.op == "reg" then
      pairs_[#pairs_ + 1] = { w.reg, w.value }
      codes[#codes + 1] = trace[w.index]:byte(2)
    end
  end
  return pairs_, codes
end

-- A fresh board attached through `probe`, traced from the first command
-- of the attach: the trace and the commands the attach sent.
local function traced_attach(transport, probe)
  os.remove(IMG)
  local p = assert(kit.open(transport, IMG, PART, probe))
  local before = p:stats().commands
  p:trace(true)
  local t = assert(p:attach())
  local trace = p:trace(false)
  local sent = p:stats().commands - before
  return p, t, trace, sent
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core probe:trace (" .. transport .. ")", function()
    after_each(function() os.remove(IMG) end)

    -- { probe, the command each register write goes out in, row name }
    for _, row in ipairs {
      { "v2:J37", 0x51, "shows the register writes an attach batches in RW_MISC_OUT, in order (V2 J37)" },
      { "v2:J25", 0x35, "shows the same register writes as WRITEDEBUGREG on a probe without RW_MISC (V2 J25)" },
    } do
      it(row[3], function()
        local p, _, trace = traced_attach(transport, row[1])
        p:close()
        local writes, codes = reg_writes(trace)
        assert.same(ATTACH_WRITES, writes)
        for i, c in ipairs(codes) do assert.equal(row[2], c, "write " .. i) end
      end)
    end

    it("gives stotp hwtest's report every write, a batched register write as a 32-bit write", function()
      local hwtest = require("stotp.cli.hwtest")
      for _, probe in ipairs { "v2:J37", "v2:J25" } do
        local p, t, trace = traced_attach(transport, probe)
        p:trace(true)
        assert(t:otp_write(4, "\x12\x34\x56\x78"))
        for _, c in ipairs(p:trace(false)) do trace[#trace + 1] = c end
        p:close()
        local want = {}
        for _, w in ipairs(kit.writes(trace)) do
          want[#want + 1] = w.op == "reg" and { addr = w.reg, n = 4, width = 4 }
            or { addr = w.addr, n = w.n, width = w.width }
        end
        assert.is_true(#want > #ATTACH_WRITES, probe)
        assert.same(want, hwtest.trace_writes(trace), probe)
      end
    end)

    it("shows a batched DBGMCU_IDCODE read as a register read, not a memory read", function()
      for _, probe in ipairs { "v2:J37", "v2:J25" } do
        local p, _, trace = traced_attach(transport, probe)
        p:close()
        local seen = 0
        for _, r in ipairs(kit.regreads(trace)) do
          if r.reg == IDCODE then seen = seen + 1 end
        end
        assert.equal(1, seen, probe)
        for _, r in ipairs(kit.reads(trace)) do
          assert.equal("read", r.op, probe)
          assert.is_number(r.addr, probe)
        end
      end
    end)

    it("keeps one entry per command sent: the commands stat counts them", function()
      for _, probe in ipairs(kit.PROBES) do
        local p, t, trace, sent = traced_attach(transport, probe)
        assert.equal(sent, #trace, probe)
        local before = p:stats().commands
        p:trace(true)
        assert(t:otp_write(0, "\x5A\xA5"))
        assert(t:otp_lock(0))
        trace = p:trace(false)
        assert.equal(p:stats().commands - before, #trace, probe)
        p:close()
      end
    end)

    it("carries an RW_MISC_OUT's data phase after its 16-byte command, and nothing after others", function()
      local p, _, trace = traced_attach(transport, "v2:J37")
      p:close()
      local misc = 0
      for i, c in ipairs(trace) do
        if c:byte(1) == 0xF2 and c:byte(2) == 0x51 then
          misc = misc + 1
          local items = string.unpack("<I4", c, 3)
          assert.equal(16 + (items + 3) // 4 * 4 + 4 * items, #c, "entry " .. i)
        else
          assert.equal(16, #c, "entry " .. i)
        end
      end
      assert.equal(2, misc) -- attach_reads and attach_flash (src/target.c)
    end)

    it("counts the commands past its bound in .dropped, and clears them with the record", function()
      os.remove(IMG)
      local p = assert(kit.open(transport, IMG, PART, "v2:J37"))
      local before = p:stats().commands
      p:trace(true)
      for _ = 1, TRACE_CAP + 10 do assert(p:voltage()) end
      local trace = p:trace()
      local sent = p:stats().commands - before
      assert.same({ TRACE_CAP, sent - TRACE_CAP }, { #trace, trace.dropped })
      assert(p:voltage())
      trace = p:trace(false)
      assert.same({ 1 }, { #trace, trace.dropped })
      p:close()
    end)
  end)
end
