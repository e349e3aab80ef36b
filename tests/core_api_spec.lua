-- stotp.core Lua API shape: options, objects, closing, argument errors.
local env = require("testenv")
local stotp = require("stotp")

local IMG = (os.getenv("TMPDIR") or "/tmp") .. "/stotp-core-api.img"

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

  -- Table-driven: each row is a bad option table and the error it raises.
  local bad_opts = {
    { { seriall = "x" }, "unknown option 'seriall'" },
    { { serial = 12 }, "option 'serial' must be a string" },
    { { freq_khz = "fast" }, "option 'freq_khz' must be a positive number" },
    { { freq_khz = -1 }, "option 'freq_khz' must be a positive number" },
    { { sim = true }, "option 'sim' must be a string" },
    { { [1] = "x" }, "unknown option" },
  }
  for _, row in ipairs(bad_opts) do
    it("raises for a bad open option: " .. row[2], function()
      assert.has_error(function() stotp.open(row[1]) end)
      local ok, err = pcall(stotp.open, row[1])
      assert.is_false(ok)
      assert.matches(row[2], err, 1, true)
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

  it("refuses write32 into the OTP area", function()
    local p = fresh()
    local t = assert(p:attach())
    local r = { t:write32(0x1FFF7800, 0) }
    assert.same({ nil, "range" }, { r[1], r[3] })
    assert.equal(string.rep("\255", 4), t:otp_read():sub(1, 4))
    p:close()
  end)

  -- Table-driven argument errors on target methods.
  local bad_calls = {
    { "read", { "x", 4 } },
    { "read", { 0x20000000, -1 } },
    { "read32", { 0x20000001 } },
    { "write32", { 0x20000000, "v" } },
    { "otp_check", { 0, 12 } },
    { "otp_write", { "0", "\0" } },
    { "otp_write", { 0, "\0", { mode = "fast" } } },
    { "otp_write", { 0, "\0", { moed = "unit" } } },
    { "otp_lock", {} },
    { "otp_lock", { "one" } },
  }
  for _, row in ipairs(bad_calls) do
    it("raises for target:" .. row[1] .. " with bad arguments #" .. _, function()
      local p = fresh()
      local t = assert(p:attach())
      assert.has_error(function() t[row[1]](t, table.unpack(row[2])) end)
      p:close()
    end)
  end

  it("returns nil, msg, 'range' for a block number beyond 15", function()
    local p = fresh()
    local t = assert(p:attach())
    local r = { t:otp_lock(16) }
    assert.same({ nil, "range" }, { r[1], r[3] })
    r = { t:otp_lock(40) }
    assert.same({ nil, "range" }, { r[1], r[3] })
    p:close()
  end)

  it("lists locked blocks through the Lua layer", function()
    local p = fresh()
    local t = assert(p:attach())
    assert.is_true((t:otp_lock(3, 7)))
    assert.same({ 3, 7 }, stotp.locked_blocks(t))
    p:close()
  end)
end)
