-- The USB face of vprobe: identities per probe kind (OOCD stlink_usb.c, PYO
-- usb.py), packet framing (OOCD stlink_usb.c, PYO usb.py), the drop-in
-- libusb-1.0 driven through dlopen as a host would drive it, and claiming: one
-- holder of a probe at a time, across handles, contexts and processes (vprobe.h
-- vp_board_claim).
local vb = require "vprobe_board"
local testenv = require "testenv"

local root = assert(io.popen("pwd")):read("l")
local build = root .. "/" .. (os.getenv("STOTP_BUILD") or "build")
local shim = build .. "/vprobe/libusb-1.0.so.0"
local tmp, img = require("testfiles").scratch("u")

local cmd = require("stlink_raw").cmd

local VARS = { "VPROBE_STATE", "VPROBE_PROBE", "VPROBE_TARGET", "VPROBE_FAULT", "VPROBE_STATS" }

-- run the libusb scenario of vprobe_board with these VPROBE_* variables
local function scenario(env, sends)
  for _, k in ipairs(VARS) do testenv.setenv(k, env[k]) end
  local ok, r = pcall(vb.libusb_scenario, shim, sends)
  for _, k in ipairs(VARS) do testenv.setenv(k, nil) end
  assert(ok, r)
  return r
end

-- libusb_init of the drop-in library in a child process with these VPROBE_*
-- variables: returns its code and the child's stderr (shim_child.lua)
local function child_init(env) return require("shim_child").init(tmp, env) end

-- a libusb context of the drop-in library on image `path` (VPROBE_STATE is
-- read at libusb_init only)
local function session(path, fault)
  testenv.setenv("VPROBE_STATE", path)
  testenv.setenv("VPROBE_FAULT", fault)
  local s, code = vb.libusb_session(shim)
  testenv.setenv("VPROBE_STATE", nil)
  testenv.setenv("VPROBE_FAULT", nil)
  return s, code
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

local BUSY, ACCESS = -6, -3 -- LIBUSB_ERROR_*

local function cmd_sh(path, line)
  local log = tmp .. "/sh.log"
  local ok = os.execute("unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_FAULT VPROBE_STATS; " ..
                        "LD_LIBRARY_PATH=" .. build .. "/vprobe VPROBE_STATE=" .. path ..
                        " timeout 60 " .. line .. " >" .. log .. " 2>&1")
  local f = assert(io.open(log))
  local out = f:read("a")
  f:close()
  return ok == true, out
end

local function hex_bytes(hex)
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

describe("vprobe.usb", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  describe("identities", function()
    -- { probe, pid, ep_out, ep_in, ep_trace, max_packet, interfaces, product }
    -- (OOCD stlink_usb.c, PYO usb.py)
    local rows = {
      { "v2", 0x3748, 0x02, 0x81, 0x83, 64, 1, "STM32 STLink" },
      { "v2-1", 0x374B, 0x01, 0x81, 0x82, 64, 4, "STM32 STLink" },
      { "v2-1@3752", 0x3752, 0x01, 0x81, 0x82, 64, 3, "STM32 STLink" },
      { "v3", 0x374E, 0x01, 0x81, 0x82, 512, 3, "STLINK-V3" },
      { "v3@374f", 0x374F, 0x01, 0x81, 0x82, 512, 5, "STLINK-V3" },
      { "v3@3753", 0x3753, 0x01, 0x81, 0x82, 512, 6, "STLINK-V3" },
      { "v3@3754", 0x3754, 0x01, 0x81, 0x82, 512, 3, "STLINK-V3" },
    }
    for _, row in ipairs(rows) do
      it("presents " .. row[1] .. " as VID 0483 PID " .. string.format("%04X", row[2]), function()
        local b <close> = assert(vb.open{ state = img(), probe = row[1] })
        local u = b:usb()
        assert.same({ 0x0483, row[2], row[3], row[4], row[5], row[6], row[7], "STMicroelectronics", row[8] },
                    { u.vid, u.pid, u.ep_out, u.ep_in, u.ep_trace, u.max_packet, u.num_interfaces,
                      u.manufacturer, u.product })
      end)
    end

    it("gives an old V2 a 12-raw-byte serial descriptor (bLength 26)", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2" })
      local u = b:usb()
      local raw = hex_bytes(u.serial)
      assert.same(26, #u.serial_desc)
      assert.same("\26\3" .. raw:gsub(".", "%0\0"), u.serial_desc)
    end)

    it("gives V2-1 and V3 24 hex characters in UTF-16 (bLength 50)", function()
      for _, probe in ipairs{ "v2-1", "v3" } do
        local b <close> = assert(vb.open{ state = img(), probe = probe })
        local u = b:usb()
        assert.same(24, #u.serial)
        assert.is_truthy(u.serial:match("^%x+$"))
        assert.same("\50\3" .. u.serial:gsub(".", "%0\0"), u.serial_desc)
      end
    end)

    it("keeps a board's serial across opens and gives another board another", function()
      local path = img()
      local function serial_of(p)
        local b <close> = assert(vb.open{ state = p })
        return b:usb().serial
      end
      local first, again, other = serial_of(path), serial_of(path), serial_of(img())
      assert.same(first, again)
      assert.are_not.equal(first, other)
    end)
  end)

  describe("framing", function()
    it("times out an IN with no reply pending", function()
      local b <close> = assert(vb.open{ state = img() })
      assert.same({ nil, "timeout", -7 }, { b:in_(b:usb().ep_in, 64) })
    end)

    it("stalls transfers on endpoints the probe lacks, and times out the trace endpoint", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2" })
      local u = b:usb()
      assert.same({ nil, "pipe", -9 }, { b:out(0x01, cmd("B", 0xF1)) })
      assert.same({ nil, "pipe", -9 }, { b:in_(0x82, 64) })
      assert.same({ nil, "timeout", -7 }, { b:in_(u.ep_trace, 64) })
    end)

    it("stalls a command packet longer than 16 bytes", function()
      local b <close> = assert(vb.open{ state = img() })
      assert.same({ nil, "pipe", -9 }, { b:out(b:usb().ep_out, cmd("B", 0xF1) .. "\0") })
    end)

    it("hands a long reply out in whole packets when the buffer is a packet multiple", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2-1:J40M27" })
      local u = b:usb()
      assert(b:out(u.ep_out, cmd("BB", 0xF2, 0x56)))  -- GET_BOARD_IDENTIFIERS: 128 bytes
      local a, c = b:in_(u.ep_in, 64), b:in_(u.ep_in, 64)
      assert.same({ 64, 64, 0x80 }, { #a, #c, a:byte(1) })
      assert.same({ nil, "timeout", -7 }, { b:in_(u.ep_in, 64) })
    end)

    it("drops an unread reply when the next command arrives", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2-1" })
      local u = b:usb()
      assert(b:out(u.ep_out, cmd("B", 0xF1)))
      assert(b:out(u.ep_out, cmd("B", 0xF5)))
      assert.same("\1\0", b:in_(u.ep_in, 64))
    end)
  end)

  describe("drop-in libusb", function()
    it("lists one device per image with the identity and descriptors of its board", function()
      local a, c = img(), img()
      local r = scenario{ VPROBE_STATE = a .. ":" .. c, VPROBE_PROBE = "v2-1" }
      assert.same(0, r.init)
      assert.same(2, #r.devices)
      for i, path in ipairs{ a, c } do
        local b <close> = assert(vb.open{ state = path, probe = "v2-1", index = i - 1 })
        local u = b:usb()
        local d = r.devices[i]
        assert.same({ u.vid, u.pid, u.bus, u.address, u.num_interfaces, 0xFF, { 0x81, 0x01, 0x82 }, 64,
                      u.serial, u.serial_desc, u.product },
                    { d.vid, d.pid, d.bus, d.address, d.interfaces, d.class, d.endpoints, d.max_packet,
                      d.serial_ascii, d.serial_desc, d.product })
      end
      assert.are_not.equal(r.devices[1].address, r.devices[2].address)
    end)

    it("shows a V2's raw serial bytes as libusb's ASCII conversion does ('?' above 0x7F)", function()
      local path = img()
      local r = scenario{ VPROBE_STATE = path, VPROBE_PROBE = "v2" }
      local b <close> = assert(vb.open{ state = path, probe = "v2" })
      local raw = hex_bytes(b:usb().serial)
      assert.same(raw:gsub("[\128-\255]", "?"), r.devices[1].serial_ascii)
      assert.same(b:usb().serial_desc, r.devices[1].serial_desc)
    end)

    it("runs async transfers in submission order and delivers callbacks from handle_events", function()
      local r = scenario{ VPROBE_STATE = img(), VPROBE_PROBE = "v3" }
      local COMPLETED, TIMED_OUT, CANCELLED = 0, 2, 3  -- enum libusb_transfer_status
      assert.same(0, r.claim)
      assert.same({ { status = COMPLETED, actual = 16 }, { status = COMPLETED, actual = 6 },
                    { status = TIMED_OUT, actual = 0 }, { status = CANCELLED, actual = 0 } },
                  { r.async[1], r.async[2], r.async[3], r.async[4] })
      assert.same({ "1234", 0 }, { r.async.order, r.async.cancel_rc })
      assert.same(string.pack("<I2I2", 0x0483, 0x374E), r.async.reply:sub(3, 6))
    end)

    it("fails every call with NO_DEVICE after an unplug and drops the device from the list", function()
      -- packet 1 is the async GET_VERSION; round trips 2 and 3 work, the 4th is unplugged
      local r = scenario({ VPROBE_STATE = img(), VPROBE_FAULT = "unplug@4" }, 10)
      assert.same({ 2, -4, -4, 0 }, { r.round_trips, r.error, r.claim_after, r.devices_after })
    end)

    it("writes the summed stats as JSON at libusb_exit", function()
      local stats = tmp .. "/shim-stats.json"
      scenario({ VPROBE_STATE = img(), VPROBE_STATS = stats }, 3)
      local f = assert(io.open(stats))
      local text = f:read("a")
      f:close()
      -- 1 async GET_VERSION + 3 GET_CURRENT_MODE round trips
      assert.same({ "4", "64", tostring(6 + 3 * 2) },
                  { text:match('"transactions": (%d+)'), text:match('"bytes_out": (%d+)'),
                    text:match('"bytes_in": (%d+)') })
    end)

    it("lists a probe under the access fault but refuses libusb_open with LIBUSB_ERROR_ACCESS", function()
      local r = scenario{ VPROBE_STATE = img(), VPROBE_PROBE = "v2-1", VPROBE_FAULT = "access" }
      assert.same({ 0, 1, 0x0483, 0x374B, 4 },
                  { r.init, #r.devices, r.devices[1].vid, r.devices[1].pid, r.devices[1].interfaces })
      assert.is_nil(r.devices[1].serial_ascii) -- reading the serial needs an open handle
      assert.is_nil(r.claim)
      local s <close> = assert(session(img(), "access"))
      assert.same({ nil, ACCESS }, { s:open(1) })
    end)

    it("refuses to initialise on a bad VPROBE_FAULT, saying why on stderr", function()
      local rc, err = child_init{ VPROBE_STATE = img(), VPROBE_FAULT = "unplug@0" }
      assert.equal(-99, rc)  -- LIBUSB_ERROR_OTHER
      local want = "vprobe: VPROBE_FAULT: bad item 'unplug@0' (want "
      assert.equal(want, err:sub(1, #want))
    end)
  end)

  describe("claiming", function()
    it("answers LIBUSB_ERROR_BUSY to a second context claiming a held probe, until release", function()
      local path = img()
      local a <close> = assert(session(path))
      local c <close> = assert(session(path))
      local ha, hc = assert(a:open(1)), assert(c:open(1)) -- opening does not conflict
      assert.same({ 0, BUSY }, { a:claim(ha, 0), c:claim(hc, 0) })
      assert.same(0, a:claim(ha, 0))                      -- claiming again is legal
      assert.same({ 0, 0 }, { a:release(ha, 0), c:claim(hc, 0) })
      assert.same(BUSY, a:claim(ha, 0))
    end)

    it("answers BUSY to a second handle of the same context; closing the first frees the probe", function()
      local s <close> = assert(session(img()))
      local h1, h2 = assert(s:open(1)), assert(s:open(1))
      assert.same({ 0, BUSY }, { s:claim(h1, 0), s:claim(h2, 0) })
      s:close(h1)
      assert.same(0, s:claim(h2, 0))
    end)

    it("frees the probe at libusb_exit of the holding context", function()
      local path = img()
      local a, c = assert(session(path)), assert(session(path))
      assert.same(0, a:claim(assert(a:open(1)), 0))
      local hc = assert(c:open(1))
      assert.same(BUSY, c:claim(hc, 0))
      a:exit()
      assert.same(0, c:claim(hc, 0))
      c:exit()
    end)

    it("keeps only interface 0, the debug interface, exclusive", function()
      local path = img()
      local a <close> = assert(session(path))
      local c <close> = assert(session(path))
      local ha, hc = assert(a:open(1)), assert(c:open(1))
      assert.same({ 0, 0, -5 }, { a:claim(ha, 1), c:claim(hc, 1), c:release(hc, 0) }) -- NOT_FOUND: not claimed
    end)

    it("answers BUSY while another process holds the probe, and not once that process is killed", function()
      local path = img()
      local child = tmp .. "/holder.lua"
      local f = assert(io.open(child, "w"))
      f:write([[
        local vb = require "vprobe_board"
        local s = assert(vb.libusb_session(arg[1]))
        print(s:claim(assert(s:open(1)), 0))
        io.stdout:flush()
        io.open(arg[2]) -- a FIFO nobody writes: blocks until killed
      ]])
      f:close()
      local fifo = tmp .. "/never"
      assert(os.execute("mkfifo " .. fifo))
      local p = assert(io.popen("VPROBE_STATE=" .. path .. " LUA_CPATH='" .. build .. "/test/?.so' " ..
                                "exec sh -c 'echo $$; exec lua5.4 " .. child .. " " .. shim .. " " .. fifo .. "'"))
      local pid, claimed = p:read("l"), p:read("l")
      local s <close> = assert(session(path))
      local h = assert(s:open(1))
      local busy = s:claim(h, 0)
      os.execute("kill " .. pid)
      p:close() -- reaped: the kernel has dropped its lock
      assert.same({ "0", BUSY, 0 }, { claimed, busy, s:claim(h, 0) })
    end)

    it("keeps OpenOCD and st-info off a held probe; both run, one after another, once it is released", function()
      if not (exists("/usr/bin/openocd") and exists("/usr/bin/st-info")) then
        pending("openocd or st-info is not installed")
        return
      end
      local path = img()
      local s = assert(session(path))
      local h = assert(s:open(1))
      assert.same(0, s:claim(h, 0))
      local oocd = "openocd -d3 -f interface/stlink.cfg -f target/stm32f4x.cfg -c init -c shutdown"
      local ok, out = cmd_sh(path, oocd)
      assert.is_false(ok, out)
      assert.truthy(out:find("claim interface failed", 1, true), out)
      out = select(2, cmd_sh(path, "st-info --probe")) -- it skips a probe it cannot claim
      assert.truthy(out:find("Found 0 stlink programmers", 1, true), out)
      s:exit()
      assert.is_false(exists(path .. ".lock"))
      for _ = 1, 2 do
        ok, out = cmd_sh(path, oocd)
        assert.is_true(ok, out)
        assert.truthy(out:find("shutdown command invoked", 1, true), out)
      end
      ok, out = cmd_sh(path, "st-info --probe")
      assert.is_true(ok, out)
      assert.truthy(out:find("Found 1 stlink programmers", 1, true), out)
    end)

    describe("vp_board_claim", function()
      it("gives one board on an image the claim and the next BUSY, with a lock file beside it", function()
        local path = img()
        local a <close> = assert(vb.open{ state = path })
        local c <close> = assert(vb.open{ state = path })
        assert.is_true(a:claim())
        assert.is_true(exists(path .. ".lock"))
        local r = { c:claim() }
        assert.same({ nil, "busy", BUSY }, { r[1], r[2], r[3] })
        assert.same("vprobe: the probe of " .. path .. " is claimed by another program (lock " .. path .. ".lock)",
                    r[4])
        assert.same({ nil, "busy", BUSY, "vprobe: " .. path .. " is already claimed by this board" },
                    { a:claim() })
        a:release()
        assert.is_false(exists(path .. ".lock"))
        assert.is_true(c:claim())
        c:close()                                          -- close releases too
        assert.is_true(a:claim())
      end)

      it("re-reads the image at claim, so bits another holder burned are not lost", function()
        local path = img()
        local a <close> = assert(vb.open{ state = path, probe = "v2-1" })
        local w = assert(vb.open{ state = path, probe = "v2-1" })
        assert.is_true(w:claim())
        local u = w:usb()
        local function x(packet, data, cap)
          assert(w:out(u.ep_out, cmd(table.unpack(packet))))
          if data then assert(w:out(u.ep_out, data)) end
          if cap then return w:in_(u.ep_in, cap) end
        end
        x({ "BBB", 0xF2, 0x30, 0xA3 }, nil, 2)                          -- enter SWD
        for _, v in ipairs{ 0x45670123, 0xCDEF89AB } do                  -- FLASH_KEYR (CMSIS)
          x({ "<BBI4I2", 0xF2, 0x08, 0x40023C04, 4 }, string.pack("<I4", v))
        end
        x({ "<BBI4I2", 0xF2, 0x08, 0x40023C10, 4 }, string.pack("<I4", 0x001)) -- CR = PG, x8
        x({ "<BBI4I2", 0xF2, 0x0D, 0x1FFF7800, 1 }, "\x5A")                 -- OTP byte 0
        w:close()
        assert.is_true(a:claim())
        local ua = a:usb()
        assert(a:out(ua.ep_out, cmd("BBB", 0xF2, 0x30, 0xA3)))
        assert(a:in_(ua.ep_in, 2))
        assert(a:out(ua.ep_out, cmd("<BBI4I2", 0xF2, 0x07, 0x1FFF7800, 4)))
        assert.same(0xFFFFFF5A, string.unpack("<I4", a:in_(ua.ep_in, 4)))
      end)

      it("conflicts both ways with the drop-in libusb on the same image (the in-process link vs OpenOCD)", function()
        local path = img()
        local b <close> = assert(vb.open{ state = path })
        local s <close> = assert(session(path))
        local h = assert(s:open(1))
        assert.is_true(b:claim())
        assert.same(BUSY, s:claim(h, 0))
        b:release()
        assert.same(0, s:claim(h, 0))
        local r = { b:claim() }
        assert.same({ nil, "busy", BUSY }, { r[1], r[2], r[3] })
      end)

      it("refuses the claim of an unplugged probe with NO_DEVICE", function()
        local path = img()
        local b <close> = assert(vb.open{ state = path, fault = "unplug@1" })
        b:out(b:usb().ep_out, cmd("B", 0xF1))
        assert.same({ nil, "no_device", -4, "vprobe: the probe of " .. path .. " is unplugged" },
                    { b:claim() })
      end)
    end)
  end)
end)

-- USB framing faults (faults.h short@N:M, late@N; OOCD stlink_usb_usb_open):
-- what a real ST-Link does when a transfer fails part-way or a reply misses the
-- host's timeout. The N of both is the command packet number.
describe("vprobe framing faults", function()
  local fdir, fimg = require("testfiles").scratch("f")
  teardown(function() os.execute("rm -rf " .. fdir) end)
  local SRAM = 0x20000000
  local function enter_swd(b) return require("stlink_raw").xfer(b, cmd("BBB", 0xF2, 0x30, 0xA3), 2) end
  local function read_sram(b, n)
    return require("stlink_raw").xfer(b, cmd("<BBI4I2", 0xF2, 0x07, SRAM, n), n)
  end

  it("short@N:M: a write's data stops after M bytes and the next command packet becomes data", function()
    local b <close> = assert(vb.open{ state = fimg(), fault = "short@2:3" })
    local usb = b:usb()
    assert.equal("\x80\0", enter_swd(b))
    assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x08, SRAM, 8)))
    assert.same({ nil, "io", -1 }, { b:out(usb.ep_out, "\1\2\3\4\5\6\7\8") })
    -- the probe still waits for 5 bytes: a READMEM packet completes the write
    local packet = cmd("<BBI4I2", 0xF2, 0x07, SRAM, 8)
    assert(b:out(usb.ep_out, packet))
    assert.same({ nil, "timeout", -7 }, { b:in_(usb.ep_in, 8) })   -- no reply: it was data
    assert.equal("\1\2\3" .. packet:sub(1, 5), read_sram(b, 8))
  end)

  it("short@N:M: a USB reset drops the half-received data phase and the probe is in step", function()
    local b <close> = assert(vb.open{ state = fimg(), fault = "short@3:3" })
    local usb = b:usb()
    enter_swd(b)
    local before = read_sram(b, 8)
    assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x08, SRAM, 8)))
    assert.same({ nil, "io", -1 }, { b:out(usb.ep_out, "\1\2\3\4\5\6\7\8") })
    b:reset()
    assert.equal("\x80\0", enter_swd(b))
    assert.equal(before, read_sram(b, 8))   -- nothing of the cut write landed
    assert(b:out(usb.ep_out, cmd("<BBI4I2", 0xF2, 0x08, SRAM, 8)))
    assert(b:out(usb.ep_out, "\1\2\3\4\5\6\7\8"))
    assert.equal("\1\2\3\4\5\6\7\8", read_sram(b, 8))
  end)

  it("short@N:M on a reply: M bytes, a failed transfer, and the rest comes with the next IN", function()
    local b <close> = assert(vb.open{ state = fimg(), fault = "short@1:2" })
    local usb = b:usb()
    assert(b:out(usb.ep_out, cmd("B", 0xF1)))   -- GET_VERSION: 6 bytes
    local r = { b:in_(usb.ep_in, 6) }
    assert.same({ nil, "io", -1 }, r)
    assert(b:out(usb.ep_out, cmd("B", 0xF5)))   -- GET_CURRENT_MODE: 2 bytes
    assert.equal(4, #assert(b:in_(usb.ep_in, 64)))   -- the rest of the version
    assert.equal(2, #assert(b:in_(usb.ep_in, 64)))   -- then the mode
  end)

  it("late@N: the IN times out and every later reply is shifted by one until a USB reset", function()
    local b <close> = assert(vb.open{ state = fimg(), fault = "late@2" })
    local usb = b:usb()
    assert(b:out(usb.ep_out, cmd("B", 0xF1)))
    local version = assert(b:in_(usb.ep_in, 6))
    assert(b:out(usb.ep_out, cmd("B", 0xF1)))
    assert.same({ nil, "timeout", -7 }, { b:in_(usb.ep_in, 6) })
    assert(b:out(usb.ep_out, cmd("B", 0xF5)))
    assert.equal(version, b:in_(usb.ep_in, 6))      -- command 2's reply
    assert(b:out(usb.ep_out, cmd("B", 0xF1)))
    assert.equal(2, #assert(b:in_(usb.ep_in, 6)))   -- command 3's (the mode)
    b:reset()
    assert(b:out(usb.ep_out, cmd("B", 0xF1)))
    assert.equal(version, b:in_(usb.ep_in, 6))      -- in step again
  end)

  it("refuses a short item without its byte count", function()
    assert.matches("bad item 'short@3'", select(2, vb.open{ state = fimg(), fault = "short@3" }), 1, true)
    assert.matches("bad item 'late@0'", select(2, vb.open{ state = fimg(), fault = "late@0" }), 1, true)
  end)
end)
