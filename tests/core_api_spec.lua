-- stotp.core Lua API shape: options, objects, closing, argument errors.
local env = require("testenv")
local kit = require("corekit")
local stotp = require("stotp")

local IMG = kit.TMP .. "/stotp-core-api.img"
local NEW = kit.TMP .. "/stotp-core-api-new.img"   -- must never be created
local FF32 = string.rep("\xFF", 32)   -- an erased F4 block

local function fresh()
  os.remove(IMG)
  env.setenv("VPROBE_FAULT", nil)
  env.setenv("VPROBE_VOLTAGE", nil)
  return assert(stotp.open { sim = IMG, sim_part = "stm32f429zi", sim_probe = "v2-1:J40M27" })
end

describe("stotp.core api", function()
  it("extends stotp.core in place and sets no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["stotp"] = nil
    local m = require("stotp")
    assert.equal(require("stotp.core"), m)
    assert.is_function(m.connect)
    for k in pairs(_G) do assert.is_true(before[k], k) end
  end)

  -- Table-driven: each row is a bad option table and the error it raises;
  -- nothing is opened, so the board image named is never created.
  local bad_opts = {
    { { seriall = "x" }, "unknown option 'seriall'" },
    { { serial = 12 }, "option 'serial' must be a string" },
    { { freq_khz = "fast" }, "option 'freq_khz' must be a positive number" },
    { { freq_khz = -1 }, "option 'freq_khz' must be a positive number" },
    { { freq_khz = 0 }, "option 'freq_khz' must be a positive number" },
    { { freq_khz = 0 / 0 }, "option 'freq_khz' must be a positive number" },
    { { freq_khz = math.huge }, "option 'freq_khz' must be a positive number of kHz up to 100000" },
    { { freq_khz = 1e12 }, "option 'freq_khz' must be a positive number of kHz up to 100000" },
    { { sim = true }, "option 'sim' must be a string" },
    { { sim = "" }, "option 'sim' must name a board image file" },
    { { [1] = "x" }, "unknown option" },
    { { sim_part = "stm32f429zi" }, "need 'sim' (a board image path)" },
    { { sim_probe = "v3" }, "need 'sim' (a board image path)" },
    { { sim_voltage = 3.3 }, "need 'sim' (a board image path)" },
    { { sim_fault = "unplug@3" }, "need 'sim' (a board image path)" },
    { { sim_quirks = "busy_write=drop" }, "need 'sim' (a board image path)" },
    { { sim = NEW, sim_quirks = 1 }, "option 'sim_quirks' must be a string" },
    { { sim = NEW, serial = "066D" }, "options 'sim' and 'serial' exclude each other" },
    { { sim = NEW, sim_voltage = -1 }, "option 'sim_voltage' must be a positive number" },
    { { sim = NEW, sim_voltage = 0 / 0 }, "option 'sim_voltage' must be a positive number" },
    { { sim = NEW, sim_voltage = 40 }, "option 'sim_voltage' must be a positive number of volts up to 10" },
    { { sim = NEW, sim_part = 429 }, "option 'sim_part' must be a string" },
    { { sim = NEW, sim_fault = false }, "option 'sim_fault' must be a string" },
  }
  for i, row in ipairs(bad_opts) do
    it("raises for bad open options #" .. i .. ": " .. row[2], function()
      os.remove(NEW)
      local ok, err = pcall(stotp.open, row[1])
      assert.is_false(ok)
      assert.matches(row[2], err, 1, true)
      assert.is_nil(io.open(NEW))
    end)
  end

  -- Options the model refuses: nil, message, code, and no image created.
  local refused_opts = {
    { { sim_part = "stm32f999" }, "unknown target 'stm32f999'" },
    { { sim_probe = "v9" }, "unknown VPROBE_PROBE 'v9'" },
    { { sim_probe = "v2:J99x" }, "bad firmware version" },
    { { sim_fault = "bogus" }, "bad item 'bogus'" },
  }
  for _, row in ipairs(refused_opts) do
    it("returns nil, msg, code for a sim the model cannot make: " .. row[2], function()
      os.remove(NEW)
      row[1].sim = NEW
      local r = { stotp.open(row[1]) }
      assert.same({ nil, "sim" }, { r[1], r[3] })
      assert.matches(row[2], r[2], 1, true)
      assert.is_nil(io.open(NEW))
    end)
  end

  it("raises when open gets a non-table", function()
    assert.has_error(function() stotp.open("board.img") end)
  end)

  it("prints a probe and a target usefully", function()
    local p = fresh()
    assert.matches("^stotp%.Probe: ST%-Link/V2%-1 V2J40M27 %x+ %(open%)$", tostring(p))
    local t = assert(p:attach())
    assert.matches("^stotp%.Target: STM32F427/429/437/439 %(STM32F42xxx/43xxx%) rev %w+, 2048 KiB flash, UID "
                   .. t.uid .. ", RDP 0 %(open%)$", tostring(t))
    p:close()
    assert.equal("stotp.Probe: (closed)", tostring(p))
  end)

  it("reports version fields per firmware", function()
    local p = fresh()
    local v = p:version()
    assert.same({ 2, 40, 27, nil, "V2J40M27", "V2-1", 0x374B },
                { v.hw, v.jtag, v.msd, v.swim, v.string, v.kind, v.pid })
    p:close()
  end)

  it("closes idempotently and raises on use after close", function()
    local p = fresh()
    p:close()
    p:close()
    assert.has_error(function() p:attach() end, nil)
    local ok, err = pcall(p.version, p)
    assert.is_false(ok)
    assert.matches("closed stotp.Probe", err, 1, true)
  end)

  it("closes probe and target with <close>", function()
    local probe_ref
    do
      local p <close> = fresh()
      local t <close> = assert(p:attach())
      probe_ref = p
      assert.is_string(t:otp_read())
    end
    assert.equal("stotp.Probe: (closed)", tostring(probe_ref))
  end)

  it("keeps the probe alive while a target refers to it", function()
    local t = assert(fresh():attach())
    collectgarbage()
    collectgarbage()
    assert.equal(512, #t:otp_read())
    -- Unreachable now, the pair is collected and the probe released: the
    -- next spec may claim the same board.
    t = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
  end)

  it("returns nil, msg, 'closed' from a target whose probe was closed", function()
    local p = fresh()
    local t = assert(p:attach())
    p:close()
    local r = { t:otp_read() }
    assert.same({ nil, "closed: the probe of this target was closed", "closed" }, r)
    t:close()
    assert.has_error(function() t:otp_read() end)
  end)

  it("reads memory in any alignment and as words", function()
    local p = fresh()
    local t = assert(p:attach())
    local uid = t:read(0x1FFF7A10, 12)
    assert.equal(t.uid_bytes, uid)
    assert.equal(t.uid_bytes:sub(2, 6), t:read(0x1FFF7A11, 5))
    local w = t:read32(0x1FFF7A10)
    assert.equal(string.unpack("<I4", uid), w)
    p:close()
  end)

  it("records the command packets it sends while tracing, and only then", function()
    local p = fresh()
    local t = assert(p:attach())
    assert.same({}, p:trace(true))
    t:read32(0x1FFF7A10)
    local trace = p:trace()
    assert.same({ true, 16 }, { #trace >= 2, #trace[1] })
    -- READMEM_32BIT of 4 bytes at the UID (OOCD stlink_usb.c)
    local b0, b1, addr, n = string.unpack("<BBI4I2", trace[1])
    assert.same({ 0xF2, 0x07, 0x1FFF7A10, 4 }, { b0, b1, addr, n })
    assert.same({}, p:trace(false))
    t:read32(0x1FFF7A10)
    assert.same({}, p:trace())
    assert.has_error(function() p:trace("yes") end)
    p:close()
  end)

  -- Every bad input to a target method, one row each: either it raises
  -- (a wrong type: a programming mistake) with `err` in the message, or it
  -- returns nil, a message containing `err`, and `code`. After each, the
  -- board image is byte-identical: nothing was written.
  local MAXI, MINI = math.maxinteger, math.mininteger
  local bad_calls = {
    { "read", { "x", 4 }, err = "number expected" },
    { "read", { 0x20000000, -1 }, err = "length out of range" },
    { "read", { 0x20000000, 1 << 40 }, err = "length out of range" },
    { "read", { 0x20000000, 1.5 }, err = "number has no integer representation" },
    { "read", { -4, 4 }, err = "address out of range" },
    { "read", { 1 << 32, 4 }, err = "address out of range" },
    { "read32", { 0x20000001 }, err = "address not 4-byte aligned" },
    { "read32", { "0x20000000" }, err = "number expected" },
    { "write32", { 0x20000001, 0 }, err = "address not 4-byte aligned" },
    { "write32", { 0x1FFF77FE, 0 }, err = "address not 4-byte aligned" },
    { "write32", { 0x20000000, "v" }, err = "number expected" },
    { "write32", { 0x20000000, -1 }, err = "value out of range" },
    { "write32", { 0x20000000, 1 << 32 }, err = "value out of range" },
    { "write32", { 0x1FFF7800, 0 }, code = "range", err = "0x1FFF7800 is in the OTP area" },
    { "write32", { 0x1FFF7A0C, 0 }, code = "range", err = "0x1FFF7A0C is in the OTP area" },
    { "otp_check", { 0, 12 }, err = "string expected" },
    { "otp_check", { -1, "\0" }, code = "range", err = "offset -1 is negative" },
    { "otp_check", { 0, "" }, code = "range", err = "no bytes given" },
    { "otp_write", { "0", "\0" }, err = "number expected" },
    { "otp_write", { 1.5, "\0" }, err = "number has no integer representation" },
    { "otp_write", { nil, "\0" }, err = "number expected" },
    { "otp_write", { 0, nil }, err = "string expected" },
    { "otp_write", { 0, 0 }, err = "string expected" },
    { "otp_write", { 0, { 0 } }, err = "string expected" },
    { "otp_write", { 0, "" }, code = "range", err = "no bytes given at offset 0: nothing to write" },
    { "otp_write", { 600, "" }, code = "range", err = "no bytes given" },
    { "otp_write", { -1, "\0" }, code = "range", err = "offset -1 is negative" },
    { "otp_write", { MINI, "\0" }, code = "range", err = "is negative" },
    { "otp_write", { MAXI, "\0" }, code = "range", err = "offset 0x7FFFFFFFFFFFFFFF is outside the OTP" },
    { "otp_write", { MAXI - 1, "\0\0\0" }, code = "range", err = "is outside the OTP" },
    { "otp_write", { 1 << 32, "\0" }, code = "range", err = "offset 0x100000000 is outside the OTP" },
    { "otp_write", { 600, "\0" }, code = "range", err = "offset 0x258 is outside the OTP" },
    { "otp_write", { 511, "\0\0" }, code = "range", err = "bytes 0x1FF-0x200 reach into the lock bytes" },
    { "otp_write", { 512, "\0" }, code = "range", err = "reach into the lock bytes" },
    { "otp_write", { 0, string.rep("\0", 513) }, code = "range", err = "reach into the lock bytes" },
    { "otp_write", { 0, string.rep("\0", 600) }, code = "range", err = "bytes 0x0-0x257 reach into the lock bytes" },
    { "otp_write", { 0x1FFF7810, "\0" }, code = "range", err = "so this is offset 0x10" },
    { "otp_write", { 0x1FFF7A03, "\0" }, code = "range", err = "a lock byte: use otp_lock" },
    { "otp_write", { 0x1FF0F000, "\0" }, code = "range", err = "in the OTP of the STM32F74x-F77x" },
    { "otp_write", { 0, "\0", { mode = "fast" } }, err = "option 'mode' must be \"burst\" or \"unit\"" },
    { "otp_write", { 0, "\0", { mode = 1 } }, err = "option 'mode' must be \"burst\" or \"unit\"" },
    { "otp_write", { 0, "\0", { moed = "unit" } }, err = "unknown option 'moed'" },
    { "otp_write", { 0, "\0", "unit" }, err = "table expected" },
    { "otp_write", { 0, "\x13" }, code = "bits", err = "0x12 -> 0x13" },
    { "otp_write", { 3 * 32, "\0" }, code = "locked", err = "block 3" },
    { "otp_lock", {}, err = "block number(s) expected" },
    { "otp_lock", { {} }, err = "block number(s) expected" },
    { "otp_lock", { "one" }, err = "block number (an integer) expected" },
    { "otp_lock", { "1" }, err = "block number (an integer) expected" },
    { "otp_lock", { 1.5 }, err = "block number (an integer) expected" },
    { "otp_lock", { true }, err = "block number (an integer) expected" },
    { "otp_lock", { { 0, "x" } }, err = "block number (an integer) expected" },
    { "otp_lock", { 0, 1.5 }, err = "block number (an integer) expected" },
    { "otp_lock", { -1 }, code = "range", err = "no OTP block -1: blocks are numbered 0-15; nothing locked" },
    { "otp_lock", { 16 }, code = "range", err = "no OTP block 16" },
    { "otp_lock", { MAXI }, code = "range", err = "no OTP block " .. MAXI },
    { "otp_lock", { MINI }, code = "range", err = "no OTP block " .. MINI },
    { "otp_lock", { 0, 16 }, code = "range", err = "no OTP block 16" },
    { "otp_lock", { { 1, 2, 40 } }, code = "range", err = "no OTP block 40" },
    { "otp_lock", { 0, 0 }, code = "range", err = "block 0 is named twice; nothing locked" },
    { "otp_lock", { { 5, 2, 5 } }, code = "range", err = "block 5 is named twice" },
    { "otp_lock", { 2, 2.0 }, code = "range", err = "block 2 is named twice" },
    -- a list is all the blocks: only an options table may follow it
    { "otp_lock", { { 1 }, 2 }, err = "a block list cannot be followed by more blocks" },
    { "otp_lock", { { 1 }, {}, {} }, err = "a block list cannot be followed by more blocks" },
    { "otp_lock", { { 1 }, "x" }, err = "a block list cannot be followed by more blocks" },
    { "otp_lock", { 1, "x" }, err = "block number (an integer) expected" },
    { "otp_lock", { 1, {}, 2 }, err = "block number (an integer) expected" },
    { "otp_lock", { 1, { expct = {} } }, err = "otp_lock: unknown option 'expct'" },
    { "otp_lock", { 1, { expect = "\255" } }, err = "option 'expect' must be a table of block = bytes" },
    { "otp_lock", { 1, { expect = { x = FF32 } } }, err = "expect keys must be block numbers (integers), got string" },
    { "otp_lock", { 1, { expect = { [1.5] = FF32 } } }, err = "expect keys must be block numbers" },
    { "otp_lock", { 1, { expect = { [1] = 255 } } }, err = "expect[1] must be a string of the block's bytes, got number" },
    { "otp_lock", { 1, { expect = { [2] = FF32 } } }, code = "range",
      err = "expect names block 2, which this call does not lock; nothing locked" },
    { "otp_lock", { 1, { expect = { [16] = FF32 } } }, code = "range", err = "expect names block 16" },
    { "otp_lock", { 1, { expect = { [1] = FF32:sub(2) } } }, code = "range",
      err = "expect for block 1 is 31 bytes; a block is 32 bytes on this part; nothing locked" },
    -- rule 4: data this handle did not write and verify is locked only
    -- against the caller's expect, and all of it must match
    { "otp_lock", { 1 }, code = "verify", err = "block 1 was not written and verified through this handle" },
    { "otp_lock", { 0 }, code = "verify", err = "block 0 was not written and verified through this handle" },
    { "otp_lock", { 0, { expect = { [0] = "\x13" .. FF32:sub(2) } } }, code = "verify",
      err = "block 0 differs from expect at offset 0x0 (0x1FFF7800): reads 0x12, expected 0x13; nothing locked" },
    { "otp_lock", { { 0, 1 }, { expect = { [0] = "\x12" .. FF32:sub(2), [1] = FF32:sub(2) .. "\0" } } },
      code = "verify", err = "block 1 differs from expect at offset 0x3F (0x1FFF783F): reads 0xFF, expected 0x00" },
    { "otp_lock", { 2, 3, { expect = { [2] = FF32, [3] = "\0" .. FF32:sub(2) } } }, code = "verify",
      err = "block 3 differs from expect at offset 0x60" },
  }
  for i, row in ipairs(bad_calls) do
    it(string.format("rejects bad input #%d to target:%s (%s), writing nothing", i, row[1], row.err), function()
      -- a board with data at offset 0 and block 3 locked, saved to IMG
      local p = fresh()
      local t = assert(p:attach())
      assert.is_true((t:otp_write(0, "\x12")))
      assert.is_true((t:otp_lock(3, { expect = { [3] = FF32 } })))
      p:close()
      local before = kit.slurp(IMG)
      p = assert(stotp.open { sim = IMG })
      t = assert(p:attach())
      local args = row[2]
      local r = table.pack(pcall(t[row[1]], t, table.unpack(args, 1, args.n or #args)))
      p:close()
      if row.code then
        assert.same({ true, nil, row.code }, { r[1], r[2], r[4] })
        assert.equal(row.code .. ":", r[3]:match("^%w+:"))
        assert.matches(row.err, r[3], 1, true)
      else
        assert.is_false(r[1])
        assert.matches(row.err, r[2], 1, true)
      end
      assert.equal(before, kit.slurp(IMG))
    end)
  end

  it("lists locked blocks through the Lua layer", function()
    local p = fresh()
    local t = assert(p:attach())
    assert.is_true((t:otp_lock(3, 7, { expect = { [3] = FF32, [7] = FF32 } })))
    assert.same({ 3, 7 }, stotp.locked_blocks(t))
    p:close()
  end)
end)
