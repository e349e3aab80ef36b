-- `stotp hwtest`, the guarded hardware-write self-test (issue 8 item 8):
-- on vprobe, each reading of the unconfirmed burst behaviour
-- (VPROBE_QUIRKS busy_write=stall|drop|pgserr) must give the report that
-- matches it, and every refusal must leave the board as it was. Runs the
-- command in process over the drop-in libusb, as on a real probe.
local kit = require("corekit")
local env = require("testenv")
local cli = require("stotp.cli")
local buffer = require("buffer")
local dkjson = require("dkjson")

local IMG = kit.TMP .. "/stotp-hwtest.img"
local REPORT = kit.TMP .. "/stotp-hwtest.json"

-- The board's UID, read by opening it once (creates the image).
local function board_uid(part, probe, quirks)
  local p = assert(kit.open("usb", IMG, part, probe, { quirks = quirks }))
  local t = assert(p:attach())
  local uid = t.uid
  p:close()
  return uid
end

local function hwtest(args, typed)
  local out, err = buffer(), buffer()
  local argv = { "hwtest", "--report", REPORT, "--json" }
  for _, a in ipairs(args or {}) do argv[#argv + 1] = a end
  local code = cli.main(argv, { out = out, err = err, input = buffer(typed and { typed } or {}) })
  return code, dkjson.decode(out.text) or {}, err.text
end

local function file_report()
  local f = io.open(REPORT)
  if not f then return nil end
  local r = dkjson.decode(f:read("a"))
  f:close()
  return r
end

local function contains(list, x)
  for _, v in ipairs(list or {}) do if v == x then return true end end
  return false
end

describe("stotp hwtest", function()
  before_each(function()
    os.remove(IMG)
    os.remove(REPORT)
  end)
  teardown(function()
    for _, k in ipairs({ "VPROBE_QUIRKS", "VPROBE_STATE", "VPROBE_TARGET", "VPROBE_PROBE", "VPROBE_FAULT" }) do
      env.setenv(k, nil)
    end
  end)

  -- One row per reading of the burst (src/vprobe/quirks.c): the quirks, the
  -- SWD clock, and what the burst pass of the report must say.
  local ROWS = {
    { part = "stm32f429zi", probe = "v2-1:J40M27", quirks = "busy_write=stall", outcome = "complete" },
    { part = "stm32f429zi", probe = "v2-1:J40M27", quirks = "busy_write=stall,tprog=max", khz = "4000",
      outcome = "wait", status = "0x10" },
    { part = "stm32f429zi", probe = "v3:J7M3", quirks = "busy_write=stall,tprog=max", khz = "24000",
      outcome = "wait", status = "0x10" },
    { part = "stm32f429zi", probe = "v2-1:J40M27", quirks = "busy_write=drop,tprog=max", outcome = "dropped" },
    { part = "stm32f429zi", probe = "v2:J25", quirks = "busy_write=pgserr,tprog=max", outcome = "flash error",
      flag = "PGSERR" },
    { part = "stm32f767zi", probe = "v3:J7M3", quirks = "busy_write=pgserr,tprog=max", outcome = "flash error",
      flag = "ERSERR" },
  }
  for _, row in ipairs(ROWS) do
    it(string.format("reports a burst that ends '%s' with %s (%s, %s)", row.outcome, row.quirks, row.probe, row.part),
      function()
        local uid = board_uid(row.part, row.probe, row.quirks)
        local code, r, err = hwtest(row.khz and { "--khz", row.khz } or {}, uid:lower())
        assert.equal(0, code, err)
        assert.same(r, file_report())
        assert.equal("ok", r.status)
        assert.same({ uid, row.quirks }, { r.part.uid, r.probe.vprobe.VPROBE_QUIRKS })
        assert.truthy(r.probe.firmware and r.probe.serial and r.voltage, err)
        local burst, unit = r.passes[1], r.passes[2]
        assert.same({ "burst", 15, true, row.outcome, {} }, { burst.name, burst.block, burst.ok, burst.burst,
          burst.readback_differences })
        assert.equal(row.outcome ~= "complete", burst.fell_back)
        assert.equal(row.status, burst.status)
        if row.flag then
          assert.is_true(contains(burst.sr_flags, row.flag), dkjson.encode(burst.sr_flags))
        else
          assert.is_nil(burst.sr_flags)
        end
        -- the units the burst lost are the ones written again one at a time
        if row.outcome == "complete" then
          assert.same({ 0, nil }, { burst.burst_lost_bytes, burst.burst_error })
        else
          assert.truthy(burst.burst_lost_bytes > 0)
          assert.is_string(burst.burst_error)
        end
        assert.truthy(burst.round_trips > 0 and burst.wall_ms >= 0)
        local bs = r.part.block_size
        assert.same({ "unit", 14, true, "unit", false, {} }, { unit.name, unit.block, unit.ok, unit.mode_used,
          unit.fell_back, unit.readback_differences })
        assert.equal(bs, #unit.written_singly)
        -- what the board holds: the two patterns, nothing else, no lock
        local back, locks = kit.read_back("usb", IMG, row.part, row.probe)
        local hwt = require("stotp.cli.hwtest")
        assert.equal(("\xFF"):rep(14 * bs) .. hwt.UNIT(bs) .. hwt.BURST(bs), back)
        for b = 1, 16 do assert.is_false(locks[b]) end
      end)
  end

  -- Refusals: the board is as it was, and no report is written.
  local function refused(args, typed, setup)
    local uid = board_uid("stm32f429zi", "v2-1:J40M27")
    if setup then setup() end
    local before = kit.slurp(IMG)
    local code, r, err = hwtest(args, typed == true and uid or typed)
    assert.equal(before, kit.slurp(IMG))
    assert.is_nil(file_report())
    return code, r, err, uid
  end

  it("refuses a UID typed wrong: exit 1, nothing written", function()
    local code, r, err, uid = refused({}, "11005E00114F343835383134")
    assert.equal(1, code)
    assert.equal("refused", r.status)
    assert.truthy(err:find("the UID typed (11005E00114F343835383134) is not this board's (" .. uid .. "); nothing " ..
      "written", 1, true), err)
  end)

  it("refuses a UID cut short, and no UID at all", function()
    local code, _, err, uid = refused({}, "")
    assert.equal(1, code)
    assert.truthy(err:find("no UID typed; nothing written", 1, true), err)
    code, _, err = refused({}, uid and uid:sub(1, 20))
    assert.equal(1, code)
    assert.truthy(err:find("is not this board's", 1, true), err)
  end)

  it("refuses a chosen block that is not blank: exit 1, nothing written", function()
    local code, _, err = refused({ "--unit-block", "3" }, true, function()
      local p = assert(kit.open("usb", IMG, "stm32f429zi", "v2-1:J40M27"))
      assert(assert(p:attach()):otp_write(3 * 32 + 5, "\x7E"))
      p:close()
    end)
    assert.equal(1, code)
    assert.truthy(err:find("block 3 is not blank (byte +5 is 0x7E)", 1, true), err)
    assert.truthy(err:find("nothing written", 1, true), err)
  end)

  it("refuses a chosen block that is locked: exit 1, nothing written", function()
    local code, _, err = refused({ "--burst-block", "9" }, true, function()
      local p = assert(kit.open("usb", IMG, "stm32f429zi", "v2-1:J40M27"))
      local t = assert(p:attach())
      assert(t:otp_lock(9, { expect = { [9] = ("\xFF"):rep(32) } }))
      p:close()
    end)
    assert.equal(1, code)
    assert.truthy(err:find("block 9 is locked", 1, true), err)
  end)

  for _, row in ipairs({
    { { "--burst-block", "16" }, "--burst-block 16 is out of range: the OTP has blocks 0-15" },
    { { "--unit-block=-1" }, "--unit-block -1 is out of range: the OTP has blocks 0-15" },
    { { "--unit-block", "x" }, "--unit-block x is out of range" },
    { { "--burst-block", "15", "--unit-block", "15" }, "--burst-block and --unit-block must name two different blocks" },
  }) do
    it("refuses " .. table.concat(row[1], " ") .. " before opening a probe: exit 2", function()
      local code, r, err = refused(row[1], true)
      assert.equal(2, code)
      assert.equal("usage error", r.status)
      assert.truthy(err:find(row[2], 1, true), err)
    end)
  end
end)
